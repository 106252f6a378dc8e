using FastEndpoints;
using Kernel.Data;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Modules.Duplicates.Detection;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Duplicates.Features.MarkNotDuplicate;

internal sealed class Request
{
    /// <summary>The flagged lead (<c>lead_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

/// <summary>
/// <c>POST /api/leads/:id/not-duplicate</c> (spec §10): the lead leaves its group and becomes a primary, and the pair
/// (lead, its primary) is remembered so detection never flags the two against each other again.
/// </summary>
internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, LeadDetail>
{
    public override void Configure()
    {
        Post("/api/leads/{id}/not-duplicate");
        Options(b => b.WithMetadata(new EntityTagged(acceptsIfMatch: true)));
        Policies(AuthPolicies.Write);
        Description(b => b.Produces<ProblemBody>(409, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Mark a flagged lead as not a duplicate";
            s.Description = "The lead leaves its duplicate group and becomes a primary; the pair (this lead, its former primary) is remembered, and " +
                            "duplicate detection never flags either against the other again — on edits, API and webhook intake and CSV imports (a new " +
                            "lead that matches this lead on a key the former primary lacks is not flagged under that primary either). A " +
                            "`duplicate_dismissed` event `{primaryId, duplicateId}` is written on both leads. 200 with the full lead and its `ETag`; " +
                            "409 `not_flagged` when the lead is not a duplicate; `If-Match` with a stale ETag is a 412 `precondition_failed`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = LeadLookup.ParseOrNotFound(r.Id);
        var lead = await Retry.OnConflictAsync(() => DismissAsync(caller.WorkspaceId, id, Actor.ApiKey(caller), HttpContext.Request.Headers.IfMatch, ct),
            _ => new ApiProblemException(409, ProblemCodes.Conflict, "Conflict", "Concurrent writes kept changing this lead's group. Retry."));
        await Send.OkAsync(lead.WithETag(HttpContext.Response), ct);
    }

    private async Task<LeadDetail> DismissAsync(Guid workspaceId, Guid id, Actor actor, StringValues ifMatch, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            // The primary as it is now, then both leads locked in UUID order (as a merge locks them), then checked again:
            // a merge or delete that re-pointed the lead meanwhile sends us round once more.
            var seen = await Data.PrimaryOfAsync(conn, workspaceId, id, ct) ?? throw await LeadLookup.MissingAsync(conn, null, workspaceId, id, ct);
            if (seen.DuplicateOf is not { } primaryId) throw NotFlagged(id);

            await using var tx = await conn.BeginTransactionAsync(ct);
            var (firstId, secondId) = id.CompareTo(primaryId) < 0 ? (id, primaryId) : (primaryId, id);
            var first = await LeadLocks.TryLockAsync(conn, tx, workspaceId, firstId, ct);
            var second = await LeadLocks.TryLockAsync(conn, tx, workspaceId, secondId, ct);
            var lead = firstId == id ? first : second;
            if (lead is null) throw await LeadLookup.MissingAsync(conn, tx, workspaceId, id, ct);
            LeadVersions.RequireMatch(ifMatch, lead.Version);
            if (lead.DuplicateOf is null) throw NotFlagged(id);
            if (lead.DuplicateOf != primaryId || first is null || second is null) continue;

            await DismissedPairs.RecordAsync(conn, tx, workspaceId, id, primaryId, ct);
            await Groups.GroupMembers.SetAsync(conn, tx, workspaceId, id, null, null, ct);
            var data = new { primaryId = TypeId.Format(IdPrefix.Lead, primaryId), duplicateId = TypeId.Format(IdPrefix.Lead, id) };
            await LeadEvents.AppendAsync(conn, tx, workspaceId, primaryId, LeadEvents.DuplicateDismissed, data, actor, ct);
            var detail = await LeadReads.AppendEventThenDetailAsync(conn, tx, workspaceId, id, LeadEvents.DuplicateDismissed, data, actor, ct)
                ?? throw new InvalidOperationException("The lead vanished inside its own dismissal.");
            await tx.CommitAsync(ct);
            return detail;
        }
        throw new ApiProblemException(409, ProblemCodes.Conflict, "Conflict", "Concurrent writes kept changing this lead's group. Retry.");
    }

    private static ApiProblemException NotFlagged(Guid id) => new(409, "not_flagged", "Lead is not a duplicate",
        $"{TypeId.Format(IdPrefix.Lead, id)} is not flagged as a duplicate of another lead, so there is nothing to dismiss.");
}
