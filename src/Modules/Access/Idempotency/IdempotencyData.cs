using Dapper;
using Npgsql;

namespace Modules.Access.Idempotency;

internal static class IdempotencyData
{
    internal sealed class Record
    {
        public byte[]? Fingerprint { get; init; }
        public int? StatusCode { get; init; }
        public string? ContentType { get; init; }
        public string? Location { get; init; }
        public string? Etag { get; init; }
        public byte[]? ResponseBody { get; init; }
        public bool ResponseSealed { get; init; }
        public DateTime CreatedAt { get; init; }
    }

    // Expired or abandoned records give way to a new request. Abandoned: in flight with no heartbeat for 10 minutes
    // (the process that ran it died); a running request beats every minute however long it takes (migration 0046).
    private const string ClaimSql = """
        DELETE FROM access.idempotency_requests
        WHERE workspace_id = @WorkspaceId AND key = @Key
          AND (expires_at < now() OR (completed_at IS NULL AND heartbeat_at < now() - interval '10 minutes'));
        INSERT INTO access.idempotency_requests (workspace_id, key, expires_at) VALUES (@WorkspaceId, @Key, now() + @Retention)
        ON CONFLICT (workspace_id, key) DO NOTHING
        RETURNING true;
        """;

    private const string FindSql = """
        SELECT fingerprint, status_code, content_type, location, etag, response_body, response_sealed, created_at
        FROM access.idempotency_requests
        WHERE workspace_id = @WorkspaceId AND key = @Key
        """;

    private const string CompleteSql = """
        UPDATE access.idempotency_requests
        SET fingerprint = @Fingerprint, status_code = @StatusCode, content_type = @ContentType, location = @Location, etag = @Etag,
            response_body = @ResponseBody, response_sealed = @ResponseSealed, completed_at = now()
        WHERE workspace_id = @WorkspaceId AND key = @Key
        """;

    private const string HeartbeatSql = """
        UPDATE access.idempotency_requests SET heartbeat_at = now()
        WHERE workspace_id = @WorkspaceId AND key = @Key AND completed_at IS NULL
        """;

    private const string ReleaseSql = "DELETE FROM access.idempotency_requests WHERE workspace_id = @WorkspaceId AND key = @Key";

    private const string SweepSql = """
        DELETE FROM access.idempotency_requests
        WHERE ctid = ANY(ARRAY(SELECT ctid FROM access.idempotency_requests WHERE expires_at < now() LIMIT 1000))
        """;

    public static async Task<bool> TryClaimAsync(NpgsqlDataSource db, Guid workspaceId, string key, TimeSpan retention, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<bool?>(new CommandDefinition(ClaimSql, new { WorkspaceId = workspaceId, Key = key, Retention = retention }, cancellationToken: ct)) == true;
    }

    public static async Task<Record?> FindAsync(NpgsqlDataSource db, Guid workspaceId, string key, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<Record>(new CommandDefinition(FindSql, new { WorkspaceId = workspaceId, Key = key }, cancellationToken: ct));
    }

    public static async Task CompleteAsync(NpgsqlDataSource db, Guid workspaceId, string key, byte[] fingerprint, int status,
        string? contentType, string? location, string? etag, byte[] body, bool sealedBody, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(CompleteSql, new
        {
            WorkspaceId = workspaceId, Key = key, Fingerprint = fingerprint, StatusCode = status, ContentType = contentType,
            Location = location, Etag = etag, ResponseBody = body, ResponseSealed = sealedBody,
        }, cancellationToken: ct));
    }

    public static async Task HeartbeatAsync(NpgsqlDataSource db, Guid workspaceId, string key, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(HeartbeatSql, new { WorkspaceId = workspaceId, Key = key }, cancellationToken: ct));
    }

    public static async Task ReleaseAsync(NpgsqlDataSource db, Guid workspaceId, string key)
    {
        await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
        await conn.ExecuteAsync(new CommandDefinition(ReleaseSql, new { WorkspaceId = workspaceId, Key = key }));
    }

    /// <summary>Deletes expired records in batches of 1,000 (each its own short transaction); returns how many.</summary>
    public static async Task<long> SweepAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        long total = 0;
        while (true)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var n = await conn.ExecuteAsync(new CommandDefinition(SweepSql, cancellationToken: ct));
            total += n;
            if (n < 1000) return total;
        }
    }
}
