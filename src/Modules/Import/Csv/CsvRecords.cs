using System.Text;
using Sylvan.Data.Csv;

namespace Modules.Import.Csv;

/// <summary>A CSV file that cannot be read past some record: what is wrong, and on which line.</summary>
internal sealed class MalformedCsvException(long line, string message) : Exception($"line {line}: {message}")
{
    public long Line { get; } = line;
}

/// <summary>
/// The records of an uploaded CSV file through Sylvan's <see cref="CsvDataReader"/>, with the rules of spec §3.7:
/// UTF-8 with or without BOM (bytes that are not UTF-8 arrive as U+FFFD, so the row can be rejected rather than the
/// file), the given delimiter, RFC 4180 quoting (delimiters, quotes and line breaks inside quotes), CRLF, LF or CR-only
/// line ends, blank lines (every field empty) skipped, <c>#</c> never a comment. The first non-blank record is the
/// header. Each data record reports the physical line it starts on, counting line breaks inside quoted fields.
/// A record longer than <c>maxRecordChars</c> is cut off by <see cref="RecordLimiter"/> and read as
/// <see cref="Oversized"/> with no fields, so it costs its row, not the file (unless its quote never closes).
/// </summary>
internal sealed class CsvRecords : IAsyncDisposable
{
    private readonly CsvDataReader _csv;
    private readonly int _maxRecordChars;
    private readonly List<string> _fields = [];
    private long _nextLine = 1;

    private CsvRecords(CsvDataReader csv, int maxRecordChars)
    {
        _csv = csv;
        _maxRecordChars = maxRecordChars;
    }

    /// <summary>The header record's fields; empty until the first record was read.</summary>
    public IReadOnlyList<string> Header { get; private set; } = [];

    /// <summary>1-based number of the current data record (the header and blank lines not counted).</summary>
    public long RowNo { get; private set; }

    /// <summary>Physical line on which the current data record starts.</summary>
    public long Line { get; private set; }

    public IReadOnlyList<string> Fields => _fields;

    /// <summary>The current record was longer than the limit: its fields were skipped and <see cref="Fields"/> is empty.</summary>
    public bool Oversized { get; private set; }

    public int MaxRecordChars => _maxRecordChars;

    public static async Task<CsvRecords> OpenAsync(Stream utf8, char delimiter, int maxRecordChars, CancellationToken ct)
    {
        // The encoding's preamble makes StreamReader drop a UTF-8 BOM; invalid bytes become U+FFFD instead of throwing.
        var text = new StreamReader(utf8, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true, throwOnInvalidBytes: false),
            detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16);
        var options = new CsvDataReaderOptions
        {
            HasHeaders = false,
            Delimiter = delimiter,
            Quote = '"',
            Escape = '"',
            // Sylvan has no "no comments" switch; a lone low surrogate never starts a line of decoded text.
            Comment = '\uDFFF',
            CsvStyle = CsvStyle.Standard,
            ResultSetMode = ResultSetMode.SingleResult,
            BufferSize = 1 << 16,
            // The limiter hands over at most maxRecordChars of a record plus its marker; the rest is head room.
            MaxBufferSize = maxRecordChars + (1 << 16),
            OwnsReader = true,
        };
        try
        {
            return new CsvRecords(await CsvDataReader.CreateAsync(new RecordLimiter(text, delimiter, maxRecordChars), options, ct), maxRecordChars);
        }
        catch (CsvFormatException e)
        {
            text.Dispose();
            throw Malformed(1, e, maxRecordChars);
        }
        catch (UnclosedQuoteException)
        {
            text.Dispose();
            throw UnclosedQuote(1);
        }
    }

    /// <summary>Moves to the next data record; false at the end of the file.</summary>
    public async ValueTask<bool> ReadAsync(CancellationToken ct)
    {
        while (true)
        {
            bool more;
            try
            {
                more = await _csv.ReadAsync(ct);
            }
            catch (CsvFormatException e)
            {
                throw Malformed(_nextLine, e, _maxRecordChars);
            }
            catch (UnclosedQuoteException)
            {
                throw UnclosedQuote(_nextLine);
            }
            if (!more) return false;

            var line = _nextLine;
            var n = _csv.RowFieldCount;
            long breaks = 0;
            var oversized = n > 0 && _csv.GetFieldSpan(n - 1) is [RecordLimiter.Marker, ..];
            if (oversized)
            {
                breaks = long.Parse(_csv.GetFieldSpan(n - 1)[1..], System.Globalization.CultureInfo.InvariantCulture);
                n--;
            }
            var blank = !oversized;
            for (var i = 0; i < n; i++)
            {
                var f = _csv.GetFieldSpan(i);
                breaks += LineBreaks(f);
                if (blank && !f.IsWhiteSpace()) blank = false;
            }
            _nextLine = line + 1 + breaks;
            if (blank) continue;

            _fields.Clear();
            Oversized = oversized;
            if (!oversized)
                for (var i = 0; i < n; i++) _fields.Add(_csv.GetString(i));
            if (Header.Count == 0)
            {
                if (oversized)
                    throw new MalformedCsvException(line, $"the header record is longer than {_maxRecordChars:N0} characters.");
                Header = [.. _fields];
                continue;
            }
            RowNo++;
            Line = line;
            return true;
        }
    }

    private static int LineBreaks(ReadOnlySpan<char> s)
    {
        if (s.IndexOfAny('\r', '\n') < 0) return 0;
        var n = 0;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\n') n++;
            else if (s[i] == '\r' && (i + 1 == s.Length || s[i + 1] != '\n')) n++;
        }
        return n;
    }

    private static MalformedCsvException UnclosedQuote(long line) =>
        new(line, "a quoted field starting in this record is never closed (unbalanced quote).");

    private static MalformedCsvException Malformed(long line, CsvFormatException e, int maxRecordChars) => e switch
    {
        CsvRecordTooLargeException => new(line,
            $"the record starting here is longer than {maxRecordChars:N0} characters; is a quote left open?"),
        CsvInvalidCharacterException { Message: var m } when m.Contains("without a closing quote", StringComparison.Ordinal) =>
            new(line, "a quoted field starting in this record is never closed (unbalanced quote)."),
        CsvInvalidCharacterException { Message: var m } when m.Contains("after a closing quote", StringComparison.Ordinal) =>
            new(line, "text follows a closing quote; a quote inside a quoted field must be doubled (\"\")."),
        _ => new(line, $"malformed CSV: {e.Message}"),
    };

    public ValueTask DisposeAsync() => _csv.DisposeAsync();
}
