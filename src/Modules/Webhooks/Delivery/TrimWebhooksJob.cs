using Dapper;
using Hangfire;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Modules.Webhooks.Delivery;

// Hangfire stores this type's full name in the recurring job: the namespace and class name must never change.
/// <summary>
/// Retention (spec §13: 30 days, <c>Webhooks:RetentionDays</c>): deletes feed events and finished deliveries older than
/// that, in slices of 10,000 rows so no statement holds locks or bloats WAL for long. Recurring, hourly; safe to run twice.
/// </summary>
internal sealed class TrimWebhooksJob(NpgsqlDataSource db, WebhookOptions options, ILogger<TrimWebhooksJob> log)
{
    public const string RecurringId = "webhooks-retention";

    private const string TrimEventsSql = """
        DELETE FROM webhooks.feed_events f
        USING (SELECT workspace_id, tx_id, position FROM webhooks.feed_events
               WHERE occurred_at < now() - make_interval(days => @Days) LIMIT 10000) old
        WHERE f.workspace_id = old.workspace_id AND f.tx_id = old.tx_id AND f.position = old.position
        """;

    private const string TrimDeliveriesSql = """
        DELETE FROM webhooks.deliveries
        WHERE id IN (SELECT id FROM webhooks.deliveries
                     WHERE created_at < now() - make_interval(days => @Days) AND status <> 'pending' LIMIT 10000)
        """;

    [Queue(DeliverWebhooksJob.Queue)]
    [AutomaticRetry(Attempts = 2)]
    public async Task RunAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        long events = 0, deliveries = 0;
        int n;
        while ((n = await conn.ExecuteAsync(new CommandDefinition(TrimEventsSql, new { Days = options.RetentionDays }, cancellationToken: ct))) > 0)
            events += n;
        while ((n = await conn.ExecuteAsync(new CommandDefinition(TrimDeliveriesSql, new { Days = options.RetentionDays }, cancellationToken: ct))) > 0)
            deliveries += n;
        if (events + deliveries > 0)
            log.LogInformation("Webhook retention removed {Events} feed events and {Deliveries} deliveries", events, deliveries);
    }
}
