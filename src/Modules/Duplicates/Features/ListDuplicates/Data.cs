using Dapper;
using Npgsql;

namespace Modules.Duplicates.Features.ListDuplicates;

internal static class Data
{
    // The group truth (duplicates.group_members), over the live leads.
    private const string LeadSql = """
        SELECT l.id, g.primary_id AS duplicate_of, coalesce(g.matched_on, '{}') AS matched_on
        FROM leads.v_leads l LEFT JOIN duplicates.group_members g ON g.lead_id = l.id
        WHERE l.id = @Id AND l.workspace_id = @WorkspaceId
        """;

    // The other members of the group: for a primary, its duplicates; for a duplicate, its primary and siblings.
    private const string MembersSql = """
        SELECT l.id, true AS is_primary, '{}'::text[] AS matched_on, l.created_at
        FROM leads.v_leads l
        WHERE l.id = @Primary AND l.id <> @Id AND l.workspace_id = @WorkspaceId
        UNION ALL
        SELECT g.lead_id, false, g.matched_on, l.created_at
        FROM duplicates.group_members g JOIN leads.v_leads l ON l.id = g.lead_id
        WHERE g.primary_id = @Primary AND g.lead_id <> @Id AND g.workspace_id = @WorkspaceId
        ORDER BY is_primary DESC, created_at, id
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
