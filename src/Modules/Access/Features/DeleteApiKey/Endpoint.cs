using FastEndpoints;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Npgsql;

namespace Modules.Access.Features.DeleteApiKey;

internal sealed class Request
{
    /// <summary>The key's ID (<c>key_…</c>).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db, Modules.Access.Security.ApiKeyCache keys) : Endpoint<Request>
{
    public override void Configure()
    {
        Delete("/api/api-keys/{id}");
        Policies(AuthPolicies.AdminWrite);
        Summary(s =>
        {
            s.Summary = "Delete an API key; it stops working on its next request to this node, on every node within Auth:KeyCacheSeconds (2 s)";
            s.Description = "Owner/admin with a full-scope key. An owner's keys can be deleted by an owner only (403 `insufficient_role` for an admin).";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        if (!TypeId.TryParse(r.Id, IdPrefix.ApiKey, out var id)) throw ApiProblemException.NotFound("api_key_not_found", "API key");
        await using var conn = await db.OpenConnectionAsync(ct);
        var caller = HttpContext.Caller();
        if (!await Data.DeleteAsync(conn, caller.WorkspaceId, id, caller.Role == MemberRoles.Owner, ct))
            throw await Modules.Access.Data.ApiKeysData.UnchangedAsync(conn, caller.WorkspaceId, id, ct);
        keys.Clear();
        await Send.NoContentAsync(ct);
    }
}
