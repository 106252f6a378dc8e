using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Modules.Leads.Features.ExportLeads;

/// <summary>
/// Where the synchronous export's spools live and how large one may grow (<c>Exports:SpoolDirectory</c>,
/// <c>Exports:SpoolMaxBytes</c>). At start it deletes spool files a previous process left behind: on Linux a spool file
/// is unlinked as soon as it is opened, so a crash leaves nothing, but a crash between the two steps (or another OS)
/// could.
/// </summary>
internal sealed class SpoolStore : Microsoft.Extensions.Hosting.IHostedService
{
    public const string FilePrefix = "leads-export-";
    public const string FileSuffix = ".spool";

    public string Directory { get; }
    public long MaxBytes { get; }

    private readonly ILogger<SpoolStore> _log;

    public SpoolStore(IConfiguration config, ILogger<SpoolStore> log)
    {
        _log = log;
        var dir = config["Exports:SpoolDirectory"];
        Directory = Path.GetFullPath(string.IsNullOrWhiteSpace(dir) ? Path.Combine(Path.GetTempPath(), "leads-export-spool") : dir);
        MaxBytes = Math.Max(64 * 1024, config.GetValue("Exports:SpoolMaxBytes", 1L << 30));
    }

    /// <summary>At start: deletes what a previous process left behind.</summary>
    public Task StartAsync(CancellationToken ct)
    {
        Sweep();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>Deletes every spool file in the directory (creating the directory, 0700, when missing).</summary>
    public int Sweep()
    {
        EnsureDirectory();
        var swept = 0;
        foreach (var leftover in System.IO.Directory.EnumerateFiles(Directory, FilePrefix + "*" + FileSuffix))
        {
            try
            {
                File.Delete(leftover);
                swept++;
            }
            catch (IOException)
            {
                // Still open in another process on an OS that forbids deleting open files: its owner deletes it on close.
            }
        }
        if (swept > 0) _log.LogWarning("Deleted {Count} export spool file(s) left behind in {Directory}", swept, Directory);
        return swept;
    }

    public Spool Create() => new(this);

    /// <summary>Creates the directory (0700: spools hold workspace data) when missing, e.g. a temp cleaner removed it.</summary>
    public void EnsureDirectory()
    {
        if (System.IO.Directory.Exists(Directory)) return;
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(Directory);
        else System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}

/// <summary>Thrown by the spool's writer when the export would pass <c>Exports:SpoolMaxBytes</c>.</summary>
internal sealed class SpoolFullException(long maxBytes) : IOException($"The export passed Exports:SpoolMaxBytes ({maxBytes} bytes).");

/// <summary>
/// One download's bytes between the database and the client, so the two run at their own pace: the export writes at
/// the database's pace (<see cref="Writer"/>) and never waits for the reader; the response reads at the client's pace
/// (<see cref="ReadAsync"/>). The first <see cref="MemoryBytes"/> of backlog stay in a ring in memory; beyond it the
/// bytes go to a file in <see cref="SpoolStore.Directory"/>, unlinked at once (Linux keeps it while open, and the kernel
/// frees it when the handle closes, also when the process dies) and closed on <see cref="Dispose"/>. Bytes go back to
/// memory once the reader has caught up with the file. The total is bounded by <see cref="SpoolStore.MaxBytes"/>.
/// </summary>
internal sealed class Spool : IDisposable
{
    public const int MemoryBytes = 32 * 1024;

    private readonly SpoolStore _store;
    private readonly object _gate = new();
    private readonly byte[] _ring = new byte[MemoryBytes];
    private int _ringStart, _ringCount;
    private SafeFileHandle? _file;
    private long _fileWritten, _fileRead, _total;
    private bool _completed, _disposed;
    private Exception? _failure;
    private TaskCompletionSource _changed = NewSignal();

    public Spool(SpoolStore store)
    {
        _store = store;
        Writer = new WriteSide(this);
    }

    /// <summary>The producer's side: a write-only stream that never blocks on the reader.</summary>
    public Stream Writer { get; }

    /// <summary>Whether any byte went to the file (for tests and logs).</summary>
    public bool Spilled { get; private set; }

    /// <summary>The producer is done: the reader gets end-of-stream after the last byte.</summary>
    public void Complete() => Signal(() => _completed = true);

    /// <summary>The producer failed: the reader gets the bytes so far, then this exception.</summary>
    public void Fail(Exception e) => Signal(() => _failure ??= e);

    /// <summary>Reads the next bytes at the reader's pace; 0 at the end; the producer's failure once its bytes are read.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct)
    {
        while (true)
        {
            Task changed;
            long fileOffset;
            int fileCount;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                // Ring bytes always precede unread file bytes: the writer fills the ring only when the file is caught up.
                if (_ringCount > 0)
                {
                    var n = Math.Min(buffer.Length, Math.Min(_ringCount, MemoryBytes - _ringStart));
                    _ring.AsSpan(_ringStart, n).CopyTo(buffer.Span);
                    _ringStart = (_ringStart + n) % MemoryBytes;
                    _ringCount -= n;
                    return n;
                }
                if (_fileRead < _fileWritten)
                {
                    fileOffset = _fileRead;
                    fileCount = (int)Math.Min(buffer.Length, _fileWritten - _fileRead);
                    changed = Task.CompletedTask;
                }
                else
                {
                    if (_failure is not null) throw new IOException("The export failed before it was complete.", _failure);
                    if (_completed) return 0;
                    fileOffset = -1;
                    fileCount = 0;
                    changed = _changed.Task;
                }
            }
            if (fileOffset < 0)
            {
                await changed.WaitAsync(ct);
                continue;
            }
            // Written file bytes never change, so they are read outside the lock (positional reads are thread-safe).
            var read = await RandomAccess.ReadAsync(_file!, buffer[..fileCount], fileOffset, ct);
            lock (_gate) _fileRead += read;
            return read;
        }
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_total + bytes.Length > _store.MaxBytes) throw new SpoolFullException(_store.MaxBytes);
            _total += bytes.Length;
            if (_fileRead == _fileWritten && MemoryBytes - _ringCount >= bytes.Length)
            {
                var end = (_ringStart + _ringCount) % MemoryBytes;
                var first = Math.Min(bytes.Length, MemoryBytes - end);
                bytes[..first].CopyTo(_ring.AsSpan(end));
                bytes[first..].CopyTo(_ring);
                _ringCount += bytes.Length;
            }
            else
            {
                _file ??= OpenFile();
                // Under the lock: the reader must not see the new length before the bytes are there. A page-cache write.
                RandomAccess.Write(_file, bytes, _fileWritten);
                _fileWritten += bytes.Length;
                Spilled = true;
            }
        }
        Signal(null);
    }

    private SafeFileHandle OpenFile()
    {
        _store.EnsureDirectory();
        var path = Path.Combine(_store.Directory, $"{SpoolStore.FilePrefix}{Environment.ProcessId}-{Guid.NewGuid():N}{SpoolStore.FileSuffix}");
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Delete, FileOptions.DeleteOnClose);
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Windows may refuse while open; DeleteOnClose removes it then.
        }
        return handle;
    }

    private void Signal(Action? change)
    {
        TaskCompletionSource fire;
        lock (_gate)
        {
            change?.Invoke();
            fire = _changed;
            _changed = NewSignal();
        }
        fire.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _file?.Dispose();
        }
    }

    private sealed class WriteSide(Spool spool) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override Task FlushAsync(CancellationToken ct) => Task.CompletedTask;
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => spool.Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer) => spool.Write(buffer);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            ct.ThrowIfCancellationRequested();
            spool.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();
    }
}
