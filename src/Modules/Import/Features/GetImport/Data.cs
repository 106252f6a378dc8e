using Dapper;
using Modules.Import.Data;
using Npgsql;

namespace Modules.Import.Features.GetImport;

internal static class Data
{
    private const string GetSql = $"""
        SELECT {ImportReads.Columns}
        FROM import.imports
        WHERE id = @Id AND workspace_id = @WorkspaceId AND status <> 'uploading'
        """;

    private const string ErrorsSql = """
        SELECT line, message FROM import.row_errors WHERE import_id = @Id ORDER BY row_no LIMIT 100
        """;

    public static Task<ImportView?> GetAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<ImportView>(new CommandDefinition(GetSql, new { Id = id, WorkspaceId = workspaceId }, cancellationToken: ct));

    public static async Task<IReadOnlyList<ImportErrorView>> FirstErrorsAsync(NpgsqlConnection conn, Guid id, CancellationToken ct) =>
        (await conn.QueryAsync<ImportErrorView>(new CommandDefinition(ErrorsSql, new { Id = id }, cancellationToken: ct))).AsList();
}
