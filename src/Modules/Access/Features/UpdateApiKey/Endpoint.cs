using FastEndpoints;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Modules.Access.Data;
using Npgsql;

namespace Modules.Access.Features.UpdateApiKey;

internal sealed class Endpoint(NpgsqlDataSource db, Modules.Access.Security.ApiKeyCache keys) : Endpoint<Request, ApiKeyView>
{
    public override void Configure()
    {
        Patch("/api/api-keys/{id}");
        Policies(AuthPolicies.AdminWrite);
        Summary(s =>
        {
            s.Summary = "Rename, deactivate or reactivate an API key";
            s.Description = "Owner/admin with a full-scope key. An owner's keys can be changed by an owner only (403 `insufficient_role` for an admin).";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        if (!TypeId.TryParse(r.Id, IdPrefix.ApiKey, out var id)) throw ApiProblemException.NotFound("api_key_not_found", "API key");
        await using var conn = await db.OpenConnectionAsync(ct);
        if (!await Data.UpdateAsync(conn, caller.WorkspaceId, id, caller.Role == MemberRoles.Owner, r.Label?.Trim(), r.Active, ct))
            throw await ApiKeysData.UnchangedAsync(conn, caller.WorkspaceId, id, ct);
        keys.Clear();
        await Send.OkAsync((await ApiKeysData.ListAsync(conn, caller.WorkspaceId, id, ct))[0], ct);
    }
}
