using System.Text;

namespace Modules.Import.Csv;

/// <summary>What the start of a file says about it: its delimiter and header line.</summary>
internal sealed record CsvShape(char Delimiter, IReadOnlyList<string> Header);

/// <summary>
/// Reads the header line from the first bytes of an upload (UTF-8, with or without BOM; blank lines before it
/// skipped) and picks the delimiter the header uses most: comma, semicolon or tab (ties in that order). The
/// upload uses it to refuse files without a header at once; the job uses it to configure the CSV reader.
/// </summary>
internal static class CsvSniffer
{
    public static readonly char[] Delimiters = [',', ';', '\t'];

    /// <summary>Null when the prefix holds no non-blank line at all (an empty file).</summary>
    public static CsvShape? Sniff(ReadOnlySpan<byte> prefix)
    {
        if (prefix.StartsWith("\uFEFF"u8)) prefix = prefix[3..];
        var text = Encoding.UTF8.GetString(prefix);
        var pos = 0;
        while (pos < text.Length)
        {
            var end = text.AsSpan(pos).IndexOfAny('\r', '\n');
            var line = end < 0 ? text[pos..] : text.Substring(pos, end);
            if (!string.IsNullOrWhiteSpace(line))
            {
                var delimiter = DetectDelimiter(line);
                return new CsvShape(delimiter, Split(line, delimiter));
            }
            if (end < 0) break;
            pos += end + 1;
        }
        return null;
    }

    private static char DetectDelimiter(string line)
    {
        Span<int> counts = stackalloc int[Delimiters.Length];
        var quoted = false;
        foreach (var c in line)
        {
            if (c == '"') quoted = !quoted;
            else if (!quoted)
                for (var d = 0; d < Delimiters.Length; d++)
                    if (c == Delimiters[d]) counts[d]++;
        }
        var best = 0;
        for (var d = 1; d < Delimiters.Length; d++)
            if (counts[d] > counts[best]) best = d;
        return Delimiters[best];
    }

    // Enough CSV to read a header line: quoted names may hold delimiters and doubled quotes.
    private static List<string> Split(string line, char delimiter)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c != '"') sb.Append(c);
                else if (i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == delimiter) { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(c);
        }
        fields.Add(sb.ToString());
        return fields;
    }
}
