using Npgsql;
using NpgsqlTypes;

namespace Modules.Import.Exports;

/// <summary>
/// A write-only stream that stores an export's file as <c>import.export_chunks</c> rows of <c>chunkBytes</c> each, in
/// the caller's transaction: nothing is visible to anyone else until that transaction commits (with the export's
/// completed status), so a crash leaves no partial file. Holds one chunk in memory, however big the file.
/// </summary>
internal sealed class ChunkStream : Stream
{
    private const string InsertSql = "INSERT INTO import.export_chunks (export_id, seq, data) VALUES (@ExportId, @Seq, @Data)";

    private readonly NpgsqlCommand _insert;
    private readonly NpgsqlParameter<int> _seq = new("Seq", NpgsqlDbType.Integer);
    private readonly NpgsqlParameter<ReadOnlyMemory<byte>> _data = new("Data", NpgsqlDbType.Bytea);
    private readonly byte[] _buffer;
    private readonly Func<int, CancellationToken, Task>? _afterChunk;
    private int _filled;

    /// <param name="afterChunk">Called after each chunk is inserted, with the number written so far (a test hook: crash mid-export).</param>
    public ChunkStream(NpgsqlConnection conn, NpgsqlTransaction tx, Guid exportId, int chunkBytes, Func<int, CancellationToken, Task>? afterChunk = null)
    {
        _buffer = new byte[chunkBytes];
        _afterChunk = afterChunk;
        _insert = new NpgsqlCommand(InsertSql, conn, tx);
        _insert.Parameters.Add(new NpgsqlParameter<Guid>("ExportId", NpgsqlDbType.Uuid) { TypedValue = exportId });
        _insert.Parameters.Add(_seq);
        _insert.Parameters.Add(_data);
    }

    public int Chunks { get; private set; }
    public long BytesWritten { get; private set; }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        while (!data.IsEmpty)
        {
            var n = Math.Min(data.Length, _buffer.Length - _filled);
            data[..n].CopyTo(_buffer.AsMemory(_filled));
            _filled += n;
            BytesWritten += n;
            data = data[n..];
            if (_filled == _buffer.Length) await WriteChunkAsync(ct);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    /// <summary>Writes the last, partial chunk. Flush does not: chunks are cut at the chunk size only.</summary>
    public async Task CompleteAsync(CancellationToken ct)
    {
        if (_filled > 0) await WriteChunkAsync(ct);
    }

    private async Task WriteChunkAsync(CancellationToken ct)
    {
        _seq.TypedValue = Chunks;
        _data.TypedValue = _buffer.AsMemory(0, _filled);
        await _insert.ExecuteNonQueryAsync(ct);
        Chunks++;
        _filled = 0;
        if (_afterChunk is not null) await _afterChunk(Chunks, ct);
    }

    public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
    public override void Flush() { }

    public override ValueTask DisposeAsync() => _insert.DisposeAsync();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _insert.Dispose();
        base.Dispose(disposing);
    }

    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("Export chunks are written asynchronously only.");

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => BytesWritten;
    public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
