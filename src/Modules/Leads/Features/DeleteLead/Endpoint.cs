using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Dapper;
using FastEndpoints;
using Kernel.Data;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.DeleteLead;

internal sealed class Endpoint(NpgsqlDataSource db, IEnumerable<ILeadDeletionParticipant> participants) : Endpoint<Request>
{
    public override void Configure()
    {
        Delete("/api/leads/{id}");
        Options(b => b.WithMetadata(new EntityTagged(acceptsIfMatch: true)));
        Policies(AuthPolicies.Write);
        Description(b => b.Produces<ProblemBody>(409, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Delete a lead for good";
            s.Description = "204. The lead, its events (with those of leads merged into it), tag links and duplicate links are gone; deleting a primary promotes its oldest duplicate." +
                            "`If-Match` with a stale ETag (of `:id`) is a 412 `precondition_failed` carrying the current `ETag`; nothing changes.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = LeadLookup.ParseOrNotFound(r.Id);
        await Retry.OnConflictAsync(() => DeleteAsync(caller.WorkspaceId, id, ct), _ => Gone());
        await Send.NoContentAsync(ct);
    }

    private async Task<bool> DeleteAsync(Guid workspaceId, Guid id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await LeadLookup.EnsureExistsAsync(conn, workspaceId, id, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // Live a moment ago but gone once locked: a concurrent merge or delete won.
        var lead = await LeadLocks.TryLockAsync(conn, tx, workspaceId, id, ct) ?? throw Gone();
        LeadVersions.RequireMatch(HttpContext.Request.Headers.IfMatch, lead.Version);
        foreach (var p in participants) await p.OnLeadDeletingAsync(conn, tx, lead, ct);
        await Data.DeleteAsync(conn, tx, id, ct);
        await tx.CommitAsync(ct);
        return true;
    }

    private static ApiProblemException Gone() => new(409, "merge_conflict", "Conflict",
        "A concurrent merge or delete changed this lead first. Re-read it.");
}
