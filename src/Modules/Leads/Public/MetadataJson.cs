using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kernel.Http;

namespace Modules.Leads.Public;

/// <summary>
/// How lead metadata is measured and checked. The 64 KB limit is on the UTF-8 bytes of the JSON as stored — not on
/// the escaped form System.Text.Json writes by default, where every non-ASCII character costs six bytes (\u00E9)
/// and a text in Greek or Japanese was refused at a third of the limit.
/// </summary>
internal static class MetadataJson
{
    /// <summary>Writes non-ASCII text as itself; only what JSON requires (quotes, backslashes, controls) is escaped.</summary>
    public static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// UTF-8 bytes of <paramref name="json"/> with each <c>\uD83D\uDE00</c>-style escaped surrogate pair (which the encoder
    /// always escapes) counted as the four bytes it is stored as.
    /// </summary>
    public static int Utf8Bytes(string json)
    {
        var bytes = Encoding.UTF8.GetByteCount(json);
        for (var i = json.IndexOf("\\u", StringComparison.Ordinal); i >= 0 && i + 12 <= json.Length; i = json.IndexOf("\\u", i + 1, StringComparison.Ordinal))
        {
            if (IsHigh(json.AsSpan(i + 2, 4)) && json[i + 6] == '\\' && json[i + 7] == 'u' && !IsBackslashEscaped(json, i))
            {
                bytes -= 12 - 4;
                i += 6;
            }
        }
        return bytes;
    }

    private static bool IsHigh(ReadOnlySpan<char> hex) =>
        int.TryParse(hex, System.Globalization.NumberStyles.HexNumber, null, out var v) && v is >= 0xD800 and <= 0xDBFF;

    private static bool IsBackslashEscaped(string s, int at)
    {
        var n = 0;
        for (var j = at - 1; j >= 0 && s[j] == '\\'; j--) n++;
        return n % 2 == 1;
    }

    /// <summary>The text rule (Kernel's <see cref="TextRule"/>) over every key and string value; null when all pass.</summary>
    public static string? Violation(JsonNode? node) => node switch
    {
        JsonObject o => o.Select(p => TextRule.Violation(p.Key, "metadata") ?? Violation(p.Value)).FirstOrDefault(v => v is not null),
        JsonArray a => a.Select(Violation).FirstOrDefault(v => v is not null),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => TextRule.Violation(v.GetValue<string>(), "metadata"),
        _ => null,
    };
}
