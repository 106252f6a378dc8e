namespace Modules.Import.Csv;

/// <summary>Writes RFC 4180 rows: comma-separated, CRLF, fields quoted when they hold a comma, quote, line break or edge spaces.</summary>
internal static class CsvText
{
    public static async Task WriteRowAsync(TextWriter w, IReadOnlyList<string> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0) await w.WriteAsync(',');
            await w.WriteAsync(Quote(fields[i]));
        }
        await w.WriteAsync("\r\n");
    }

    private static string Quote(string s)
    {
        var needs = s.Length > 0 && (char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1])) || s.AsSpan().IndexOfAny(",\"\r\n") >= 0;
        return needs ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
    }
}
