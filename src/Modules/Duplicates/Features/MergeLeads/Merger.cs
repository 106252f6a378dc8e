using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
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

        // Group links: the survivor takes the duplicate's place if it hung under it; the duplicate's own
        // duplicates move under the survivor's primary (or the survivor), so groups stay one level deep.
        var survivorPrimary = survivor.DuplicateOf == duplicate.Id ? duplicate.DuplicateOf : survivor.DuplicateOf;
        var repointed = await Data.DuplicatesOfAsync(conn, tx, duplicate.Id, ct);
        if (survivor.DuplicateOf == duplicate.Id) await DuplicateLinks.LinkAsync(conn, tx, survivor.Id, survivorPrimary, ct);
        await DuplicateLinks.RepointAsync(conn, tx, duplicate.Id, survivorPrimary ?? survivor.Id, ct);
        await Detection.DismissedPairs.KeepApartAsync(conn, tx, workspaceId, survivorPrimary ?? survivor.Id, actor, ct);

        var folded = await LeadMerge.FoldAsync(conn, tx, survivor, duplicate, ct);
        var tags = await TagMerge.AbsorbAsync(conn, tx, duplicate.Id, survivor.Id, ct);
        var tagsAdded = tags.Added;
        var tombstones = await LeadMerge.RetireAsync(conn, tx, workspaceId, duplicate.Id, survivor.Id, ct);
        // What an unmerge needs (spec §10): one row, the duplicate's state as a single JSON value — no event is copied.
        await MergeRecords.InsertAsync(conn, tx, new MergeRecords.Record
        {
            MergedLeadId = duplicate.Id, WorkspaceId = workspaceId, SurvivorId = survivor.Id, MergedAt = clock.GetUtcNow().UtcDateTime,
            ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
            Absorbed = folded.Before.Row, AbsorbedTagIds = tags.DuplicateTagIds, FilledFields = folded.FilledFields,
            MetadataAdded = folded.Before.MetadataAdded, TagsAdded = [.. tagsAdded.Select(t => t.Id)],
            RepointedDuplicates = repointed, RepointedTombstones = tombstones, SurvivorWasUnder = survivor.DuplicateOf == duplicate.Id,
        }, ct);
        await LeadWriter.RescoreAsync(conn, tx, folded.Survivor, actor, ct);
        var result = await LeadReads.AppendEventThenDetailAsync(conn, tx, workspaceId, survivor.Id, LeadEvents.Merged, new
        {
            duplicateId = TypeId.Format(IdPrefix.Lead, duplicate.Id),
            filledFields = folded.FilledFields,
            tagsAdded = tagsAdded.Select(t => new { tagId = TypeId.Format(IdPrefix.Tag, t.Id), name = t.Name }),
            eventsMoved = folded.EventsMoved,
        }, actor, ct) ?? throw new InvalidOperationException("The survivor vanished inside its own merge.");
        if (dryRun) await tx.RollbackAsync(ct);
        else await tx.CommitAsync(ct);
        return result;
    }
}
