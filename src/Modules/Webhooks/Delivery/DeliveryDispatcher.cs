using Dapper;
using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Modules.Webhooks.Delivery;

/// <summary>
/// Every second, finds the subscriptions with something to send now (a due pending delivery, or readable feed events
/// past their cursor) that no job is working on, leases them (<c>claimed_until</c>, one atomic update, so several
/// worker nodes never start two jobs for one subscription) and enqueues one <see cref="DeliverWebhooksJob"/> each
/// on the <c>webhooks</c> queue. A job that dies leaves its lease to expire after two minutes; then it is started again.
/// </summary>
internal sealed class DeliveryDispatcher(NpgsqlDataSource db, IBackgroundJobClient jobs, ILogger<DeliveryDispatcher> log) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private const string ClaimSql = """
        UPDATE webhooks.subscriptions s SET claimed_until = now() + interval '2 minutes'
        WHERE s.id IN (
            SELECT c.id FROM webhooks.subscriptions c
            WHERE c.active
              AND (c.claimed_until IS NULL OR c.claimed_until < now())
              AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= now())
              AND (EXISTS (SELECT 1 FROM webhooks.deliveries d
                           WHERE d.subscription_id = c.id AND d.status = 'pending' AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now()))
                   OR EXISTS (SELECT 1 FROM webhooks.feed_events f
                              WHERE f.workspace_id = c.workspace_id
                                AND (f.tx_id, f.position) > (c.cursor_tx::text::xid8, c.cursor_position)
                                AND f.tx_id < pg_snapshot_xmin(pg_current_snapshot())
                                AND f.type = ANY (c.events)))
            ORDER BY c.id
            LIMIT 100
            FOR UPDATE SKIP LOCKED)
          AND (s.claimed_until IS NULL OR s.claimed_until < now())
        RETURNING s.id
        """;

    private const string UnclaimSql = "UPDATE webhooks.subscriptions SET claimed_until = NULL WHERE id = @Id";

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(stop);
                foreach (var id in await conn.QueryAsync<Guid>(new CommandDefinition(ClaimSql, cancellationToken: stop)))
                {
                    try
                    {
                        jobs.Enqueue<DeliverWebhooksJob>(DeliverWebhooksJob.Queue, j => j.RunAsync(id, CancellationToken.None));
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        await conn.ExecuteAsync(new CommandDefinition(UnclaimSql, new { Id = id }, cancellationToken: stop));
                        throw;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                log.LogWarning("Webhook dispatch failed, retrying in a second: {Message}", e.Message);
            }
        }
    }
}
