using Kernel.Ids;
using Kernel.Observability;
using System.Threading.Channels;
using Hangfire;
using Hangfire.Server;
using Kernel.Data;
using Kernel.Http;
using Kernel.Security;
using Microsoft.Extensions.Logging;
using Modules.Import.Csv;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Import.Jobs;

/// <summary>
/// Runs one CSV import (spec §3.7). Hangfire persists this type and method by name: the namespace and the
/// signatures stay as they are. Safe to run twice or concurrently: a session advisory lock admits one run per
/// import, a guarded status update claims it, and every chunk of rows commits together with the checkpoint
/// (rows consumed and counters) — a run after a crash skips the rows the checkpoint covers and goes on.
/// See src/Modules/Import/README.md.
/// </summary>
public sealed class ImportLeadsJob
{
    public const string Queue = "import";
    public const int RetryAttempts = 3;

    // Crashes (kill -9, OOM) are not exceptions Hangfire can count; the import's own start counter bounds them.
    private const int MaxStarts = 10;

    private readonly NpgsqlDataSource _db;
    private readonly LeadIntake _intake;
    private readonly ILogger<ImportLeadsJob> _log;
    private readonly System.Diagnostics.Stopwatch _scan = new(), _write = new(), _prepare = new();

    internal ImportLeadsJob(NpgsqlDataSource db, LeadIntake intake, ImportOptions options, ILogger<ImportLeadsJob> log)
    {
        _db = db;
        _intake = intake;
        _log = log;
        Options = options;
    }

    internal ImportOptions Options { get; set; }

    /// <summary>Tests simulate crashes here: called with ("before-commit" | "after-commit", chunk number from 1).</summary>
    internal Action<string, int>? TestHook { get; set; }

    /// <summary>The Hangfire entry point. <paramref name="fileName"/> only names the job on the dashboard.</summary>
    [Queue(Queue)]
    [TypeIdDisplayName("Import {0} ({1})", IdPrefix.Import)]
    [AutomaticRetry(Attempts = RetryAttempts, DelaysInSeconds = new[] { 10, 60, 300 })]
    public Task RunAsync(Guid importId, string fileName, PerformContext? context, CancellationToken ct) =>
        RunAsync(importId, finalAttempt: (context?.GetJobParameter<int>("RetryCount") ?? 0) >= RetryAttempts, ct);

    /// <summary>Imports (or resumes importing) the upload; returns when the import is completed or failed, or another run holds it.</summary>
    public Task RunAsync(Guid importId, CancellationToken ct) => RunAsync(importId, finalAttempt: false, ct);

    private async Task RunAsync(Guid importId, bool finalAttempt, CancellationToken ct)
    {
        await using var conn = await _db.OpenConnectionAsync(ct);
        if (!await JobData.TryLockAsync(conn, importId, ct))
        {
            _log.LogInformation("Import {ImportId} is being run by another worker", ImportTypeId(importId));
            return;
        }
        try
        {
            var job = await JobData.ClaimAsync(conn, importId, ct);
            if (job is null) return; // finished already, or unknown
            if (job.Attempts > MaxStarts)
                throw new ImportFailedException($"The import was started {MaxStarts} times without finishing (its worker kept stopping); giving up.");
            _log.LogInformation("Import {ImportId} ({File}) started, attempt {Attempt}, resuming after row {Rows}",
                ImportTypeId(importId), job.FileName, job.Attempts, job.ProcessedRows);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await ProcessAsync(conn, job, ct);
            _log.LogInformation("Import {ImportId} completed in {Seconds:F1} s (scan {Scan:F1} s, preparing rows {Prepare:F1} s, writing chunks {Write:F1} s)",
                ImportTypeId(importId), clock.Elapsed.TotalSeconds, _scan.Elapsed.TotalSeconds, _prepare.Elapsed.TotalSeconds, _write.Elapsed.TotalSeconds);
        }
        catch (ImportFailedException e)
        {
            _log.LogWarning("Import {ImportId} failed: {Reason}", ImportTypeId(importId), e.Message);
            await FailAsync(importId, e.Message);
        }
        catch (MalformedCsvException e)
        {
            await FailAsync(importId, $"Line {e.Line}: {e.Message[(e.Message.IndexOf(':') + 2)..]}");
        }
        catch (ImportSupersededException)
        {
            _log.LogWarning("Import {ImportId}: another run moved the checkpoint; this run stops", ImportTypeId(importId));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw; // shutting down: the next run resumes from the checkpoint
        }
        catch (Exception e) when (finalAttempt || !IsTransient(e))
        {
            _log.LogError(e, "Import {ImportId} stopped on an unexpected error", ImportTypeId(importId));
            await FailAsync(importId, $"The import stopped on an unexpected error ({e.GetType().Name}); rows committed before it stay imported.");
        }
        finally
        {
            if (conn.State == System.Data.ConnectionState.Open)
            {
                try { await JobData.UnlockAsync(conn, importId); }
                catch (NpgsqlException) { /* the lock dies with the session anyway */ }
            }
        }
    }

