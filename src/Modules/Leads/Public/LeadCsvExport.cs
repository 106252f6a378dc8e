using System.Data;
using System.Text;
using Modules.Leads.Data;
using Modules.Leads.Features.ExportLeads;
using ExportSql = Modules.Leads.Features.ExportLeads.Data;
using Npgsql;
using Sylvan.Data.Csv;

namespace Modules.Leads.Public;

/// <summary>The list filters of spec §3.1 as an export takes them (raw values, validated by <see cref="LeadCsvExport.Validate"/>).</summary>
public sealed record LeadExportFilters : ILeadFilterQuery
{
    public string? Status { get; init; }
    public string? SourceId { get; init; }
    public string? Search { get; init; }
    public string? StartDate { get; init; }
    public string? EndDate { get; init; }
    public string? AssignedTo { get; init; }
    public string? Duplicates { get; init; }
    public string? Tag { get; init; }
    public string? UpdatedSince { get; init; }
    public string? UpdatedBefore { get; init; }
    /// <summary>The list's <c>sort</c> (spec §11); null is newest first.</summary>
    public string? Sort { get; init; }
}

/// <summary>
/// The leads CSV of spec §3.6, for the synchronous download and for the Import module's async export job: one
/// statement in a REPEATABLE READ READ ONLY transaction (one consistent snapshot), read sequentially and written
/// row by row through Sylvan's CSV writer. Memory stays flat whatever the number of leads.
/// <code>
/// await using var export = await LeadCsvExport.OpenAsync(db, workspaceId, filters, ct); // query runs; errors surface here
/// var rows = await export.WriteAsync(stream, ct);                                        // header + rows, flushed
/// </code>
/// </summary>
public sealed class LeadCsvExport : IAsyncDisposable
{
    public const string ContentType = "text/csv; charset=utf-8";

    /// <summary>Joins a lead's tag names in the <c>tags</c> cell (names ordered case-insensitively).</summary>
    public const string TagSeparator = ";";

    /// <summary>The header row's column names, in order.</summary>
    public static IReadOnlyList<string> Columns => CsvRows.Columns;

    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    private static readonly CsvDataWriterOptions CsvOptions = new()
    {
        // RFC 4180: CRLF line ends, fields quoted only when they hold a comma, quote, CR or LF (quotes doubled).
        NewLine = "\r\n",
        Delimiter = ',',
        Quote = '"',
        WriteHeaders = true,
    };

    private readonly NpgsqlConnection _conn;
    private readonly NpgsqlTransaction _tx;
    private readonly NpgsqlCommand _cmd;
    private readonly NpgsqlDataReader _reader;
    private bool _abandoned;

    private LeadCsvExport(NpgsqlConnection conn, NpgsqlTransaction tx, NpgsqlCommand cmd, NpgsqlDataReader reader)
    {
        _conn = conn;
        _tx = tx;
        _cmd = cmd;
        _reader = reader;
    }

    /// <summary><c>attachment; filename="leads-YYYYMMDD.csv"</c> for the given moment's UTC date.</summary>
    public static string ContentDisposition(DateTimeOffset at) => $"attachment; filename=\"leads-{at.UtcDateTime:yyyyMMdd}.csv\"";

    /// <summary>Filter problems keyed by parameter name (<c>status</c>, <c>endDate</c>…); empty when the filters are valid.</summary>
    public static IReadOnlyDictionary<string, string> Validate(LeadExportFilters filters)
    {
        var errors = LeadFilter.Parse(Guid.Empty, filters).Errors;
        foreach (var (field, message) in LeadSort.Errors(filters.Sort)) errors[field] = message;
        return errors;
    }

    /// <summary>Starts the export's query; call <see cref="Validate"/> first (invalid filters throw <see cref="ArgumentException"/>).</summary>
    public static async Task<LeadCsvExport> OpenAsync(NpgsqlDataSource db, Guid workspaceId, LeadExportFilters filters, CancellationToken ct)
    {
        var (filter, errors) = LeadFilter.Parse(workspaceId, filters);
        if (filter is null || !LeadSort.TryParse(filters.Sort, out var sort))
            throw new ArgumentException("Invalid export filters: " + string.Join(" ", Validate(filters).Values), nameof(filters));
        return (await OpenAsync(db, filter, sort, maxRows: null, ct))!;
    }

    /// <summary>
    /// Starts the query. With <paramref name="maxRows"/>, first counts (in the same snapshot, at most one past the cap)
    /// the rows the export will have, and returns null when they are more: nothing is read then.
    /// </summary>
    internal static async Task<LeadCsvExport?> OpenAsync(NpgsqlDataSource db, LeadFilter filter, LeadSort sort, long? maxRows, CancellationToken ct)
    {
        var conn = await db.OpenConnectionAsync(ct);
        NpgsqlTransaction? tx = null;
        NpgsqlCommand? cmd = null;
        try
        {
            tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", conn, tx))
                await readOnly.ExecuteNonQueryAsync(ct);
            if (maxRows is { } cap)
            {
                await using var count = ExportSql.CountCommand(conn, tx, filter, cap);
                if ((long)(await count.ExecuteScalarAsync(ct))! > cap)
                {
                    await tx.DisposeAsync();
                    await conn.DisposeAsync();
                    return null;
                }
            }
            cmd = ExportSql.Command(conn, tx, filter, sort);
            var reader = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
            return new LeadCsvExport(conn, tx, cmd, reader);
        }
        catch
        {
            if (cmd is not null) await cmd.DisposeAsync();
            if (tx is not null) await tx.DisposeAsync();
            await conn.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Writes the header and every row to <paramref name="output"/> (UTF-8, no byte-order mark), passing data on as
    /// Sylvan's buffer fills, and returns the number of rows. <paramref name="output"/> is left open. On cancellation
    /// or failure the query is cancelled on the server, so nothing keeps producing rows nobody will receive.
    /// </summary>
    public async Task<long> WriteAsync(Stream output, CancellationToken ct)
    {
        // Neither writer is disposed on failure: disposing flushes, and after a failed write the target (a closed
        // response, an aborted transaction) must not be written to again. They hold no unmanaged resources.
        var text = new StreamWriter(output, Utf8, bufferSize: 16 * 1024, leaveOpen: true);
        var csv = CsvDataWriter.Create(text, CsvOptions);
        try
        {
            var rows = await csv.WriteAsync(new CsvRows(_reader), ct);
            await text.FlushAsync(ct);
            return rows;
        }
        catch
        {
            // Cancelled, or the output failed: without this, closing the reader would drain the rest of the result
            // set over the wire for nobody.
            _abandoned = true;
            try
            {
                _cmd.Cancel();
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // The connection is already gone; there is nothing left to cancel.
            }
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _reader.DisposeAsync();
        }
        catch (Exception e) when (_abandoned && e is NpgsqlException or OperationCanceledException)
        {
            // The abandoned query ends with "canceling statement due to user request": the expected outcome.
        }
        finally
        {
            await _cmd.DisposeAsync();
            await _tx.DisposeAsync();
            await _conn.DisposeAsync();
        }
    }
}
