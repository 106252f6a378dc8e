using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Modules.Import.Features.StartImport;

internal static class Data
{
    private const string InsertSql = """
        INSERT INTO import.imports (id, workspace_id, file_name, on_duplicate, dry_run, status, created_by)
        VALUES (@Id, @WorkspaceId, 'upload.csv', 'flag', false, 'uploading', @CreatedBy)
        """;

    // One piece and the import's last sign of life, committed together (one implicit transaction per batch).
    private const string ChunkSql = """
        INSERT INTO import.upload_chunks (import_id, seq, data) VALUES (@Id, @Seq, @Data);
        UPDATE import.imports SET updated_at = now() WHERE id = @Id AND status = 'uploading';
        """;

    private const string SourceExistsSql = """
        SELECT EXISTS (SELECT 1 FROM leads.v_sources WHERE id = @Id AND workspace_id = @WorkspaceId AND NOT deleted)
        """;

    private const string FinishSql = """
        UPDATE import.imports
        SET file_name = @FileName, size_bytes = @SizeBytes, source_id = @SourceId, on_duplicate = @OnDuplicate, dry_run = @DryRun,
            status = 'queued', updated_at = now()
        WHERE id = @Id AND status = 'uploading'
        """;

    private const string DiscardSql = "DELETE FROM import.imports WHERE id = @Id AND status = 'uploading'";

    public static async Task InsertAsync(NpgsqlDataSource db, Guid id, Guid workspaceId, Guid createdBy, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(InsertSql, new { Id = id, WorkspaceId = workspaceId, CreatedBy = createdBy }, cancellationToken: ct));
    }

    /// <summary>Stores one piece on a connection taken for just this statement: none is held while the client sends the next.</summary>
    public static async Task WriteChunkAsync(NpgsqlDataSource db, Guid id, int seq, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand(ChunkSql, conn);
        cmd.Parameters.AddWithValue("Id", id);
        cmd.Parameters.AddWithValue("Seq", seq);
        cmd.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>>("Data", NpgsqlDbType.Bytea) { TypedValue = data });
        // Had the sweep deleted the import (its client silent past Import:AbandonedUploadAfter), the insert fails on the
        // foreign key and the upload ends there.
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Deletes an upload that broke off or was refused (its pieces go with it), whatever the request's state.</summary>
    public static async Task DiscardAsync(NpgsqlDataSource db, Guid id)
    {
        await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
        await conn.ExecuteAsync(new CommandDefinition(DiscardSql, new { Id = id }));
    }

    public static Task<bool> SourceExistsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid sourceId, CancellationToken ct) =>
        conn.ExecuteScalarAsync<bool>(new CommandDefinition(SourceExistsSql, new { Id = sourceId, WorkspaceId = workspaceId }, tx, cancellationToken: ct));

    /// <summary>Queues the uploaded import; false when it no longer exists (swept as abandoned).</summary>
    public static async Task<bool> FinishAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, string fileName, long sizeBytes, Request options, CancellationToken ct) =>
        await conn.ExecuteAsync(new CommandDefinition(FinishSql, new
        {
            Id = id, FileName = fileName, SizeBytes = sizeBytes, options.SourceId, options.OnDuplicate, options.DryRun,
        }, tx, cancellationToken: ct)) == 1;
}
