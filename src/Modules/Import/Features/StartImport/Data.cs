using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Modules.Import.Features.StartImport;

internal static class Data
{
    private const string InsertSql = """
        INSERT INTO import.imports (id, workspace_id, file_name, on_duplicate, dry_run, status, created_by)
        VALUES (@Id, @WorkspaceId, 'upload.csv', 'flag', false, 'queued', @CreatedBy)
        """;

    private const string ChunkSql = "INSERT INTO import.upload_chunks (import_id, seq, data) VALUES (@Id, @Seq, @Data)";

    private const string SourceExistsSql = """
        SELECT EXISTS (SELECT 1 FROM leads.v_sources WHERE id = @Id AND workspace_id = @WorkspaceId AND NOT deleted)
        """;

    private const string FinishSql = """
        UPDATE import.imports
        SET file_name = @FileName, size_bytes = @SizeBytes, source_id = @SourceId, on_duplicate = @OnDuplicate, dry_run = @DryRun
        WHERE id = @Id
        """;

    public static Task InsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, Guid workspaceId, Guid createdBy, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(InsertSql, new { Id = id, WorkspaceId = workspaceId, CreatedBy = createdBy }, tx, cancellationToken: ct));

    public static async Task WriteChunkAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, int seq, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(ChunkSql, conn, tx);
        cmd.Parameters.AddWithValue("Id", id);
        cmd.Parameters.AddWithValue("Seq", seq);
        cmd.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>>("Data", NpgsqlDbType.Bytea) { TypedValue = data });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public static Task<bool> SourceExistsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid sourceId, CancellationToken ct) =>
        conn.ExecuteScalarAsync<bool>(new CommandDefinition(SourceExistsSql, new { Id = sourceId, WorkspaceId = workspaceId }, tx, cancellationToken: ct));

    public static Task FinishAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, string fileName, long sizeBytes, Request options, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(FinishSql, new
        {
            Id = id, FileName = fileName, SizeBytes = sizeBytes, options.SourceId, options.OnDuplicate, options.DryRun,
        }, tx, cancellationToken: ct));
}
