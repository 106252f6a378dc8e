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

    // The first statement keeps the duplicate as it is now (its whole row, for an unmerge to restore) and the metadata
    // keys it is about to give the survivor.
    private static readonly string FoldSql = $"""
        SELECT to_jsonb(d)::text AS row,
               ARRAY(SELECT jsonb_object_keys(d.metadata) EXCEPT SELECT jsonb_object_keys(s.metadata)) AS metadata_added
        FROM leads.leads d, leads.leads s WHERE d.id = @Duplicate AND s.id = @Survivor;

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

        UPDATE leads.merged_leads SET merged_into = @Survivor WHERE merged_into = @Duplicate RETURNING id;
        INSERT INTO leads.merged_leads (id, workspace_id, merged_into) VALUES (@Duplicate, @WorkspaceId, @Survivor);
        DELETE FROM leads.leads WHERE id = @Duplicate;
        """;

    /// <param name="Survivor">The survivor's row after the fold (still locked), for rescoring.</param>
    /// <param name="EventsMoved">The duplicate's timeline events (its own and those of leads merged into it), now the survivor's.</param>
    /// <param name="Before">The duplicate before the fold: its whole row, to keep for an unmerge (<see cref="RestoreAsync"/>).</param>
    /// <param name="RepointedTombstones">Older tombstones that pointed at the duplicate and now point at the survivor (an unmerge points them back).</param>
    public sealed record Absorbed(string[] FilledFields, int EventsMoved, LeadRow Survivor, AbsorbedLead Before, Guid[] RepointedTombstones);

    /// <summary>A merged-away lead as it was when merged (its <c>leads.leads</c> row as JSON) and the metadata keys it gave the survivor.</summary>
    public sealed class AbsorbedLead
    {
        public string Row { get; init; } = "";
        public string[] MetadataAdded { get; init; } = [];
    }

    /// <summary>
    /// Absorbs the duplicate into the survivor, one round trip: its fields fill the survivor's empty ones, notes and metadata
    /// fold in, its row is deleted and a tombstone (older ones re-pointed, so they stay one level deep) puts its events on the
    /// survivor's timeline. Answers what a merge record needs. Both rows must be locked by the caller, and nothing else may
    /// still reference the duplicate's row (the Duplicates module re-points its group first).
    /// </summary>
    public static async Task<Absorbed> AbsorbAsync(NpgsqlConnection conn, NpgsqlTransaction tx, LeadRow survivor, LeadRow duplicate, CancellationToken ct)
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
            new { WorkspaceId = survivor.WorkspaceId, Survivor = survivor.Id, Duplicate = duplicate.Id }, tx, cancellationToken: ct));
        var before = await grid.ReadSingleAsync<AbsorbedLead>();
        var folded = await grid.ReadSingleAsync<LeadRow>();
        var eventsMoved = await grid.ReadSingleAsync<int>();
        Guid[] tombstones = [.. await grid.ReadAsync<Guid>()];
        // The merged metadata is the union of both key sets: it has more keys than the survivor had iff the duplicate added one.
        if (folded.MetadataKeys > survivor.MetadataKeys) filled.Add("metadata");
        return new Absorbed([.. filled], eventsMoved, folded, before, tombstones);
    }

    // Undo (spec §10), one round trip: the tombstone goes, the row comes back exactly as kept — except an assignee no
    // longer a member (none) and its duplicate flag, which the Duplicates module decides (@DuplicateOf) — older tombstones
    // point back at it, and the survivor gives back what the fold gave it unless it changed since: a filled field still
    // equal to the restored lead's value empties again, the appended notes block comes off, an added metadata key still
    // holding the restored lead's value goes.
    // Every stored column (the generated phone_digits and search_text follow). UnmergeTests compares the whole row
    // before the merge and after the unmerge, so a column added later and missing here fails a test.
    private const string RestoredColumns = "id, workspace_id, email, first_name, last_name, phone, company, email_norm, phone_e164, status, score, source_id, assigned_to, notes, metadata, channel, import_id, created_actor_type, created_actor_id, created_actor_name, created_score, duplicate_of, created_at, updated_at";

    private static readonly string RestoredColumnsOfR = string.Join(", ", RestoredColumns.Split(", ").Select(c => "r." + c));

    private static readonly string RestoreSql = $"""
        INSERT INTO leads.leads ({RestoredColumns})
        SELECT {RestoredColumnsOfR}
        FROM (SELECT @Row::jsonb AS j) k
        CROSS JOIN LATERAL jsonb_populate_record(NULL::leads.leads, k.j || jsonb_build_object(
            'assigned_to', CASE WHEN EXISTS (SELECT 1 FROM access.v_members m
                                             WHERE m.id = (k.j->>'assigned_to')::uuid AND m.workspace_id = @WorkspaceId AND NOT m.deleted)
                                THEN k.j->'assigned_to' ELSE 'null'::jsonb END,
            'duplicate_of', to_jsonb(@DuplicateOf::uuid))) r;

        -- The tombstone goes after the row is back: the change feed's trigger on the insert sees it and announces a
        -- restore (lead.unmerged), not a new lead (migration 0091).
        DELETE FROM leads.merged_leads WHERE id = @Restored AND merged_into = @Survivor;

        UPDATE leads.merged_leads SET merged_into = @Restored WHERE id = ANY(@Tombstones) AND merged_into = @Survivor;

        UPDATE leads.leads s SET
            email        = CASE WHEN 'email' = ANY(@Filled) AND s.email = d.email THEN NULL ELSE s.email END,
            email_norm   = CASE WHEN 'email' = ANY(@Filled) AND s.email = d.email THEN NULL ELSE s.email_norm END,
            first_name   = CASE WHEN 'firstName' = ANY(@Filled) AND s.first_name = d.first_name THEN NULL ELSE s.first_name END,
            last_name    = CASE WHEN 'lastName' = ANY(@Filled) AND s.last_name = d.last_name THEN NULL ELSE s.last_name END,
            phone        = CASE WHEN 'phone' = ANY(@Filled) AND s.phone = d.phone THEN NULL ELSE s.phone END,
            phone_e164   = CASE WHEN 'phone' = ANY(@Filled) AND s.phone = d.phone THEN NULL ELSE s.phone_e164 END,
            company      = CASE WHEN 'company' = ANY(@Filled) AND s.company = d.company THEN NULL ELSE s.company END,
            source_id    = CASE WHEN 'sourceId' = ANY(@Filled) AND s.source_id = d.source_id THEN NULL ELSE s.source_id END,
            assigned_to  = CASE WHEN 'assignedTo' = ANY(@Filled) AND s.assigned_to = d.assigned_to THEN NULL ELSE s.assigned_to END,
            notes        = CASE WHEN d.notes IS NULL THEN s.notes
                                WHEN 'notes' = ANY(@Filled) AND s.notes = d.notes THEN NULL
                                WHEN right(s.notes, char_length(d.notes) + 2) = E'\n\n' || d.notes
                                    THEN left(s.notes, char_length(s.notes) - char_length(d.notes) - 2)
                                ELSE s.notes END,
            metadata     = s.metadata - ARRAY(SELECT key FROM unnest(@MetadataAdded::text[]) key WHERE s.metadata -> key = d.metadata -> key),
            updated_at   = now()
        FROM jsonb_populate_record(NULL::leads.leads, @Row::jsonb) d
        WHERE s.id = @Survivor
        RETURNING s.id, s.workspace_id, s.email, s.first_name, s.last_name, s.phone, s.phone_e164, s.company, s.notes, s.status,
                  s.score, s.source_id, s.assigned_to, (SELECT count(*) FROM jsonb_object_keys(s.metadata))::int AS metadata_keys,
                  s.duplicate_of;
        """;

    /// <summary>What a merge gave the survivor, as its record kept it.</summary>
    public sealed record GivenBack(string AbsorbedRow, string[] FilledFields, string[] MetadataAdded, Guid[] RepointedTombstones);

    /// <summary>
    /// Undoes <see cref="AbsorbAsync"/> (spec §10, unmerge): the merged-away lead comes back
    /// with its ID, fields, status, notes, metadata, score, channel and times as they were (its events never moved), and
    /// the survivor gives back what the fold gave it unless changed since. Answers the survivor (still locked) for rescoring.
    /// The caller holds the survivor's lock. <paramref name="duplicateOf"/> is the restored lead's duplicate flag (a live
    /// primary, or null), decided by the Duplicates module, which records the group in the same transaction.
    /// </summary>
    public static async Task<LeadRow> RestoreAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid survivorId, Guid restoredId,
        GivenBack given, Guid? duplicateOf, CancellationToken ct)
    {
        await using var grid = await conn.QueryMultipleAsync(new CommandDefinition(RestoreSql, new
        {
            WorkspaceId = workspaceId, Survivor = survivorId, Restored = restoredId, Row = given.AbsorbedRow,
            Filled = given.FilledFields, given.MetadataAdded, Tombstones = given.RepointedTombstones, DuplicateOf = duplicateOf,
        }, tx, cancellationToken: ct));
        return await grid.ReadSingleAsync<LeadRow>();
    }
}
