using Dapper;
using Npgsql;

namespace Modules.Import.Features.GetImportErrors;

internal static class Data
{
    private const string HeadSql = "SELECT file_name, header FROM import.imports WHERE id = @Id AND workspace_id = @WorkspaceId";

    private const string ErrorsSql = "SELECT line, message, fields FROM import.row_errors WHERE import_id = @Id ORDER BY row_no";

    // Property-set classes: Dapper matches constructors on the reader's field types, and text[] reads as System.Array.
    internal sealed class Head
    {
        public string FileName { get; init; } = "";
        public string[]? Header { get; init; }
    }

    internal sealed class ErrorRow
    {
        public long Line { get; init; }
        public string Message { get; init; } = "";
        public string[] Fields { get; init; } = [];
    }

    public static Task<Head?> HeadAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<Head>(new CommandDefinition(HeadSql, new { Id = id, WorkspaceId = workspaceId }, cancellationToken: ct));

    /// <summary>Unbuffered: rows stream from the server to the response one at a time.</summary>
    public static IAsyncEnumerable<ErrorRow> ErrorsAsync(NpgsqlConnection conn, Guid id) =>
        conn.QueryUnbufferedAsync<ErrorRow>(ErrorsSql, new { Id = id });
}
