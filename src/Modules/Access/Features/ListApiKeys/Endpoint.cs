using FastEndpoints;
using Kernel.Http;
using Kernel.Security;
using Modules.Access.Data;
using Npgsql;

namespace Modules.Access.Features.ListApiKeys;

internal sealed class Endpoint(NpgsqlDataSource db) : EndpointWithoutRequest<IReadOnlyList<ApiKeyView>>
{
    public override void Configure()
    {
        Get("/api/api-keys");
        Policies(AuthPolicies.AdminRead);
        Summary(s =>
        {
            s.Summary = "List the workspace's API keys";
            s.Description = "Owner/admin only. Shows each key's 12-character display prefix, never the secret.";
        });
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await Send.OkAsync(await ApiKeysData.ListAsync(conn, HttpContext.Caller().WorkspaceId, null, ct), ct);
    }
}