    private async Task FailAsync(Guid importId, string reason)
    {
        await using var conn = await _db.OpenConnectionAsync();
        await JobData.FailAsync(conn, importId, reason, CancellationToken.None);
    }

    private async Task ProcessAsync(NpgsqlConnection conn, ImportJobRow job, CancellationToken ct)
    {
        var shape = CsvSniffer.Sniff(await UploadStream.PrefixAsync(conn, job.Id, ct))
            ?? throw new ImportFailedException("The file is empty: a header row is required.");
        if (job.DryRun && job.ProcessedRows > 0)
        {
            await JobData.RestartAsync(conn, job.Id, ct);
            job = job with { ProcessedRows = 0 };
        }
        if (job.TotalRows is null)
        {
            _scan.Start();
            var (rows, header) = await ScanAsync(job.Id, shape.Delimiter, ct);
            _scan.Stop();
            await JobData.ScannedAsync(conn, job.Id, rows, [.. header.Select(Storable)], ct);
        }
        IntakeContext intake;
        try { intake = await LeadIntake.ContextAsync(conn, null, job.WorkspaceId, job.SourceId, ct); }
        catch (ApiProblemException)
        {
            throw new ImportFailedException("The import's source was deleted before all its rows were imported; rows committed before stay imported.");
        }
        await JobData.ConfigureSessionAsync(conn, ct);
        await ImportRowsAsync(conn, job, shape.Delimiter, intake, ct);
        await JobData.CompleteAsync(conn, job.Id, ct);
    }

    /// <summary>
    /// First pass: the whole file must parse, have a header and stay within the row limit before any lead is
    /// written, so a malformed file fails with nothing imported. Reading 1 MiB chunks back is cheap next to inserting.
    /// </summary>
    private async Task<(long Rows, IReadOnlyList<string> Header)> ScanAsync(Guid importId, char delimiter, CancellationToken ct)
    {
        await using var stream = new UploadStream(_db, importId);
        try
        {
            await using var records = await CsvRecords.OpenAsync(stream, delimiter, Options.MaxRecordChars, ct);
            long rows = 0;
            while (await records.ReadAsync(ct))
            {
                if (++rows > Options.MaxRows)
                    throw new ImportFailedException($"The file has more than {Options.MaxRows:N0} rows, the most one import takes. Nothing was imported.");
            }
            if (!ColumnMap.From(records.Header).HasLeadColumn)
                throw new ImportFailedException("The first line is not a header: it names none of email, firstName, lastName, phone, company. Nothing was imported.");
            return (rows, records.Header);
        }
        catch (MalformedCsvException e)
        {
            throw new ImportFailedException($"Line {e.Line}: {e.Message[(e.Message.IndexOf(':') + 2)..]} Nothing was imported.");
        }
    }

    /// <summary>
    /// Second pass, as a two-stage pipeline: one task parses the next chunk and runs the Leads module's
    /// <see cref="LeadIntake.Prepare(IReadOnlyList{LeadInput}, IntakeContext)"/> over it (CSV parsing, phone parsing and
    /// scoring are CPU work) while this one writes the previous chunk (database work), so the two overlap. A chunk ends at
    /// <c>Import:ChunkRows</c> rows or <c>Import:ChunkBytes</c> of row text, whichever comes first, and at most two chunks
    /// wait between them, which bounds memory by bytes whatever the file's rows hold.
    /// </summary>
    private async Task ImportRowsAsync(NpgsqlConnection conn, ImportJobRow job, char delimiter, IntakeContext intake, CancellationToken ct)
    {
        var target = new IntakeTarget(job.WorkspaceId, job.SourceId, LeadChannels.Import, Actor.Import(job.Id, job.FileName), job.Id);
        if (job.DryRun) await DryRunKeys.StartAsync(conn, ct);
        var chunks = Channel.CreateBounded<Batch>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reader = Task.Run(() => ReadBatchesAsync(job, delimiter, intake, chunks.Writer, stop.Token), stop.Token);
        try
        {
            var processed = job.ProcessedRows;
            var chunkNo = (int)(processed / Options.ChunkRows);
            await foreach (var batch in chunks.Reader.ReadAllAsync(stop.Token))
            {
                _write.Start();
                processed = await CommitChunkAsync(conn, job, target, batch, processed, ++chunkNo, ct);
                _write.Stop();
            }
        }
        catch
        {
            await stop.CancelAsync();
            try { await reader; } catch (Exception) { /* the writer's failure is the one to report */ }
            throw;
        }
        await reader;
        if (job.DryRun) await DryRunKeys.DropAsync(conn, ct);
    }

