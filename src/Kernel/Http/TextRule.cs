using System.Buffers;
using System.Globalization;
using System.Text;

namespace Kernel.Http;

/// <summary>
/// The one text rule for every string a request carries (spec §7, issue #16): printable text in Unicode
/// normalisation form C. Refused: control characters (tab, line feed and carriage return aside — single-line
/// fields refuse those in their own validators), format characters (zero-width spaces, bidi overrides and
/// isolates, BOM, soft hyphen), line and paragraph separators, unpaired surrogates and noncharacters. These
/// make look-alike values ("vip" and "v\u200Bip"), break storage (PostgreSQL text cannot hold NUL) or reorder
/// what a reader sees. ZWNJ and ZWJ stay allowed between two non-ASCII characters, where scripts (Persian,
/// Indic) and emoji sequences need them. Accepted text is NFC-normalised, so "é" typed as e + U+0301 and as
/// U+00E9 is the same value.
/// </summary>
public static class TextRule
{
    /// <summary>Why <paramref name="s"/> breaks the rule, naming <paramref name="field"/>; null when it does not.</summary>
    public static string? Violation(string s, string field)
    {
        if (s.Length == 0) return null;
        var span = s.AsSpan();
        for (var i = 0; i < span.Length;)
        {
            if (Rune.DecodeFromUtf16(span[i..], out var r, out var n) != OperationStatus.Done)
                return $"{field} must not contain unpaired surrogate code units (at character {i + 1}).";
            if (!Allowed(r, span, i, n)) return $"{field} must not contain control or invisible format characters ({Name(r)} at character {i + 1}).";
            i += n;
        }
        return null;
    }

    /// <summary><paramref name="s"/> in normalisation form C (cheap when it already is, the usual case).</summary>
    public static string Normalize(string s) => Nfc.Normalize(s);

    private static bool Allowed(Rune r, ReadOnlySpan<char> s, int at, int width)
    {
        var v = r.Value;
        if (v is '\t' or '\n' or '\r') return true;
        if ((v & 0xFFFE) == 0xFFFE || v is >= 0xFDD0 and <= 0xFDEF) return false; // noncharacters
        switch (Rune.GetUnicodeCategory(r))
        {
            case UnicodeCategory.Control:
            case UnicodeCategory.LineSeparator:
            case UnicodeCategory.ParagraphSeparator:
                return false;
            case UnicodeCategory.Format:
                return v is 0x200C or 0x200D && at > 0 && at + width < s.Length && s[at - 1] > 0x7F && s[at + width] > 0x7F
                       && !char.IsWhiteSpace(s[at - 1]) && !char.IsWhiteSpace(s[at + width]);
            default:
                return true;
        }
    }

    private static string Name(Rune r) => r.Value == 0 ? "NUL, U+0000" : $"U+{r.Value:X4}";
}
