using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Modules.Duplicates.Groups;
using Modules.Duplicates.Merges;
using Modules.Leads.Public;
using Modules.Tags.Public;
using Npgsql;

namespace Modules.Duplicates.Features.MergeLeads;

/// <summary>
/// One merge, as one transaction (spec §4). Both leads are locked in a fixed (UUID) order, so A→B racing
/// B→A queue on the same first lock instead of deadlocking; whoever waits re-reads after the winner commits,
/// finds a lead gone and answers 409 <c>merge_conflict</c>. Group links, fields, notes, metadata and tags
/// move, and the tombstone that puts the duplicate's events on the survivor's timeline is written, inside the
/// same transaction, so a loser never sees — or leaves — half a merge. No event row is rewritten, so the merge
/// costs the same whatever the number of events.
/// </summary>
internal static class Merger
{
    public static ApiProblemException Conflict() => new(409, "merge_conflict", "Merge conflict",
        "Another merge or delete changed one of these leads first. Re-read both and retry if still needed.");

    public static async Task<LeadDetail> MergeAsync(NpgsqlDataSource db, Guid workspaceId, Guid survivorId, Guid duplicateId,
        bool dryRun, Actor actor, TimeProvider clock, CancellationToken ct, Microsoft.Extensions.Primitives.StringValues ifMatch = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        // IDs that are not live leads when the request starts are plain 404s (not found / merged away), the survivor's first.
        await LeadLookup.EnsureAllExistAsync(conn, workspaceId, [survivorId, duplicateId], ct);

        await using var tx = await conn.BeginTransactionAsync(ct);
        var firstId = survivorId.CompareTo(duplicateId) < 0 ? survivorId : duplicateId;
        var first = await LeadLocks.TryLockAsync(conn, tx, workspaceId, firstId, ct);
        var second = await LeadLocks.TryLockAsync(conn, tx, workspaceId, firstId == survivorId ? duplicateId : survivorId, ct);
        if (first is null || second is null) throw Conflict();
        var (survivor, duplicate) = first.Id == survivorId ? (first, second) : (second, first);
        LeadVersions.RequireMatch(ifMatch, survivor.Version);

        // Group links (this module's truth, and the list's flag with it): the survivor takes the duplicate's place if it hung
        // under it; the duplicate's own duplicates move under the survivor's primary (or the survivor), so groups stay one
        // level deep; the duplicate's own membership goes (the merge record keeps it for an unmerge).
        var survivorPrimary = survivor.DuplicateOf == duplicate.Id ? duplicate.DuplicateOf : survivor.DuplicateOf;
        var (repointed, absorbedGroup) = await GroupMembers.DetachAsync(conn, tx, duplicate.Id, ct);
        if (survivor.DuplicateOf == duplicate.Id) await GroupMembers.SetAsync(conn, tx, workspaceId, survivor.Id, survivorPrimary, null, ct);
        if (repointed.Length > 0) await GroupMembers.RepointAsync(conn, tx, workspaceId, duplicate.Id, survivorPrimary ?? survivor.Id, ct);
        await Detection.DismissedPairs.KeepApartAsync(conn, tx, workspaceId, survivorPrimary ?? survivor.Id, actor, ct);

        // Tags first: the duplicate's tag links go with its row, which the Leads absorb deletes.
        var tags = await TagMerge.AbsorbAsync(conn, tx, duplicate.Id, survivor.Id, ct);
        var tagsAdded = tags.Added;
        var absorbed = await LeadMerge.AbsorbAsync(conn, tx, survivor, duplicate, ct);
        // What an unmerge needs (spec §10): one row, the duplicate's state as a single JSON value — no event is copied.
        await MergeRecords.InsertAsync(conn, tx, new MergeRecords.Record
        {
            MergedLeadId = duplicate.Id, WorkspaceId = workspaceId, SurvivorId = survivor.Id, MergedAt = clock.GetUtcNow().UtcDateTime,
            ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
            Absorbed = absorbed.Before.Row, AbsorbedTagIds = tags.DuplicateTagIds, FilledFields = absorbed.FilledFields,
            MetadataAdded = absorbed.Before.MetadataAdded, TagsAdded = [.. tagsAdded.Select(t => t.Id)],
            RepointedDuplicates = repointed, RepointedTombstones = absorbed.RepointedTombstones, SurvivorWasUnder = survivor.DuplicateOf == duplicate.Id,
            AbsorbedPrimaryId = absorbedGroup?.PrimaryId, AbsorbedMatchedOn = absorbedGroup?.MatchedOn,
        }, ct);
        await LeadWriter.RescoreAsync(conn, tx, absorbed.Survivor, actor, ct);
        var result = await LeadReads.AppendEventThenDetailAsync(conn, tx, workspaceId, survivor.Id, LeadEvents.Merged, new
        {
            duplicateId = TypeId.Format(IdPrefix.Lead, duplicate.Id),
            filledFields = absorbed.FilledFields,
            tagsAdded = tagsAdded.Select(t => new { tagId = TypeId.Format(IdPrefix.Tag, t.Id), name = t.Name }),
            eventsMoved = absorbed.EventsMoved,
        }, actor, ct) ?? throw new InvalidOperationException("The survivor vanished inside its own merge.");
        if (dryRun) await tx.RollbackAsync(ct);
        else await tx.CommitAsync(ct);
        return result;
    }
}
