using Dapper;
using FastEndpoints;
using Kernel.Http;
using Kernel.Security;
using Modules.Webhooks.Data;
using Npgsql;

namespace Modules.Webhooks.Features.DeleteWebhookSubscription;

internal sealed class Request
{
    /// <summary>The subscription's ID (<c>whs_…</c>).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request>
{
    private const string DeleteSql = "DELETE FROM webhooks.subscriptions WHERE id = @Id AND workspace_id = @WorkspaceId";

    public override void Configure()
    {
        Delete("/api/webhook-subscriptions/{id}");
        Policies(AuthPolicies.AdminWrite);
        Summary(s =>
        {
            s.Summary = "Delete a webhook subscription";
            s.Description = "Owner/admin with a full-scope key. 204; no further delivery starts, and its delivery log goes with it. " +
                "404 `subscription_not_found` for an unknown or other workspace's ID.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var id = Subscriptions.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        if (await conn.ExecuteAsync(new CommandDefinition(DeleteSql, new { Id = id, HttpContext.Caller().WorkspaceId }, cancellationToken: ct)) == 0)
            throw Subscriptions.NotFound();
        await Send.NoContentAsync(ct);
    }
}
