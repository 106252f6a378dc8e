using Dapper;
using FastEndpoints;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Microsoft.AspNetCore.Http;
using Modules.Webhooks.Data;
using Npgsql;

namespace Modules.Webhooks.Features.RedeliverWebhook;

internal sealed class Request
{
    /// <summary>The subscription's ID (<c>whs_…</c>).</summary>
    [RouteParam] public string Id { get; init; } = "";

    /// <summary>The delivery's ID (<c>whd_…</c>).</summary>
    [RouteParam] public string DeliveryId { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, DeliveryView>
{
    // Back to pending with a fresh attempt count: it is sent again, under the same webhook-id (receivers de-duplicate
    // by it), ahead of newer batches of the subscription.
    private const string RequeueSql = """
        UPDATE webhooks.deliveries
        SET status = 'pending', attempts = 0, next_attempt_at = NULL, first_failed_at = NULL, delivered_at = NULL
        WHERE id = @Id AND subscription_id = @SubscriptionId AND kind = 'batch'
        """;

    private const string WakeSql = "UPDATE webhooks.subscriptions SET next_attempt_at = NULL WHERE id = @Id AND active";

    public override void Configure()
    {
        Post("/api/webhook-subscriptions/{id}/deliveries/{deliveryId}/redeliver");
        Policies(AuthPolicies.AdminWrite);
        Description(b => b.ClearDefaultProduces(200).Produces<DeliveryView>(202, "application/json").Produces<ProblemBody>(409, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Send a delivery again";
            s.Description = "Owner/admin with a full-scope key. 202 with the delivery, back to `pending`: its batch is sent again (same " +
                "`webhook-id`, the same events) before the subscription's newer batches, as soon as the subscription is active. " +
                "409 `ping_not_redeliverable` for a test ping. 404 for an unknown delivery or subscription.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = Subscriptions.ParseOrNotFound(r.Id);
        var deliveryId = TypeId.TryParse(r.DeliveryId, WebhookIds.Delivery, out var d) ? d : throw DeliveryNotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await Subscriptions.RequireAsync(conn, caller.WorkspaceId, id, ct, tx);
        var existing = await Subscriptions.DeliveryAsync(conn, id, deliveryId, ct) ?? throw DeliveryNotFound();
        if (existing.Kind == "ping")
            throw new ApiProblemException(409, "ping_not_redeliverable", "A test ping is not redelivered", "Send a new one with POST …/test.");
        await conn.ExecuteAsync(new CommandDefinition(RequeueSql, new { Id = deliveryId, SubscriptionId = id }, tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(WakeSql, new { Id = id }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        HttpContext.Response.Headers.Location = $"/api/webhook-subscriptions/{r.Id}/deliveries";
        await Send.ResponseAsync((await Subscriptions.DeliveryAsync(conn, id, deliveryId, ct))!, StatusCodes.Status202Accepted, ct);
    }

    private static ApiProblemException DeliveryNotFound() => ApiProblemException.NotFound("delivery_not_found", "Delivery");
}