    private async Task ReadBatchesAsync(ImportJobRow job, char delimiter, IntakeContext intake, ChannelWriter<Batch> chunks, CancellationToken ct)
    {
        try
        {
            var batch = new Batch();
            ColumnMap? map = null;
            await using var stream = new UploadStream(_db, job.Id);
            await using var records = await CsvRecords.OpenAsync(stream, delimiter, Options.MaxRecordChars, ct);
            while (await records.ReadAsync(ct))
            {
                if (records.RowNo <= job.ProcessedRows) continue; // committed by an earlier run
                map ??= ColumnMap.From(records.Header);
                var error = records.Oversized ? Oversized(records.MaxRecordChars) : Unreadable(records.Fields, map);
                batch.Bytes += BatchBytes(records.Fields);
                batch.Rows.Add(new Row(records.RowNo, records.Line, [.. records.Fields], error is null ? map.ToInput(records.Fields) : null, error));
                if (batch.Rows.Count >= PrepareRows) Prepare(batch, intake);
                if (batch.Count < Options.ChunkRows && batch.Bytes < Options.ChunkBytes) continue;
                Prepare(batch, intake);
                await chunks.WriteAsync(batch, ct);
                batch = new Batch();
            }
            Prepare(batch, intake);
            if (batch.Count > 0) await chunks.WriteAsync(batch, ct);
            chunks.Complete();
        }
        catch (Exception e)
        {
            chunks.Complete(e);
            throw;
        }
    }

    // Rows are prepared a few hundred at a time as they are read, so their raw fields (and metadata objects) are let go
    // long before the chunk is written: a chunk holds prepared leads, not rows twice.
    private const int PrepareRows = 256;

    /// <summary>The rows read since the last call through the intake rules: accepted leads in file order, and rejected rows.</summary>
    private void Prepare(Batch batch, IntakeContext intake)
    {
        if (batch.Rows.Count == 0) return;
        _prepare.Start();
        var prepared = LeadIntake.Prepare([.. batch.Rows.Where(r => r.Input is not null).Select(r => r.Input!)], intake);
        var next = 0;
        foreach (var r in batch.Rows)
        {
            var p = r.Input is null ? null : prepared[next++];
            if (p?.Lead is not null) batch.Accepted.Add(p);
            else batch.Errors.Add(new RowError(r.RowNo, r.Line, p is null ? r.Error! : string.Join(" ", p.Errors.Values), [.. r.Fields.Select(Storable)]));
        }
        batch.Prepared += batch.Rows.Count;
        batch.Rows.Clear();
        _prepare.Stop();
    }

    /// <summary>What the CSV itself gets wrong in a row (more fields than the header, bytes that are not UTF-8); null if nothing.</summary>
    private static string? Unreadable(IReadOnlyList<string> fields, ColumnMap map)
    {
        for (var i = map.Count; i < fields.Count; i++)
            if (!string.IsNullOrWhiteSpace(fields[i]))
                return $"The row has {fields.Count} fields but the header has {map.Count}.";
        foreach (var f in fields)
            if (f.Contains('\uFFFD'))
                return "The row holds bytes that are not valid UTF-8 (shown as \uFFFD); save the file as UTF-8.";
        return null;
    }

    // PostgreSQL text cannot hold NUL; the error report shows it as U+FFFD.
    private static string Storable(string s) => s.Contains('\0') ? s.Replace('\0', '\uFFFD') : s;

