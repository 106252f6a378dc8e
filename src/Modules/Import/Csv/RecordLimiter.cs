using System.Globalization;

namespace Modules.Import.Csv;

/// <summary>
/// Sits between the decoded upload and Sylvan's reader and keeps every record Sylvan sees within
/// <c>maxRecordChars</c>, so one giant record costs one row, not the file (and never more memory than the limit).
/// It follows RFC 4180 quoting itself (a quote opens a quoted field only at a field's start; <c>""</c> inside one is
/// a quote) to know where records end. Once a record passes the limit, the rest of it is skipped up to the next line
/// break outside quotes, and the record is ended with one extra field, <see cref="Marker"/> followed by the number
/// of line breaks skipped, which <see cref="CsvRecords"/> turns into an oversized row at the right physical line.
/// A quote still open at the end of the file means no next record can be found: <see cref="UnclosedQuoteException"/>.
/// The marker cannot come from the file: a U+FFFF in the input arrives as U+FFFD (a row error, like invalid UTF-8).
/// </summary>
internal sealed class RecordLimiter(TextReader inner, char delimiter, int maxRecordChars) : TextReader
{
    /// <summary>A noncharacter, never passed through from the file.</summary>
    public const char Marker = '\uFFFF';

    private enum State { FieldStart, Unquoted, Quoted, QuoteInQuoted }

    private readonly char[] _in = new char[1 << 16];
    private int _inPos, _inLen;
    private bool _eof;
    private string _pending = "";
    private int _pendingPos;
    private State _state = State.FieldStart;
    private long _recordChars, _skippedBreaks;
    private bool _skipping, _swallowLf, _prevCr;
    private string _close = "";

    public override async ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken ct = default)
    {
        if (buffer.IsEmpty) return 0;
        while (true)
        {
            if (NeedsInput)
            {
                _inLen = await inner.ReadAsync(_in.AsMemory(), ct);
                _inPos = 0;
                _eof = _inLen == 0;
            }
            var n = Transfer(buffer.Span);
            if (n > 0 || Finished) return n;
        }
    }

    public override int Read(Span<char> buffer)
    {
        if (buffer.IsEmpty) return 0;
        while (true)
        {
            if (NeedsInput)
            {
                _inLen = inner.Read(_in);
                _inPos = 0;
                _eof = _inLen == 0;
            }
            var n = Transfer(buffer);
            if (n > 0 || Finished) return n;
        }
    }

    public override Task<int> ReadAsync(char[] buffer, int index, int count) => ReadAsync(buffer.AsMemory(index, count)).AsTask();

    public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

    public override int Read()
    {
        Span<char> one = stackalloc char[1];
        return Read(one) == 0 ? -1 : one[0];
    }

    public override int Peek() => -1;

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    private bool PendingLeft => _pendingPos < _pending.Length;
    private bool NeedsInput => !PendingLeft && _inPos == _inLen && !_eof;
    private bool Finished => _eof && !PendingLeft && _inPos == _inLen && !_skipping;

    private int Transfer(Span<char> dest)
    {
        var w = 0;
        while (w < dest.Length)
        {
            if (PendingLeft)
            {
                var n = Math.Min(dest.Length - w, _pending.Length - _pendingPos);
                _pending.AsSpan(_pendingPos, n).CopyTo(dest[w..]);
                _pendingPos += n;
                w += n;
                continue;
            }
            if (_inPos == _inLen)
            {
                if (_eof && _skipping) EndSkip(atEof: true);
                else break;
                continue;
            }
            var c = _in[_inPos++];
            if (_swallowLf)
            {
                _swallowLf = false;
                if (c == '\n') continue;
            }
            if (c == Marker) c = '\uFFFD';
            var isBreak = c == '\r' || (c == '\n' && !_prevCr);
            _prevCr = c == '\r';
            var before = _state;
            var ended = Step(c);
            if (_skipping)
            {
                if (ended)
                {
                    _swallowLf = c == '\r';
                    EndSkip(atEof: false);
                }
                else if (isBreak) _skippedBreaks++;
                continue;
            }
            if (ended) _recordChars = 0;
            else if (++_recordChars > maxRecordChars)
            {
                _skipping = true;
                _skippedBreaks = isBreak ? 1 : 0;
                _close = (before == State.Quoted ? "\"" : "") + delimiter;
                continue;
            }
            dest[w++] = c;
        }
        return w;
    }

    /// <summary>Moves the quoting state over <paramref name="c"/>; true when it ends the record.</summary>
    private bool Step(char c)
    {
        var lineEnd = c is '\r' or '\n';
        switch (_state)
        {
            case State.Quoted:
                if (c == '"') _state = State.QuoteInQuoted;
                return false;
            case State.QuoteInQuoted when c == '"':
                _state = State.Quoted;
                return false;
            case State.FieldStart when c == '"':
                _state = State.Quoted;
                return false;
            default:
                if (c == delimiter) _state = State.FieldStart;
                else if (lineEnd) _state = State.FieldStart;
                else _state = State.Unquoted;
                return lineEnd;
        }
    }

    private void EndSkip(bool atEof)
    {
        if (atEof && _state == State.Quoted) throw new UnclosedQuoteException();
        _pending = _close + Marker + _skippedBreaks.ToString(CultureInfo.InvariantCulture) + "\n";
        _pendingPos = 0;
        _skipping = false;
        _recordChars = 0;
        _state = State.FieldStart;
    }
}

/// <summary>A quoted field of an over-long record is still open at the end of the file.</summary>
internal sealed class UnclosedQuoteException() : Exception("a quoted field is never closed");
