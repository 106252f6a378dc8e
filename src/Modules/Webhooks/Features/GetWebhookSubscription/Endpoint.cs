using FastEndpoints;
using Kernel.Http;
using Kernel.Security;
using Modules.Webhooks.Data;
using Npgsql;

namespace Modules.Webhooks.Features.GetWebhookSubscription;

internal sealed class Request
{
    /// <summary>The subscription's ID (<c>whs_…</c>).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, SubscriptionView>
{
    public override void Configure()
    {
        Get("/api/webhook-subscriptions/{id}");
        Policies(AuthPolicies.AdminRead);
        Summary(s =>
        {
            s.Summary = "Get a webhook subscription";
            s.Description = "Owner/admin. The subscription without its secret; 404 `subscription_not_found` for an unknown or other workspace's ID.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var id = Subscriptions.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        await Send.OkAsync(await Subscriptions.RequireAsync(conn, HttpContext.Caller().WorkspaceId, id, ct), ct);
    }
}