    /// <summary>
    /// Writes the chunk's leads through the Leads module's intake (duplicate detection and inserts under the workspace's
    /// intake lock), its rejected rows, and the checkpoint, all in one transaction. Lock and FK conflicts with
    /// concurrent deletes or merges retry.
    /// </summary>
    private async Task<long> CommitChunkAsync(NpgsqlConnection conn, ImportJobRow job, IntakeTarget target, Batch batch,
        long processed, int chunkNo, CancellationToken ct)
    {
        using var span = LeadsTelemetry.Source.StartActivity("import chunk");
        span?.SetTag("leads.import.id", TypeId.Format(IdPrefix.Import, job.Id));
        span?.SetTag("leads.import.chunk", chunkNo);
        span?.SetTag("leads.import.rows", batch.Count);
        var options = new IntakeWriteOptions(SkipDuplicates: job.OnDuplicate == "skip", DryRun: job.DryRun);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var tx = await conn.BeginTransactionAsync(ct);
                if (job.DryRun) options = options with { UnwrittenKeys = await DryRunKeys.SeenAsync(conn, tx, KeysOf(batch.Accepted), ct) };
                var written = await _intake.WriteBatchAsync(conn, tx, target, batch.Accepted, options, ct);
                if (job.DryRun) await DryRunKeys.AddAsync(conn, tx, [.. written.TakenKeys], ct);
                await JobData.InsertErrorsAsync(conn, job.Id, batch.Errors, ct);
                TestHook?.Invoke("before-commit", chunkNo);
                var counts = new ChunkCounts(batch.Count, written.Written, written.Duplicates, written.Skipped, batch.Errors.Count);
                if (!await JobData.CheckpointAsync(conn, tx, job.Id, processed, counts, ct)) throw new ImportSupersededException();
                await tx.CommitAsync(ct);
                CountRows(job.DryRun, written.Written, written.Duplicates, written.Skipped, batch.Errors.Count);
                TestHook?.Invoke("after-commit", chunkNo);
                return processed + batch.Count;
            }
            catch (PostgresException e) when (attempt < 5 && e.SqlState is "23503" or "40P01" or "40001")
            {
                _log.LogInformation("Import {ImportId} chunk {Chunk} conflicted ({SqlState}); retrying", ImportTypeId(job.Id), chunkNo, e.SqlState);
                await Task.Delay(100 * attempt, ct);
            }
        }
    }

    private static string ImportTypeId(Guid id) => TypeId.Format(IdPrefix.Import, id);

    private static void CountRows(bool dryRun, long written, long duplicates, long skipped, long failed)
    {
        if (dryRun) LeadsTelemetry.ImportRowsProcessed("dry_run", written);
        else
        {
            LeadsTelemetry.ImportRowsProcessed("created", written - duplicates);
            LeadsTelemetry.ImportRowsProcessed("duplicate", duplicates);
            LeadsTelemetry.LeadsCreated(LeadChannels.Import, written);
        }
        LeadsTelemetry.ImportRowsProcessed("skipped", skipped);
        LeadsTelemetry.ImportRowsProcessed("failed", failed);
    }

    private static string[] KeysOf(IEnumerable<PreparedLead> rows) => rows
        .SelectMany(a => new[]
        {
            a.Lead!.EmailNorm is { } e ? DryRunKeys.Email(e) : null,
            a.Lead.PhoneE164 is { } p ? DryRunKeys.Phone(p) : null,
        })
        .OfType<string>().Distinct().ToArray();

    // Besides Npgsql's own transient errors: a failover's "no suitable host" and a just-promoted, still read-only standby.
    private static bool IsTransient(Exception e) =>
        e is NpgsqlException { IsTransient: true } or TimeoutException or IOException || DbErrors.IsUnavailable(e)
        || (e.InnerException is not null && IsTransient(e.InnerException));

    /// <summary>A parsed row: its fields and lead fields, or what the CSV got wrong in it.</summary>
    private sealed record Row(long RowNo, long Line, string[] Fields, LeadInput? Input, string? Error);

    private static string Oversized(int maxChars) =>
        $"The record is longer than {maxChars:N0} characters (Import:MaxRecordChars); it was skipped up to the next line break outside quotes.";

    /// <summary>
    /// What a row costs a batch in memory, roughly: its text twice (UTF-16, as read and as normalised or kept for
    /// the error report) plus the objects around it. Only the bound matters, not the exact figure.
    /// </summary>
    private static long BatchBytes(IReadOnlyList<string> fields)
    {
        long chars = 0;
        foreach (var f in fields) chars += f.Length;
        return 256 + 4 * chars;
    }

    private sealed class Batch
    {
        /// <summary>Rows as parsed, not yet through the intake rules.</summary>
        public List<Row> Rows { get; } = [];
        public List<PreparedLead> Accepted { get; } = [];
        public List<RowError> Errors { get; } = [];

        /// <summary>Rows already through the intake rules.</summary>
        public int Prepared { get; set; }

        /// <summary>Rows the chunk consumed (accepted and rejected).</summary>
        public int Count => Prepared + Rows.Count;

        /// <summary>Estimated memory held by the batch's rows (<see cref="BatchBytes"/>); capped by <c>Import:ChunkBytes</c>.</summary>
        public long Bytes { get; set; }
    }
}

/// <summary>The import cannot go on for a reason its owner should read (stored as <c>failureReason</c>).</summary>
internal sealed class ImportFailedException(string reason) : Exception(reason);

/// <summary>Another run of the same import advanced the checkpoint first.</summary>
internal sealed class ImportSupersededException() : Exception("The import's checkpoint moved under this run.");

