using Dapper;
using Npgsql;

namespace Modules.Duplicates.Features.MarkNotDuplicate;

internal static class Data
{
    private const string PrimaryOfSql = """
        SELECT g.primary_id AS duplicate_of FROM leads.v_leads l LEFT JOIN duplicates.group_members g ON g.lead_id = l.id
        WHERE l.id = @Id AND l.workspace_id = @WorkspaceId
        """;

    internal sealed record Head(Guid? DuplicateOf);

    /// <summary>The lead's current primary (unlocked), or null when the lead is not live.</summary>
    public static Task<Head?> PrimaryOfAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<Head>(new CommandDefinition(PrimaryOfSql, new { Id = id, WorkspaceId = workspaceId }, cancellationToken: ct));
}
