using System.Threading.Channels;
using Dapper;
using Kernel.Observability;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Intake;

/// <summary>
/// Single intake's group commit (<c>Intake:BatchMax</c>, <c>Intake:Writers</c>): <c>1</c> leads switches it off —
/// every new person is then written by its own request, as before.
/// </summary>
internal sealed record IntakeBatchOptions(int BatchMax, int Writers)
{
    public const int MaxBatch = 1000; // the INSERT trigger logs each lead of a statement of up to 1,000 (migration 0100)

    public static IntakeBatchOptions From(IConfiguration config)
    {
        var max = config.GetValue("Intake:BatchMax", 64);
        var writers = config.GetValue("Intake:Writers", 2);
        if (max is < 1 or > MaxBatch) throw new InvalidOperationException($"Intake:BatchMax must be 1–{MaxBatch} (1: no batching); it is {max}.");
        if (writers is < 1 or > 16) throw new InvalidOperationException($"Intake:Writers must be 1–16; it is {writers}.");
        return new IntakeBatchOptions(max, writers);
    }
}

/// <summary>
/// The group commit of concurrent single intakes on this node (src/Modules/Leads/Intake/README.md). A request hands its
/// prepared new person to <see cref="TryWriteNewAsync"/> and waits without holding a connection; each of
/// <c>Intake:Writers</c> writer loops, the moment it is free, takes everything pending (up to <c>Intake:BatchMax</c>)
/// and writes it in one round trip and one transaction (<see cref="SingleInsert.TryWriteNewBatchAsync"/>) — no
/// waiting for a batch to fill, so a lone request goes alone at the latency it had. Each lead of a batch keeps the fast
/// path's guard; one whose guard fails, or that shares a match key with an earlier lead of the same batch, takes the
/// ordinary path as before. When a batch's statement fails, nothing of it was written, and each of its leads is
/// written alone by its own request (the same statement for it alone, then the ordinary path). A lead is written iff its batch
/// committed, and its request then answers it even if the client has gone; a request whose client goes before a
/// writer took its lead leaves it unwritten.
/// </summary>
internal sealed class IntakeBatcher : IAsyncDisposable
{
    private readonly NpgsqlDataSource _db;
    private readonly IDuplicateDetector? _detector;
    private readonly ILogger<IntakeBatcher> _log;
    private readonly int _max;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly Task[] _writers;

    /// <summary>Runs between a batch's IDs being given and its statement (tests: force a failure of the statement).</summary>
    internal Func<IReadOnlyList<NewLeadRow>, Task>? BeforeWrite { get; set; }

    /// <summary>Leads waiting for a writer (tests: that the leads of a test queued up).</summary>
    internal int PendingCount => _queue.Reader.Count;

    /// <summary>The lead count of each batch written (tests: that batches of several leads formed).</summary>
    internal event Action<int>? Batched;

    public IntakeBatcher(NpgsqlDataSource db, IEnumerable<IDuplicateDetector> detectors, IntakeBatchOptions options, ILogger<IntakeBatcher> log)
    {
        _db = db;
        _detector = detectors.FirstOrDefault();
        _log = log;
        _max = options.BatchMax;
        _writers = _max > 1 && _detector is not null
            ? [.. Enumerable.Range(0, options.Writers).Select(_ => Task.Run(WriterAsync))]
            : [];
    }

    private readonly record struct Outcome(LeadDetail? Lead, bool Alone)
    {
        public static readonly Outcome Ordinary = new(null, false);
        public static readonly Outcome WriteAlone = new(null, true);
    }

    private sealed class Pending(NewLeadRow row)
    {
        public readonly NewLeadRow Row = row;
        public readonly TaskCompletionSource<Outcome> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int State; // Waiting, Taken (by a writer) or Abandoned (by its caller)
    }

    private const int Waiting = 0, Taken = 1, Abandoned = 2;

    /// <summary>
    /// Writes a new person prepared with <paramref name="region"/> (the fast path of <see cref="LeadIntake.CreateAsync"/>):
    /// the lead as committed, or null when it was not written because it matches an existing lead (or a lead of its
    /// batch), the workspace's region changed or the source is not live — the caller then takes the ordinary path.
    /// </summary>
    public async Task<LeadDetail?> TryWriteNewAsync(IntakeTarget target, NormalizedLead lead, int score, string region, CancellationToken ct)
    {
        if (_writers.Length == 0) return await WriteAloneAsync(target, lead, score, region, ct);
        var pending = new Pending(new NewLeadRow(Guid.Empty, target, lead, score, region));
        if (!_queue.Writer.TryWrite(pending)) return await WriteAloneAsync(target, lead, score, region, ct); // shutting down
        Outcome outcome;
        // The client may go while its lead waits; once a writer took it, the request waits for what committed.
        await using (ct.Register(() =>
                     {
                         if (Interlocked.CompareExchange(ref pending.State, Abandoned, Waiting) == Waiting) pending.Done.TrySetCanceled(ct);
                     }))
            outcome = await pending.Done.Task;
        if (outcome.Lead is not null) return outcome.Lead;
        return outcome.Alone ? await WriteAloneAsync(target, lead, score, region, ct) : null;
    }

    // The fast path without batching (Intake:BatchMax=1, a node shutting down, a lead of a failed batch): the same
    // statement for this lead alone, on the request's own connection and round trip.
    private async Task<LeadDetail?> WriteAloneAsync(IntakeTarget target, NormalizedLead lead, int score, string region, CancellationToken ct)
    {
        if (_detector is null) return null;
        await using var conn = await _db.OpenConnectionAsync(ct);
        var written = await SingleInsert.TryWriteNewBatchAsync(conn, _detector, [new NewLeadRow(MonotonicUuidV7.Shared.Next(), target, lead, score, region)], ct);
        return written[0];
    }

