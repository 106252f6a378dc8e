using Dapper;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Microsoft.Extensions.Primitives;
using Modules.Duplicates.Groups;
using Modules.Duplicates.Merges;
using Modules.Leads.Public;
using Modules.Tags.Public;
using Npgsql;

namespace Modules.Duplicates.Features.UnmergeLead;

/// <summary>
/// One unmerge, as one transaction (spec §10). The survivor is locked first — the lock every merge into it, and its
/// delete, take — so an unmerge and a new merge into the survivor, or its delete, queue: whoever comes second re-reads
/// (a later merge → 409 <c>unmerge_order</c>; a deleted survivor → 404). The merge record is then locked, checked
/// (expired, later merges), and undone by the owners' intents: Leads restores the row and takes back the fold, Tags the
/// links; the group links the merge re-pointed go back under the restored lead.
/// </summary>
internal static class Unmerger
{
    public static async Task<Response> UnmergeAsync(NpgsqlDataSource db, TimeProvider clock, Guid workspaceId, Guid survivorId, Guid mergedId, Actor actor,
        StringValues ifMatch, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await LeadLookup.EnsureExistsAsync(conn, workspaceId, survivorId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var survivor = await LeadLocks.TryLockAsync(conn, tx, workspaceId, survivorId, ct) ?? throw await LeadLookup.MissingAsync(conn, tx, workspaceId, survivorId, ct);
        LeadVersions.RequireMatch(ifMatch, survivor.Version);
        var record = await MergeRecords.FindAsync(conn, tx, workspaceId, survivorId, mergedId, forUpdate: true, ct) ?? throw NotFound();
        var until = record.MergedAt + MergeRecords.Undoable;
        if (clock.GetUtcNow().UtcDateTime > until)
            throw new ApiProblemException(409, "unmerge_expired", "Merge can no longer be undone",
                $"Merges can be undone for 30 days; this one could be undone until {until:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}.");
        if (await MergeRecords.LaterAsync(conn, tx, record, ct) is { } later)
            throw new ApiProblemException(409, "unmerge_order", "A later merge must be undone first",
                $"{TypeId.Format(IdPrefix.Lead, later)} was merged into this lead later; undo that merge first.");

        // The restored lead goes back under its primary if that is still a live primary; else it stands alone.
        var primary = record.AbsorbedPrimaryId is { } p && await GroupMembers.IsLivePrimaryAsync(conn, tx, workspaceId, p, ct) ? p : (Guid?)null;
        var after = await LeadMerge.RestoreAsync(conn, tx, workspaceId, survivorId, mergedId,
            new LeadMerge.GivenBack(record.Absorbed, record.FilledFields, record.MetadataAdded, record.RepointedTombstones), primary, ct);
        if (primary is { } restoredUnder) await GroupMembers.RecordAsync(conn, tx, workspaceId, mergedId, restoredUnder, record.AbsorbedMatchedOn ?? [], ct);
        await TagMerge.UndoAbsorbAsync(conn, tx, mergedId, record.AbsorbedTagIds, survivorId, record.TagsAdded, ct);
        await RelinkAsync(conn, tx, record, survivor, ct);
        await MergeRecords.DeleteAsync(conn, tx, mergedId, ct);
        await LeadWriter.RescoreAsync(conn, tx, after, actor, ct);

        var survivorData = new { mergedLeadId = TypeId.Format(IdPrefix.Lead, mergedId) };
        var restoredData = new { survivorId = TypeId.Format(IdPrefix.Lead, survivorId) };
        var restored = await LeadReads.AppendEventThenDetailAsync(conn, tx, workspaceId, mergedId, LeadEvents.Unmerged, restoredData, actor, ct)
            ?? throw new InvalidOperationException("The restored lead is missing inside its own unmerge.");
        var back = await LeadReads.AppendEventThenDetailAsync(conn, tx, workspaceId, survivorId, LeadEvents.Unmerged, survivorData, actor, ct)
            ?? throw new InvalidOperationException("The survivor vanished inside its own unmerge.");
        await tx.CommitAsync(ct);
        return new Response(back, restored);
    }

    // The restored lead's own duplicates went under the survivor's group; those still there come back under it. If the
    // survivor hung under the restored lead (it took its place), it goes back under it with whatever duplicates it now has.
    private static async Task RelinkAsync(NpgsqlConnection conn, NpgsqlTransaction tx, MergeRecords.Record record, LeadRow survivor, CancellationToken ct)
    {
        var target = survivor.DuplicateOf ?? survivor.Id;
        await GroupMembers.MoveAsync(conn, tx, record.WorkspaceId, record.RepointedDuplicates, target, record.MergedLeadId, ct);
        if (record.SurvivorWasUnder && survivor.DuplicateOf is null)
        {
            await GroupMembers.SetAsync(conn, tx, record.WorkspaceId, survivor.Id, record.MergedLeadId, null, ct);
            await GroupMembers.RepointAsync(conn, tx, record.WorkspaceId, survivor.Id, record.MergedLeadId, ct);
        }
    }

    private static ApiProblemException NotFound() => new(404, "merge_not_found", "Merge not found",
        "mergedLeadId was not merged into this lead, or that merge was already undone (GET /api/leads/:id/merges lists the merges that can be).");
}
