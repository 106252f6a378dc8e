using Dapper;
using Npgsql;

namespace Modules.Duplicates.Merges;

/// <summary>
/// <c>duplicates.merges</c> (migration 0071): one record per merge, what an unmerge needs (spec §10). Written by a merge
/// in its transaction (one insert, whatever the number of events: a merge moves no event row, so the record keeps none),
/// read and deleted by an unmerge, deleted with the survivor.
/// </summary>
internal static class MergeRecords
{
    /// <summary>How long a merge can be undone.</summary>
    public static readonly TimeSpan Undoable = TimeSpan.FromDays(30);

    internal sealed class Record
    {
        public Guid MergedLeadId { get; init; }
        public Guid WorkspaceId { get; init; }
        public Guid SurvivorId { get; init; }
        public long Seq { get; init; }
        public DateTime MergedAt { get; init; }
        public string ActorType { get; init; } = "";
        public string? ActorId { get; init; }
        public string? ActorName { get; init; }
        public string Absorbed { get; init; } = "";
        public Guid[] AbsorbedTagIds { get; init; } = [];
        public string[] FilledFields { get; init; } = [];
        public string[] MetadataAdded { get; init; } = [];
        public Guid[] TagsAdded { get; init; } = [];
        public Guid[] RepointedDuplicates { get; init; } = [];
        public Guid[] RepointedTombstones { get; init; } = [];
        public bool SurvivorWasUnder { get; init; }
        /// <summary>The absorbed lead's group membership when merged (null: it was a primary).</summary>
        public Guid? AbsorbedPrimaryId { get; init; }
        public string[]? AbsorbedMatchedOn { get; init; }
    }

    private const string InsertSql = """
        INSERT INTO duplicates.merges (merged_lead_id, workspace_id, survivor_id, merged_at, actor_type, actor_id, actor_name, absorbed,
                                       absorbed_tag_ids, filled_fields, metadata_added, tags_added, repointed_duplicates, repointed_tombstones,
                                       survivor_was_under, absorbed_primary_id, absorbed_matched_on)
        VALUES (@MergedLeadId, @WorkspaceId, @SurvivorId, @MergedAt, @ActorType, @ActorId, @ActorName, @Absorbed::jsonb,
                @AbsorbedTagIds, @FilledFields, @MetadataAdded, @TagsAdded, @RepointedDuplicates, @RepointedTombstones, @SurvivorWasUnder,
                @AbsorbedPrimaryId, @AbsorbedMatchedOn)
        """;

    private const string Columns = """
        merged_lead_id, workspace_id, survivor_id, seq, merged_at, actor_type, actor_id, actor_name, absorbed::text AS absorbed,
        absorbed_tag_ids, filled_fields, metadata_added, tags_added, repointed_duplicates, repointed_tombstones, survivor_was_under,
        absorbed_primary_id, absorbed_matched_on
        """;

    private const string FindSql = $"""
        SELECT {Columns} FROM duplicates.merges
        WHERE merged_lead_id = @MergedLeadId AND survivor_id = @SurvivorId AND workspace_id = @WorkspaceId
        """;

    private const string LockSql = FindSql + " FOR UPDATE";

    // The newest merge into the survivor after the given one: it must be undone first.
    private const string LaterSql = """
        SELECT merged_lead_id FROM duplicates.merges WHERE survivor_id = @SurvivorId AND seq > @Seq ORDER BY seq DESC LIMIT 1
        """;

    private const string DeleteSql = "DELETE FROM duplicates.merges WHERE merged_lead_id = @MergedLeadId";

    internal sealed record Listed(Guid MergedLeadId, DateTime MergedAt, string ActorType, string? ActorId, string? ActorName);

    private const string ListSql = """
        SELECT merged_lead_id, merged_at, actor_type, actor_id, actor_name FROM duplicates.merges
        WHERE survivor_id = @SurvivorId AND workspace_id = @WorkspaceId
        ORDER BY seq DESC
        """;

    // A deleted survivor takes its merge records with it, and those of the leads merged into it (their rows and
    // events go with the survivor too, so none of them can come back).
    private const string ForgetSql = """
        WITH RECURSIVE gone AS (
            SELECT merged_lead_id FROM duplicates.merges WHERE survivor_id = @Id
            UNION
            SELECT m.merged_lead_id FROM duplicates.merges m JOIN gone g ON m.survivor_id = g.merged_lead_id)
        DELETE FROM duplicates.merges WHERE survivor_id = @Id OR merged_lead_id IN (SELECT merged_lead_id FROM gone)
        """;

    public static Task InsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Record r, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(InsertSql, r, tx, cancellationToken: ct));

    public static Task<Record?> FindAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid workspaceId, Guid survivorId, Guid mergedLeadId, bool forUpdate,
        CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<Record>(new CommandDefinition(forUpdate ? LockSql : FindSql,
            new { WorkspaceId = workspaceId, SurvivorId = survivorId, MergedLeadId = mergedLeadId }, tx, cancellationToken: ct));

    public static Task<Guid?> LaterAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Record r, CancellationToken ct) =>
        conn.ExecuteScalarAsync<Guid?>(new CommandDefinition(LaterSql, new { r.SurvivorId, r.Seq }, tx, cancellationToken: ct));

    public static Task DeleteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid mergedLeadId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(DeleteSql, new { MergedLeadId = mergedLeadId }, tx, cancellationToken: ct));

    public static async Task<List<Listed>> ListAsync(NpgsqlConnection conn, Guid workspaceId, Guid survivorId, CancellationToken ct) =>
        (await conn.QueryAsync<Listed>(new CommandDefinition(ListSql, new { WorkspaceId = workspaceId, SurvivorId = survivorId }, cancellationToken: ct))).AsList();

    public static Task ForgetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid survivorId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(ForgetSql, new { Id = survivorId }, tx, cancellationToken: ct));
}
