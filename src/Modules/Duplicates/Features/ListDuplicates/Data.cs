using Dapper;
using Npgsql;

namespace Modules.Duplicates.Features.ListDuplicates;

internal static class Data
{
    private const string LeadSql = """
        SELECT id, duplicate_of, coalesce(duplicate_matched_on, '{}') AS matched_on
        FROM leads.v_lead_groups WHERE id = @Id AND workspace_id = @WorkspaceId
        """;

    // The other members of the group: for a primary, its duplicates; for a duplicate, its primary and siblings.
    private const string MembersSql = """
        SELECT l.id, l.duplicate_of IS NULL AS is_primary, coalesce(l.duplicate_matched_on, '{}') AS matched_on
        FROM leads.v_lead_groups l
        WHERE l.workspace_id = @WorkspaceId AND l.id <> @Id AND (l.id = @Primary OR l.duplicate_of = @Primary)
        ORDER BY l.duplicate_of IS NULL DESC, l.created_at, l.id
        """;

    // Classes, not positional records: Npgsql reports array columns as System.Array, which Dapper's
    // constructor matching rejects; property setters convert fine.
    internal sealed class LeadHead
    {
        public Guid Id { get; init; }
        public Guid? DuplicateOf { get; init; }
        public string[] MatchedOn { get; init; } = [];
    }

    internal sealed class MemberRow
    {
        public Guid Id { get; init; }
        public bool IsPrimary { get; init; }
        public string[] MatchedOn { get; init; } = [];
    }

    public static Task<LeadHead?> LeadAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<LeadHead>(new CommandDefinition(LeadSql, new { Id = id, WorkspaceId = workspaceId }, cancellationToken: ct));

    public static async Task<List<MemberRow>> MembersAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, Guid primary, CancellationToken ct) =>
        (await conn.QueryAsync<MemberRow>(new CommandDefinition(MembersSql, new { WorkspaceId = workspaceId, Id = id, Primary = primary }, cancellationToken: ct))).AsList();
}
