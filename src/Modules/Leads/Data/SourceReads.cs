using Dapper;
using Kernel.Http;
using Kernel.Ids;
using Npgsql;

namespace Modules.Leads.Data;

/// <summary>Reads of live (not deleted) sources, shared by every slice that answers with a source.</summary>
internal static class SourceReads
{
    // The creator's name and email come through Access's published view; a removed member still shows.
    private const string SelectSql = """
        SELECT s.id, s.name, s.webhook_token, s.field_mappings::text AS field_mappings_json, s.created_at,
               m.id, m.name, m.email
        FROM leads.sources s
        LEFT JOIN access.v_members m ON m.id = s.created_by AND m.workspace_id = s.workspace_id
        WHERE s.workspace_id = @WorkspaceId AND s.deleted_at IS NULL AND (@Id::uuid IS NULL OR s.id = @Id)
        ORDER BY s.created_at, s.id
        """;

    public static async Task<IReadOnlyList<SourceView>> ListAsync(NpgsqlConnection conn, Guid workspaceId, Guid? id, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<SourceView, SourceCreator, SourceView>(
            new CommandDefinition(SelectSql, new { WorkspaceId = workspaceId, Id = id }, cancellationToken: ct),
            (s, m) => { s.CreatedBy = m; return s; }, splitOn: "id");
        return rows.AsList();
    }

    /// <summary>The live source, or 404 <c>source_not_found</c>.</summary>
    public static async Task<SourceView> RequireAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        (await ListAsync(conn, workspaceId, id, ct)).SingleOrDefault() ?? throw NotFound();

    /// <summary>Parses a path ID; malformed or foreign-typed IDs are simply not found.</summary>
    public static Guid ParseOrNotFound(string id) =>
        TypeId.TryParse(id, IdPrefix.Source, out var g) ? g : throw NotFound();

    public static ApiProblemException NotFound() => ApiProblemException.NotFound("source_not_found", "Source");
}
