using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;

namespace Modules.Access.Security;

/// <summary>
/// The rows of keys that authenticated recently, by SHA-256 hash, so that a busy key is not looked up in the database on
/// every request (single intake at 1,500 requests/s paid a round trip per request for the same row). An entry is used for
/// at most <c>Auth:KeyCacheSeconds</c> (default 2; 0 turns the cache off) after it was read, then read again.
///
/// Revocation: deactivating or deleting a key, or removing its member, through this node's API clears the cache before
/// the answer is sent, so the key fails on its very next call here; on another node (or by SQL, or the CLI in another
/// process) it fails within the bound. Expiry is checked on every request against the cached row, so an expiry date
/// takes effect to the second; a changed expiry date by SQL, within the bound. Only keys that authenticated are kept
/// (unknown and refused keys are looked up every time, and the failed-key throttle limits guessing). Entries older than
/// the bound are swept whenever the cache holds more than <see cref="SweepAbove"/>.
/// </summary>
internal sealed class ApiKeyCache(IConfiguration config, TimeProvider clock)
{
    internal const int SweepAbove = 10_000;

    internal sealed record Row(Guid Id, Guid WorkspaceId, Guid MemberId, string Scope, string Label, byte[] KeyHash,
        bool Active, DateTime? ExpiresAt, DateTime? LastUsedAt, string Role);

    private sealed class Entry(Row row, long readAt)
    {
        public Row Row { get; } = row;
        public long ReadAt { get; } = readAt;
        public long LastUsedAt = row.LastUsedAt is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToUnixTimeMilliseconds() : 0;
    }

    private readonly ConcurrentDictionary<string, Entry> _entries = new();
    private long _generation;

    private long BoundMs => (long)(Math.Max(0, config.GetValue("Auth:KeyCacheSeconds", 2.0)) * 1000);

    private long NowMs => clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The key's row when it was read less than the bound ago.</summary>
    public Row? Get(byte[] hash)
    {
        if (!_entries.TryGetValue(Convert.ToBase64String(hash), out var e)) return null;
        return NowMs - e.ReadAt < BoundMs ? e.Row : null;
    }

    /// <summary>
    /// The cache's generation, read before a lookup and handed to <see cref="Put"/>: a row read while a change that
    /// clears the cache committed is not kept (it may be the row from before the change).
    /// </summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>Keeps an active key's row read from the database in <paramref name="generation"/>.</summary>
    public void Put(byte[] hash, Row row, long generation)
    {
        var bound = BoundMs;
        if (bound == 0) return;
        var now = NowMs;
        if (_entries.Count >= SweepAbove)
            foreach (var (k, e) in _entries)
                if (now - e.ReadAt >= bound) _entries.TryRemove(k, out _);
        lock (_entries)
            if (generation == _generation) _entries[Convert.ToBase64String(hash)] = new Entry(row, now);
    }

    /// <summary>
    /// Whether this request should write the key's <c>last_used_at</c> (at most once a minute per key and node): true for
    /// one caller once the last write is a minute old. <paramref name="hash"/> names a cached key or a key just read.
    /// </summary>
    public bool ShouldTouch(byte[] hash, DateTime? lastUsedAtRead)
    {
        var now = NowMs;
        if (!_entries.TryGetValue(Convert.ToBase64String(hash), out var e))
            return lastUsedAtRead is null || lastUsedAtRead < clock.GetUtcNow().UtcDateTime.AddMinutes(-1);
        var last = Interlocked.Read(ref e.LastUsedAt);
        return now - last >= 60_000 && Interlocked.CompareExchange(ref e.LastUsedAt, now, last) == last;
    }

    /// <summary>Forgets every key: called after any change that may refuse a key (deactivation, deletion, member removal).</summary>
    public void Clear()
    {
        lock (_entries)
        {
            _generation++;
            _entries.Clear();
        }
    }
}
