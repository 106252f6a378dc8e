using Dapper;
using Npgsql;

namespace Modules.Import.Features.GetImportErrors;

internal static class Data
{
    private const string HeadSql = "SELECT file_name, header FROM import.imports WHERE id = @Id AND workspace_id = @WorkspaceId AND status <> 'uploading'";

    // The next rows after @After in file order, as many as fit in about @Bytes of field text (always at least one): a
    // page is read whole on a short-lived connection and then written out, so the report holds no statement or snapshot
    // at the reader's pace, and a page of 1 MiB rows stays small in memory.
    private const string PageSql = """
        SELECT row_no, line, message, fields FROM (
            SELECT row_no, line, message, fields,
                   sum(octet_length(array_to_string(fields, ''))) OVER (ORDER BY row_no) - octet_length(array_to_string(fields, '')) AS before
            FROM import.row_errors WHERE import_id = @Id AND row_no > @After
            ORDER BY row_no LIMIT 500) p
        WHERE before < @Bytes
        ORDER BY row_no
        """;

    // Property-set classes: Dapper matches constructors on the reader's field types, and text[] reads as System.Array.
    internal sealed class Head
    {
        public string FileName { get; init; } = "";
        public string[]? Header { get; init; }
    }

    internal sealed class ErrorRow
    {
        public long RowNo { get; init; }
        public long Line { get; init; }
        public string Message { get; init; } = "";
        public string[] Fields { get; init; } = [];
    }

    public static Task<Head?> HeadAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<Head>(new CommandDefinition(HeadSql, new { Id = id, WorkspaceId = workspaceId }, cancellationToken: ct));

    public static async Task<IReadOnlyList<ErrorRow>> PageAsync(NpgsqlDataSource db, Guid id, long after, int bytes, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<ErrorRow>(new CommandDefinition(PageSql, new { Id = id, After = after, Bytes = bytes }, cancellationToken: ct))).AsList();
    }
}
