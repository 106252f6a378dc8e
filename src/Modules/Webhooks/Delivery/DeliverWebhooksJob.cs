using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Hangfire;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Observability;
using Microsoft.Extensions.Logging;
using Modules.Webhooks.Data;
using Modules.Webhooks.Feed;
using Npgsql;

namespace Modules.Webhooks.Delivery;

// Hangfire stores this type's full name in every enqueued job: the namespace and class name must never change.
/// <summary>
/// Delivers one subscription's events, batch after batch, in feed order, for up to <see cref="Budget"/> (then the
/// dispatcher starts it again): the oldest pending delivery is (re)sent first; with none pending the next ≤ 100 events
/// after the subscription's cursor become a pending delivery — cut and cursor advanced in one transaction — and are
/// sent. A crash between cutting and sending leaves the delivery pending: it is sent again (at least once, same
/// <c>webhook-id</c>). One run per subscription at a time (a session advisory lock), so batches never overtake.
/// </summary>
[AutomaticRetry(Attempts = 0)]
internal sealed class DeliverWebhooksJob(NpgsqlDataSource db, SecretBox secrets, WebhookSender sender, WebhookOptions options,
    TimeProvider time, ILogger<DeliverWebhooksJob> log)
{
    public const string Queue = "webhooks";
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(30);
    private const int BatchSize = 100;

    private const string LockSql = "SELECT pg_try_advisory_lock(hashtextextended('webhooks:' || @Id::text, 0))";
    private const string UnlockSql = "SELECT pg_advisory_unlock(hashtextextended('webhooks:' || @Id::text, 0))";

    private const string LoadSql = """
        SELECT id, workspace_id, url, events, active, secret, cursor_tx, cursor_position
        FROM webhooks.subscriptions WHERE id = @Id
        """;

    private const string OldestPendingSql = """
        SELECT id, event_ids, from_tx, from_position, to_tx, to_position, attempts, first_failed_at, next_attempt_at
        FROM webhooks.deliveries
        WHERE subscription_id = @Id AND status = 'pending'
        ORDER BY created_at, id
        LIMIT 1
        """;

    private const string CutSql = """
        INSERT INTO webhooks.deliveries (id, subscription_id, workspace_id, kind, event_ids, from_tx, from_position, to_tx, to_position, status)
        VALUES (@DeliveryId, @Id, @WorkspaceId, 'batch', @EventIds, @FromTx, @FromPosition, @ToTx, @ToPosition, 'pending');
        UPDATE webhooks.subscriptions SET cursor_tx = @ToTx, cursor_position = @ToPosition WHERE id = @Id;
        """;

    private const string SucceededSql = """
        UPDATE webhooks.deliveries
        SET status = 'succeeded', attempts = attempts + 1, last_status_code = @StatusCode, last_error = NULL, next_attempt_at = NULL,
            delivered_at = now()
        WHERE id = @DeliveryId;
        UPDATE webhooks.subscriptions SET next_attempt_at = NULL WHERE id = @Id;
        """;

    private const string RetrySql = """
        UPDATE webhooks.deliveries
        SET attempts = attempts + 1, last_status_code = @StatusCode, last_error = @Error, next_attempt_at = @Next,
            first_failed_at = coalesce(first_failed_at, @Now)
        WHERE id = @DeliveryId;
        UPDATE webhooks.subscriptions SET next_attempt_at = @Next WHERE id = @Id;
        """;

    private const string GiveUpSql = """
        UPDATE webhooks.deliveries
        SET status = 'failed', attempts = attempts + 1, last_status_code = @StatusCode, last_error = @Error, next_attempt_at = NULL
        WHERE id = @DeliveryId;
        UPDATE webhooks.subscriptions SET active = false, disabled_reason = @Reason, next_attempt_at = NULL, updated_at = now() WHERE id = @Id;
        """;

    private const string ReleaseSql = "UPDATE webhooks.subscriptions SET claimed_until = NULL WHERE id = @Id";

    // Classes, not positional records: Dapper matches constructors by the reader's field types, and arrays read as System.Array.
    private sealed class Subscription
    {
        public Guid Id { get; init; }
        public Guid WorkspaceId { get; init; }
        public string Url { get; init; } = "";
        public string[] Events { get; init; } = [];
        public bool Active { get; init; }
        public byte[] Secret { get; init; } = [];
        public long CursorTx { get; init; }
        public long CursorPosition { get; init; }
    }

    private sealed class Pending
    {
        public Guid Id { get; init; }
        public Guid[] EventIds { get; init; } = [];
        public long FromTx { get; init; }
        public long FromPosition { get; init; }
        public long ToTx { get; init; }
        public long ToPosition { get; init; }
        public int Attempts { get; init; }
        public DateTime? FirstFailedAt { get; init; }
        public DateTime? NextAttemptAt { get; init; }
    }

    [Queue(Queue)]
    public async Task RunAsync(Guid subscriptionId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(LockSql, new { Id = subscriptionId }, cancellationToken: ct))) return;
        try
        {
            var started = time.GetTimestamp();
            while (time.GetElapsedTime(started) < Budget && await DeliverNextAsync(conn, subscriptionId, ct)) { }
            await conn.ExecuteAsync(new CommandDefinition(ReleaseSql, new { Id = subscriptionId }, cancellationToken: ct));
        }
        finally
        {
            await conn.ExecuteAsync(new CommandDefinition(UnlockSql, new { Id = subscriptionId }, cancellationToken: CancellationToken.None));
        }
    }

    /// <summary>Sends one batch; false when there is nothing to send now (caught up, waiting out a back-off, inactive or gone).</summary>
    private async Task<bool> DeliverNextAsync(NpgsqlConnection conn, Guid id, CancellationToken ct)
    {
        var sub = await conn.QuerySingleOrDefaultAsync<Subscription>(new CommandDefinition(LoadSql, new { Id = id }, cancellationToken: ct));
        if (sub is null || !sub.Active) return false;
        var now = time.GetUtcNow().UtcDateTime;
        var pending = await conn.QuerySingleOrDefaultAsync<Pending>(new CommandDefinition(OldestPendingSql, new { Id = id }, cancellationToken: ct));
        if (pending is { NextAttemptAt: { } due } && due > now) return false;
        pending ??= await CutAsync(conn, sub, ct);
        if (pending is null) return false;

        var events = await FeedReader.ReadRangeAsync(conn, sub.WorkspaceId, new FeedCursor(pending.FromTx, pending.FromPosition),
            new FeedCursor(pending.ToTx, pending.ToPosition), pending.EventIds, ct);
        var body = JsonSerializer.Serialize(new JsonObject
        {
            ["type"] = "batch",
            ["events"] = JsonSerializer.SerializeToNode(events.Select(FeedReader.ToEvent).ToList(), JsonConventions.Options),
        }, JsonConventions.Options);
        var messageId = TypeId.Format(WebhookIds.Delivery, pending.Id);
        var result = await sender.SendAsync(sub.Url, await secrets.OpenAsync(sub.Id, sub.Secret, ct), messageId, body, ct);
        if (result.Delivered)
        {
            await conn.ExecuteAsync(new CommandDefinition(SucceededSql, new { DeliveryId = pending.Id, Id = id, result.StatusCode }, cancellationToken: ct));
            LeadsTelemetry.WebhookDelivered("succeeded");
            return true;
        }
        var failedSince = pending.FirstFailedAt ?? now;
        if (now - failedSince >= options.GiveUpAfter)
        {
            var reason = $"Deliveries failed for {options.GiveUpAfter.TotalDays:0.#} days (last: {result.Error}); disabled at {now:yyyy-MM-ddTHH:mm:ssZ}.";
            await conn.ExecuteAsync(new CommandDefinition(GiveUpSql,
                new { DeliveryId = pending.Id, Id = id, result.StatusCode, result.Error, Reason = reason }, cancellationToken: ct));
            LeadsTelemetry.WebhookDelivered("failed");
            log.LogWarning("Webhook subscription {SubscriptionId} disabled after {Days} days of failed deliveries",
                TypeId.Format(WebhookIds.Subscription, id), options.GiveUpAfter.TotalDays);
            return false;
        }
        var next = now + Backoff.After(pending.Attempts + 1, Random.Shared.NextDouble());
        await conn.ExecuteAsync(new CommandDefinition(RetrySql,
            new { DeliveryId = pending.Id, Id = id, result.StatusCode, result.Error, Next = next, Now = now }, cancellationToken: ct));
        LeadsTelemetry.WebhookDelivered("retrying");
        return false;
    }

    private async Task<Pending?> CutAsync(NpgsqlConnection conn, Subscription sub, CancellationToken ct)
    {
        var rows = await FeedReader.ReadAsync(conn, sub.WorkspaceId, new FeedCursor(sub.CursorTx, sub.CursorPosition), BatchSize, sub.Events, ct);
        if (rows.Count == 0) return null;
        var p = new Pending
        {
            Id = Guid.CreateVersion7(), EventIds = rows.Select(r => r.Id).ToArray(), FromTx = rows[0].TxId, FromPosition = rows[0].Position,
            ToTx = rows[^1].TxId, ToPosition = rows[^1].Position,
        };
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(CutSql, new
        {
            DeliveryId = p.Id, sub.Id, sub.WorkspaceId, p.EventIds, p.FromTx, p.FromPosition, p.ToTx, p.ToPosition,
        }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return p;
    }
}
