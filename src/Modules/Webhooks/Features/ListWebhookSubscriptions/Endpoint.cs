using Dapper;
using FastEndpoints;
using Kernel.Http;
using Kernel.Security;
using Modules.Webhooks.Data;
using Npgsql;

namespace Modules.Webhooks.Features.ListWebhookSubscriptions;

internal sealed class Response
{
    public IReadOnlyList<SubscriptionView> Data { get; init; } = [];
}

internal sealed class Endpoint(NpgsqlDataSource db) : EndpointWithoutRequest<Response>
{
    private const string ListSql = $"""
        SELECT {Subscriptions.ViewColumns} FROM webhooks.subscriptions WHERE workspace_id = @WorkspaceId ORDER BY created_at, id
        """;

    public override void Configure()
    {
        Get("/api/webhook-subscriptions");
        Policies(AuthPolicies.AdminRead);
        Summary(s =>
        {
            s.Summary = "List webhook subscriptions";
            s.Description = "Owner/admin. `{ data: [subscription] }`, oldest first; secrets are never shown again after creation.";
        });
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<SubscriptionView>(new CommandDefinition(ListSql, new { HttpContext.Caller().WorkspaceId }, cancellationToken: ct));
        await Send.OkAsync(new Response { Data = rows.AsList() }, ct);
    }
}
