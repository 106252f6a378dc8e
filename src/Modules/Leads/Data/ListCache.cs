using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;

namespace Modules.Leads.Data;

/// <summary>
/// What this node remembers between list requests, per workspace and exact filter (<see cref="LeadFilter"/> is the
/// key, with value equality): the exact total of a filter the counters cannot answer (a search, a date range) with the
/// IDs of its first <see cref="HeadSize"/> leads in list order, so its first page is that many primary-key lookups
/// instead of a walk past every lead that does not match; and the positions of every <see cref="Stride"/>-th lead in
/// list order, so that page 5,000 starts its walk at a remembered lead instead of stepping over 100,000 index entries.
/// <para>
/// Each entry carries the PostgreSQL snapshot it was computed in. It is only ever used by a statement that also
/// checks, in its own snapshot, that no transaction changing that workspace's list results has committed since
/// (<c>leads.changed_since</c> over the <c>leads.workspace_changes</c> log the triggers keep; true as well when the server
/// it reads has not replayed everything that snapshot counted — a lagging standby, see migration 0055). A changed workspace's
/// total is brought up to date from the leads that changed (<c>leads.lead_changes</c>), or counted again when that log
/// cannot tell, so totals stay exact; nothing is estimated. Entries are per node and bounded in number.
/// </para>
/// <para>
/// Fair between tenants: one workspace holds at most <c>workspaceShare</c> of the entries and of the positions
/// (<c>Leads:ListCache:WorkspaceShare</c>, half), beyond which its own entries make room; and when the node's bounds
/// are passed, entries are forgotten from whichever workspace holds the most. So a tenant paging to the end of a huge
/// list or sending endless distinct searches forgets its own entries, never every other tenant's.
/// </para>
/// </summary>
internal sealed class ListCache(int capacity, int stride, int maxAnchors, double workspaceShare = 0.5) : IDisposable
{
    /// <summary>
    /// A remembered result: the snapshot it holds for, the filter's exact total (when the counters cannot give it), the
    /// workspace's lead count then, <see cref="Anchors"/>[i], the lead at offset (i + 1) × <see cref="Stride"/>, and
    /// <see cref="Head"/>, the IDs of the first min(total, <see cref="HeadSize"/>) leads (empty when there is no total).
    /// <see cref="Exact"/> is false for an entry computed on a standby: its <see cref="Snapshot"/> is then the part of the
    /// standby's snapshot that can be vouched for (<c>leads.list_snapshot()</c>, every transaction below its xmin), so the
    /// entry counts as changed sooner but never as newer than it is, and a later total is counted again rather than
    /// adjusted from it.
    /// </summary>
    internal sealed record Entry(string Snapshot, long? Total, long WorkspaceTotal, Anchor[] Anchors, Guid[] Head, bool Exact = true);

    /// <summary>How many leading IDs an entry with a total remembers: every first page, whatever its limit.</summary>
    public const int HeadSize = Paging.MaxLimit;

    internal readonly record struct Anchor(DateTime CreatedAt, Guid Id);

    private readonly ConcurrentDictionary<LeadFilter, Entry> _entries = new();
    private readonly ConcurrentDictionary<LeadFilter, Task<Entry>> _computing = new();
    private readonly Lock _writing = new();
    private long _positions; // under _writing
    private readonly Dictionary<Guid, (int Entries, long Positions)> _usage = []; // per workspace, under _writing
    private readonly int _workspaceCapacity = Math.Max(1, (int)(capacity * Math.Clamp(workspaceShare, 0.01, 1)));
    private readonly long _workspaceAnchors = Math.Max(1, (long)(maxAnchors * Math.Clamp(workspaceShare, 0.01, 1)));

    public ListCache(IConfiguration config) : this(
        config.GetValue("Leads:ListCache:Capacity", 10_000),
        config.GetValue("Leads:ListCache:AnchorStride", 10),
        config.GetValue("Leads:ListCache:MaxAnchors", 1_000_000),
        config.GetValue("Leads:ListCache:WorkspaceShare", 0.5)) { }

    /// <summary>
    /// Leads between two remembered positions; a deep page walks fewer than this many index entries. The default, 10,
    /// divides every usual page size (10, 20, 50, 100), so such a page starts exactly at a remembered lead.
    /// </summary>
    public int Stride { get; } = stride > 0 ? stride : throw new ArgumentOutOfRangeException(nameof(stride));

    public int Count => _entries.Count;

    /// <summary>Totals counted in full (first request, log compacted, bulk change) since start.</summary>
    public long Recounts => Interlocked.Read(ref _recounts);

    /// <summary>Stale totals brought up to date from the changed leads alone (<c>leads.lead_changes</c>) since start.</summary>
    public long Adjustments => Interlocked.Read(ref _adjustments);

    private long _recounts, _adjustments, _hits, _misses;

    /// <summary>
    /// Scraped as <c>leads_list_cache_*</c>: per host, so this meter lives and dies with the cache (several hosts share a
    /// test process; a static meter would report them all).
    /// </summary>
    private Meter? _meter;