    private async Task WriterAsync()
    {
        NpgsqlConnection? conn = null; // the writer's own, kept open between batches (no pool checkout or reset per batch)
        var batch = new List<Pending>(_max);
        var keys = new HashSet<(Guid, string)>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync())
            {
                batch.Clear();
                keys.Clear();
                while (batch.Count < _max && _queue.Reader.TryRead(out var pending))
                {
                    if (Interlocked.CompareExchange(ref pending.State, Taken, Waiting) != Waiting) continue; // its client went
                    // One statement cannot see its own rows: of two leads sharing a match key, only the first goes in; the
                    // later one takes the ordinary path, which waits on the key's lock for this batch and is flagged after it.
                    if (!TakeKeys(keys, pending.Row)) pending.Done.TrySetResult(Outcome.Ordinary);
                    else batch.Add(pending);
                }
                if (batch.Count == 0) continue;
                try
                {
                    conn = await WriteAsync(conn, batch);
                }
                catch (Exception e)
                {
                    // Not the write (WriteAsync settles its own failures): whatever it was, no request may wait forever.
                    _log.LogError(e, "The group-commit writer failed outside a batch's write; its {Count} leads are written on their own", batch.Count);
                    foreach (var pending in batch) pending.Done.TrySetResult(Outcome.WriteAlone);
                    if (conn is not null) await conn.DisposeAsync();
                    conn = null;
                }
            }
        }
        finally
        {
            if (conn is not null) await conn.DisposeAsync();
        }
    }

    private static bool TakeKeys(HashSet<(Guid, string)> keys, NewLeadRow row)
    {
        var ws = row.Target.WorkspaceId;
        var email = row.Lead.EmailNorm is { } e ? "e:" + e : null;
        var phone = row.Lead.PhoneE164 is { } p ? "p:" + p : null;
        if ((email is not null && keys.Contains((ws, email))) || (phone is not null && keys.Contains((ws, phone)))) return false;
        if (email is not null) keys.Add((ws, email));
        if (phone is not null) keys.Add((ws, phone));
        return true;
    }

    // Writes one batch and completes its requests; returns the connection to keep (null after a failure).
    private async Task<NpgsqlConnection?> WriteAsync(NpgsqlConnection? conn, List<Pending> batch)
    {
        // IDs strictly increasing in batch order: the rows of one statement share created_at, so their ID keeps them in order.
        var rows = new NewLeadRow[batch.Count];
        for (var i = 0; i < rows.Length; i++) rows[i] = batch[i].Row with { Id = MonotonicUuidV7.Shared.Next() };
        LeadsTelemetry.IntakeBatch(rows.Length);
        Batched?.Invoke(rows.Length);
        LeadDetail?[] written;
        try
        {
            if (conn is not { State: System.Data.ConnectionState.Open })
            {
                if (conn is not null) await conn.DisposeAsync();
                conn = await _db.OpenConnectionAsync();
            }
            if (BeforeWrite is { } hook) await hook(rows);
            // Not the requests' tokens: a batch is written whole or not at all, whoever has gone meanwhile.
            written = await SingleInsert.TryWriteNewBatchAsync(conn, _detector!, rows, CancellationToken.None);
        }
        catch (Exception e)
        {
            if (conn is not null) await conn.DisposeAsync();
            _log.LogWarning(e, "A group-commit batch of {Count} new leads failed; each is written on its own", rows.Length);
            await SettleFailedAsync(batch, rows, e);
            return null;
        }
        for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(written[i] is { } lead ? new Outcome(lead, false) : Outcome.Ordinary);
        return conn;
    }

    // A failed batch. The server reporting an error means its one transaction rolled back: each lead is written on its
    // own. Anything else (the connection broke) may have come after the commit: what the database holds decides.
    private async Task SettleFailedAsync(List<Pending> batch, NewLeadRow[] rows, Exception failure)
    {
        if (failure is PostgresException)
        {
            foreach (var pending in batch) pending.Done.TrySetResult(Outcome.WriteAlone);
            return;
        }
        try
        {
            await using var conn = await _db.OpenConnectionAsync();
            var ids = rows.Select(r => r.Id).ToArray();
            var committed = (await conn.QueryAsync<Guid>("SELECT id FROM leads.leads WHERE id = ANY(@Ids)", new { Ids = ids })).ToHashSet();
            for (var i = 0; i < batch.Count; i++)
            {
                if (committed.Count == 0) { batch[i].Done.TrySetResult(Outcome.WriteAlone); continue; }
                // The batch committed: its leads are answered as they are now; one not among them failed its guard.
                var lead = committed.Contains(rows[i].Id) ? await LeadReads.DetailAsync(conn, rows[i].Target.WorkspaceId, rows[i].Id, CancellationToken.None) : null;
                batch[i].Done.TrySetResult(lead is not null ? new Outcome(lead, false) : Outcome.Ordinary);
            }
        }
        catch (Exception e)
        {
            // Neither written nor known not to be: the requests fail (500) rather than risk writing a lead twice.
            _log.LogError(e, "Could not tell whether a failed group-commit batch of {Count} new leads committed", rows.Length);
            foreach (var pending in batch) pending.Done.TrySetException(failure);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_writers); // the writers drain what is pending
    }
}
