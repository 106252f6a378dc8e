using Dapper;
using Kernel.Http;
using Npgsql;

namespace Modules.Leads.Public;

/// <summary>
/// The lead-row half of a merge (spec §4), for the Duplicates module which orchestrates it: survivor's
/// non-empty fields win and its empty ones are filled from the duplicate; notes are concatenated (never
/// dropped); metadata merges with the survivor winning per key; the duplicate is tombstoned so its ID answers
/// 404 <c>lead_merged</c>, and its events — which stay keyed by the duplicate — join the survivor's timeline
/// through that tombstone (see <see cref="LeadEvents.TimelineLeadIdsSql"/>), so a merge costs the same whatever
/// the number of events. Both rows must be locked by the caller.
/// </summary>
public static class LeadMerge
{
    // One round trip: the fold returns the survivor as it now is (for rescoring) with its metadata key count —
    // more keys than before means the duplicate filled some — and the second statement counts the events that
    // join the survivor's timeline: the duplicate's own and those of leads merged into it earlier.
    /// <summary>The most notes a merged lead holds (the table's check constraint, migration 0007): merges concatenate notes.</summary>
    public const int MaxMergedNotes = 1_000_000;

    // PostgreSQL's char_length counts code points, as the check constraint does.
    private static int CodePoints(string s) => s.Length - s.Count(char.IsLowSurrogate);

    private static readonly string FoldSql = $"""
        UPDATE leads.leads s SET
            email        = coalesce(s.email, d.email),
            email_norm   = CASE WHEN s.email IS NULL THEN d.email_norm ELSE s.email_norm END,
            first_name   = coalesce(s.first_name, d.first_name),
            last_name    = coalesce(s.last_name, d.last_name),
            phone        = coalesce(s.phone, d.phone),
            phone_e164   = CASE WHEN s.phone IS NULL THEN d.phone_e164 ELSE s.phone_e164 END,
            company      = coalesce(s.company, d.company),
            source_id    = coalesce(s.source_id, d.source_id),
            assigned_to  = coalesce(s.assigned_to, d.assigned_to),
            notes        = CASE WHEN s.notes IS NULL THEN d.notes
                                WHEN d.notes IS NULL THEN s.notes
                                ELSE s.notes || E'\n\n' || d.notes END,
            metadata     = d.metadata || s.metadata,
            updated_at   = now()
        FROM leads.leads d
        WHERE s.id = @Survivor AND d.id = @Duplicate
        RETURNING s.id, s.workspace_id, s.email, s.first_name, s.last_name, s.phone, s.phone_e164, s.company, s.notes, s.status,
                  s.score, s.source_id, s.assigned_to, (SELECT count(*) FROM jsonb_object_keys(s.metadata))::int AS metadata_keys,
                  s.duplicate_of;

        SELECT count(*)::int FROM leads.events WHERE lead_id = ANY ({LeadEvents.TimelineLeadIdsSql("@Duplicate")});
        """;

    private const string TombstoneSql = """
        UPDATE leads.merged_leads SET merged_into = @Survivor WHERE merged_into = @Duplicate;
        INSERT INTO leads.merged_leads (id, workspace_id, merged_into) VALUES (@Duplicate, @WorkspaceId, @Survivor);
        DELETE FROM leads.leads WHERE id = @Duplicate;
        """;

    /// <param name="Survivor">The survivor's row after the fold (still locked), for rescoring.</param>
    /// <param name="EventsMoved">The duplicate's timeline events (its own and those of leads merged into it), now the survivor's.</param>
    public sealed record Folded(string[] FilledFields, int EventsMoved, LeadRow Survivor);

    /// <summary>Folds the duplicate's fields, notes and metadata into the survivor and counts the events it brings.</summary>
    public static async Task<Folded> FoldAsync(NpgsqlConnection conn, NpgsqlTransaction tx, LeadRow survivor, LeadRow duplicate, CancellationToken ct)
    {
        if (survivor.Notes is { } sn && duplicate.Notes is { } dn && CodePoints(sn) + 2 + CodePoints(dn) > MaxMergedNotes)
            throw new ApiProblemException(422, "merge_notes_too_long", "Merged notes would be too long",
                $"Notes are concatenated on merge, never dropped, and the two leads' notes together pass {MaxMergedNotes:N0} characters. " +
                "Shorten either lead's notes (PUT /api/leads/:id/notes), then merge again.");
        var filled = new List<string>();
        void Fill(string field, object? s, object? d) { if (s is null && d is not null) filled.Add(field); }
        Fill("email", survivor.Email, duplicate.Email);
        Fill("firstName", survivor.FirstName, duplicate.FirstName);
        Fill("lastName", survivor.LastName, duplicate.LastName);
        Fill("phone", survivor.Phone, duplicate.Phone);
        Fill("company", survivor.Company, duplicate.Company);
        Fill("sourceId", survivor.SourceId, duplicate.SourceId);
        Fill("assignedTo", survivor.AssignedTo, duplicate.AssignedTo);
        Fill("notes", survivor.Notes, duplicate.Notes);

        await using var grid = await conn.QueryMultipleAsync(new CommandDefinition(FoldSql,
            new { Survivor = survivor.Id, Duplicate = duplicate.Id }, tx, cancellationToken: ct));
        var folded = await grid.ReadSingleAsync<LeadRow>();
        var eventsMoved = await grid.ReadSingleAsync<int>();
        // The merged metadata is the union of both key sets: it has more keys than the survivor had iff the duplicate added one.
        if (folded.MetadataKeys > survivor.MetadataKeys) filled.Add("metadata");
        return new Folded([.. filled], eventsMoved, folded);
    }

    /// <summary>
    /// Deletes the duplicate's row and leaves a tombstone pointing at the survivor (re-pointing older tombstones
    /// too, so they stay one level deep). The duplicate's event rows stay: the tombstone puts them on the survivor's timeline.
    /// </summary>
    public static Task RetireAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid duplicateId, Guid survivorId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(TombstoneSql, new { WorkspaceId = workspaceId, Duplicate = duplicateId, Survivor = survivorId }, tx, cancellationToken: ct));
}
