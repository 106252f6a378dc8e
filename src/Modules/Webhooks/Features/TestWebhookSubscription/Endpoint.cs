using System.Text.Json;
using Dapper;
using FastEndpoints;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Observability;
using Kernel.Security;
using Modules.Webhooks.Data;
using Modules.Webhooks.Delivery;
using Npgsql;

namespace Modules.Webhooks.Features.TestWebhookSubscription;

internal sealed class Request
{
    /// <summary>The subscription's ID (<c>whs_…</c>).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db, SecretBox secrets, WebhookSender sender, TimeProvider time) : Endpoint<Request, DeliveryView>
{
    private const string LoadSql = "SELECT url, secret FROM webhooks.subscriptions WHERE id = @Id AND workspace_id = @WorkspaceId";

    private const string RecordSql = """
        INSERT INTO webhooks.deliveries (id, subscription_id, workspace_id, kind, event_ids, status, attempts, last_status_code, last_error,
                                         delivered_at)
        VALUES (@DeliveryId, @Id, @WorkspaceId, 'ping', '{}', @Status, 1, @StatusCode, @Error, CASE WHEN @Status = 'succeeded' THEN now() END)
        """;

    public override void Configure()
    {
        Post("/api/webhook-subscriptions/{id}/test");
        Policies(AuthPolicies.AdminWrite);
        Summary(s =>
        {
            s.Summary = "Send a test ping";
            s.Description = "Owner/admin with a full-scope key. POSTs `{type: \"ping\", subscriptionId, occurredAt}`, signed like every " +
                "delivery, to the subscription's URL now (10 s timeout, even when the subscription is paused), and answers 200 with the " +
                "attempt as a delivery of kind `ping`: `succeeded` on a 2xx, else `failed` with `lastStatusCode`/`lastError`. A ping is " +
                "not retried and does not hold back the subscription's batches.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = Subscriptions.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        var sub = await conn.QuerySingleOrDefaultAsync<(string Url, byte[] Secret)>(new CommandDefinition(LoadSql,
            new { Id = id, caller.WorkspaceId }, cancellationToken: ct));
        if (sub.Url is null) throw Subscriptions.NotFound();
        var deliveryId = Guid.CreateVersion7();
        var body = JsonSerializer.Serialize(new
        {
            type = "ping",
            subscriptionId = TypeId.Format(WebhookIds.Subscription, id),
            occurredAt = time.GetUtcNow().UtcDateTime,
        }, JsonConventions.Options);
        var result = await sender.SendAsync(sub.Url, await secrets.OpenAsync(id, sub.Secret, ct),
            TypeId.Format(WebhookIds.Delivery, deliveryId), body, ct);
        LeadsTelemetry.WebhookDelivered(result.Delivered ? "succeeded" : "failed");
        await conn.ExecuteAsync(new CommandDefinition(RecordSql, new
        {
            DeliveryId = deliveryId, Id = id, caller.WorkspaceId, Status = result.Delivered ? "succeeded" : "failed", result.StatusCode, result.Error,
        }, cancellationToken: ct));
        await Send.OkAsync((await Subscriptions.DeliveryAsync(conn, id, deliveryId, ct))!, ct);
    }
}
