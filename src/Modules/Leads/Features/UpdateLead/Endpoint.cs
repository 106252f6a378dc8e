using Microsoft.AspNetCore.Builder;
using System.Text.Json.Nodes;
using FastEndpoints;
using Kernel.Data;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Microsoft.AspNetCore.Http;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.UpdateLead;

/// <summary>
/// <c>PATCH /api/leads/:id</c> (spec §9): a JSON merge patch of the lead's fields, run through the same intake rules as
/// creation, in one transaction with its <c>lead_updated</c> event, the rescoring and — when a match key changed —
/// duplicate re-detection. The list's counters, change log and cache see it through the table's triggers, like any write.
/// </summary>
internal sealed class Endpoint(NpgsqlDataSource db, IEnumerable<IDuplicateDetector> detectors) : EndpointWithoutRequest<LeadDetail>
{
    public override void Configure()
    {
        Patch("/api/leads/{id}");
        Options(b => b.WithMetadata(new EntityTagged(acceptsIfMatch: true)));
        Policies(AuthPolicies.Write);
        Description(b => b
            .Accepts<PatchDocument>("application/merge-patch+json", "application/json"));
        Summary(s =>
        {
            s.Summary = "Edit a lead";
            s.Description = "A JSON Merge Patch (RFC 7396) of `email`, `firstName`, `lastName`, `phone`, `company`, `sourceId` and `metadata`: " +
                            "an absent member stays, `null` clears it; `metadata` merges key by key (a key set to null is removed). The same intake " +
                            "rules as creation apply (a phone never refuses the edit); a patch leaving no email, phone or name is a 400. One " +
                            "`lead_updated` event lists each changed field `{from, to}` (metadata: the changed keys); the score is recomputed " +
                            "(`score_changed`), and when the email or phone changes duplicate detection runs again (`duplicate_flagged` into an older " +
                            "group, `duplicate_cleared` when it no longer matches its group). 200 with the full lead and its `ETag`; `If-Match` with a " +
                            "stale ETag is a 412 `precondition_failed` (with the current `ETag`) and changes nothing.";
        });
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = LeadLookup.ParseOrNotFound(Route<string>("id", isRequired: false) ?? "");
        var patch = await LeadPatch.ReadAsync(HttpContext.Request, ct);
        var ifMatch = HttpContext.Request.Headers.IfMatch;
        var lead = await Retry.OnConflictAsync(() => EditAsync(caller, id, patch, ifMatch, ct),
            _ => new ApiProblemException(409, ProblemCodes.Conflict, "Conflict", "Concurrent writes kept changing this lead's group. Retry."));
        await Send.OkAsync(lead.WithETag(HttpContext.Response), ct);
    }

    private async Task<LeadDetail> EditAsync(Caller caller, Guid id, LeadPatch patch, Microsoft.Extensions.Primitives.StringValues ifMatch, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var lead = await LeadLookup.LockForEditAsync(conn, tx, caller.WorkspaceId, id, ct, ifMatch);
        var extra = await Data.ExtraAsync(conn, tx, id, ct);
        var edit = await Edit.PrepareAsync(conn, tx, caller.WorkspaceId, lead, extra, patch, ct);
        if (edit.Changes.Count > 0)
        {
            var actor = Actor.ApiKey(caller);
            await Data.UpdateAsync(conn, tx, edit.UpdateArgs(id), ct);
            await LeadEvents.AppendAsync(conn, tx, caller.WorkspaceId, id, LeadEvents.LeadUpdated, new { changes = edit.Changes }, actor, ct);
            await LeadWriter.RescoreAsync(conn, tx, edit.After, actor, ct);
            if (edit.KeysChanged) await RegroupAsync(conn, tx, caller.WorkspaceId, edit.After, extra.CreatedAt, actor, ct);
        }
        var detail = await LeadReads.DetailAsync(conn, caller.WorkspaceId, id, ct, tx)
            ?? throw new InvalidOperationException("The lead vanished inside its own edit.");
        await tx.CommitAsync(ct);
        return detail;
    }

    /// <summary>Duplicate detection again for new match keys; the Duplicates module decides and records the group (and the flag), this writes the events.</summary>
    private async Task RegroupAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, LeadRow lead, DateTime createdAt, Actor actor, CancellationToken ct)
    {
        var detector = detectors.FirstOrDefault();
        if (detector is null) return;
        var match = await detector.RedetectAsync(conn, tx, workspaceId,
            new EditedLeadKeys(lead.Id, createdAt, lead.Email?.ToLowerInvariant(), lead.PhoneE164, lead.DuplicateOf), ct);
        if (match?.PrimaryId == lead.DuplicateOf) return;
        if (lead.DuplicateOf is { } old)
            await LeadEvents.AppendAsync(conn, tx, workspaceId, lead.Id, LeadEvents.DuplicateCleared,
                new { primaryId = TypeId.Format(IdPrefix.Lead, old) }, actor, ct);
        if (match is null) return;
        await LeadEvents.AppendAsync(conn, tx, workspaceId, lead.Id, LeadEvents.DuplicateFlagged, LeadEvents.DuplicateFlaggedData(match), actor, ct);
    }
}
