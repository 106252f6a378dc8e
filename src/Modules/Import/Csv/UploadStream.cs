using Npgsql;

namespace Modules.Import.Csv;

/// <summary>
/// Reads an upload back from <c>import.upload_chunks</c>, one 1 MiB chunk in memory at a time, over one connection
/// of its own — so a job streams the file from the database whichever node received it.
/// </summary>
internal sealed class UploadStream(NpgsqlDataSource db, Guid importId) : Stream
{
    private const string ChunkSql = "SELECT data FROM import.upload_chunks WHERE import_id = @Id AND seq = @Seq";

    private NpgsqlConnection? _conn;
    private byte[] _chunk = [];
    private int _pos;
    private int _seq;
    private bool _end;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        while (_pos == _chunk.Length)
        {
            if (_end || !await NextChunkAsync(ct)) return 0;
        }
        var n = Math.Min(buffer.Length, _chunk.Length - _pos);
        _chunk.AsMemory(_pos, n).CopyTo(buffer);
        _pos += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

    private async Task<bool> NextChunkAsync(CancellationToken ct)
    {
        _conn ??= await db.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand(ChunkSql, _conn);
        cmd.Parameters.AddWithValue("Id", importId);
        cmd.Parameters.AddWithValue("Seq", _seq);
        var data = await cmd.ExecuteScalarAsync(ct) as byte[];
        if (data is null)
        {
            _end = true;
            return false;
        }
        _seq++;
        _chunk = data;
        _pos = 0;
        return true;
    }

    /// <summary>The first bytes of the upload (its first chunk), for sniffing the header.</summary>
    public static async Task<byte[]> PrefixAsync(NpgsqlConnection conn, Guid importId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(ChunkSql, conn);
        cmd.Parameters.AddWithValue("Id", importId);
        cmd.Parameters.AddWithValue("Seq", 0);
        return await cmd.ExecuteScalarAsync(ct) as byte[] ?? [];
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _conn?.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        if (_conn is not null) await _conn.DisposeAsync();
        await base.DisposeAsync();
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
