using Microsoft.AspNetCore.Http;
using FastEndpoints;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Modules.Access.Public;
using Npgsql;

namespace Modules.Access.Features.DeleteUser;

internal sealed class Request
{
    /// <summary>The member's ID (<c>usr_…</c>).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db, IEnumerable<IMemberRemovalParticipant> participants, Modules.Access.Security.ApiKeyCache keys) : Endpoint<Request>
{
    public override void Configure()
    {
        Delete("/api/users/{id}");
        Policies(AuthPolicies.AdminWrite);
        Description(b => b.Produces<ProblemBody>(409, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Remove a member";
            s.Description = "Owner/admin with a full-scope key. The member's leads become unassigned and the member's API keys stop working. " +
                            "Only an owner may remove an owner; the last owner cannot be removed (409 `last_owner`).";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        if (!TypeId.TryParse(r.Id, IdPrefix.User, out var id)) throw ApiProblemException.NotFound("user_not_found", "User");
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var locked = await Data.LockAsync(conn, tx, caller.WorkspaceId, id, ct);
        var target = locked.FirstOrDefault(m => m.Id == id) ?? throw ApiProblemException.NotFound("user_not_found", "User");
        if (target.Role == MemberRoles.Owner)
        {
            if (caller.Role != MemberRoles.Owner)
                throw new ApiProblemException(403, ProblemCodes.InsufficientRole, "Insufficient role", "Only an owner may remove an owner.");
            if (locked.Count(m => m.Role == MemberRoles.Owner) == 1)
                throw new ApiProblemException(409, "last_owner", "Last owner", "A workspace must keep at least one owner.");
        }
        await Data.SoftDeleteAsync(conn, tx, id, ct);
        foreach (var p in participants) await p.OnMemberRemovedAsync(conn, tx, caller.WorkspaceId, id, Actor.ApiKey(caller), ct);
        await tx.CommitAsync(ct);
        keys.Clear();
        await Send.NoContentAsync(ct);
    }
}