    /// <summary>Publishes the counters; called once the cache is built (an instance method: the callbacks read this cache).</summary>
    internal ListCache WithMetrics()
    {
        var m = new Meter(Kernel.Observability.LeadsTelemetry.Name);
        m.CreateObservableCounter("leads.list_cache.recounts", () => Recounts, "{count}", "List totals counted in full.");
        m.CreateObservableCounter("leads.list_cache.adjustments", () => Adjustments, "{count}", "Stale list totals adjusted from the changed leads alone.");
        m.CreateObservableCounter("leads.list_cache.hits", () => Interlocked.Read(ref _hits), "{lookup}", "List lookups that found a remembered total.");
        m.CreateObservableCounter("leads.list_cache.misses", () => Interlocked.Read(ref _misses), "{lookup}", "List lookups that found none.");
        m.CreateObservableGauge("leads.list_cache.entries", () => Count, "{entry}", "Filters remembered.");
        _meter = m;
        return this;
    }

    public void Dispose() => _meter?.Dispose();

    internal void CountedTotal(bool adjusted) => Interlocked.Increment(ref adjusted ? ref _adjustments : ref _recounts);

    public Entry? Get(LeadFilter f)
    {
        var e = _entries.GetValueOrDefault(f);
        Interlocked.Increment(ref e is null ? ref _misses : ref _hits);
        return e;
    }

    /// <summary>
    /// Remembers <paramref name="e"/>. Bounded twice: at most <c>capacity</c> entries and <c>maxAnchors</c> positions in all,
    /// anchors and head IDs alike (16–24 bytes each: 1,000,000 — ten filters paged to the end of a million leads — are
    /// at most 24 MB), and the workspace's share of each. Past its share, about a tenth of the workspace's own entries are
    /// forgotten; past the node's bounds, a tenth of the entries of the workspace holding the most. Entries are cheap to
    /// recompute, and this keeps memory bounded without bookkeeping on every read.
    /// </summary>
    public void Set(LeadFilter f, Entry e)
    {
        if (e.Anchors.Length + e.Head.Length > _workspaceAnchors)
            e = e with { Anchors = e.Anchors[..(int)Math.Max(0, _workspaceAnchors - e.Head.Length)] };
        lock (_writing)
        {
            Remove(f);
            _entries[f] = e;
            Account(f.WorkspaceId, 1, Positions(e));
            var ws = f.WorkspaceId;
            while ((_usage[ws].Entries > _workspaceCapacity || _usage[ws].Positions > _workspaceAnchors) && _usage[ws].Entries > 1)
                Evict(ws, f);
            while ((_entries.Count > capacity || _positions > maxAnchors) && _entries.Count > 1)
            {
                var byPositions = _positions > maxAnchors;
                var largest = _usage.Where(u => u.Key != ws || u.Value.Entries > 1)
                    .MaxBy(u => byPositions ? u.Value.Positions : u.Value.Entries).Key;
                Evict(largest, f);
            }
        }
    }

    /// <summary>Forgets about a tenth of <paramref name="workspaceId"/>'s entries (at least one), never <paramref name="keep"/>.</summary>
    private void Evict(Guid workspaceId, LeadFilter keep)
    {
        var count = Math.Max(1, _usage[workspaceId].Entries / 10);
        foreach (var k in _entries.Keys.Where(k => k.WorkspaceId == workspaceId && !k.Equals(keep)).Take(count).ToList())
            Remove(k);
    }

    private void Account(Guid workspaceId, int entries, long positions)
    {
        var (e, p) = _usage.GetValueOrDefault(workspaceId);
        if (e + entries == 0) _usage.Remove(workspaceId);
        else _usage[workspaceId] = (e + entries, p + positions);
        _positions += positions;
    }

    /// <summary>
    /// Computes and remembers the entry for <paramref name="f"/> once however many requests find it missing or stale at
    /// the same moment: the first computes, the others wait for its result (and compute for themselves only if it
    /// fails). Without this, a write to a busy workspace would send every concurrent search into its own full count.
    /// A waiter may get an entry whose snapshot predates its own request; the statement that uses it checks for changes
    /// since that snapshot like for any other entry.
    /// </summary>
    public async Task<Entry> ComputeOnceAsync(LeadFilter f, Func<Task<Entry>> compute)
    {
        var mine = new TaskCompletionSource<Entry>(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = _computing.GetOrAdd(f, mine.Task);
        if (running != mine.Task)
        {
            try { return await running; }
            catch (Exception) { return await compute(); }
        }
        try
        {
            var e = await compute();
            Set(f, e);
            mine.SetResult(e);
            return e;
        }
        catch (Exception ex)
        {
            mine.SetException(ex);
            _ = mine.Task.Exception; // observed: waiters retry on their own
            throw;
        }
        finally
        {
            _computing.TryRemove(KeyValuePair.Create(f, mine.Task));
        }
    }

    public void Remove(LeadFilter f)
    {
        lock (_writing)
            if (_entries.TryRemove(f, out var old)) Account(f.WorkspaceId, -1, -Positions(old));
    }

    private static long Positions(Entry e) => e.Anchors.Length + e.Head.Length;
}
