namespace Modules.Tags.Data;

/// <summary>The shape rules for a tag name (spec §3.4, §7), shared by the validators of this module.</summary>
internal static class TagNames
{
    public const int MaxLength = 50;

    /// <summary>
    /// Length in Unicode code points, as PostgreSQL's <c>char_length</c> counts it in the table's check
    /// constraint, so a 50-emoji name passes here exactly when it passes there.
    /// </summary>
    public static int Length(string s) => s.EnumerateRunes().Count();

    /// <summary>
    /// False when the text holds a control character: NUL cannot be stored in PostgreSQL at all, and tabs or line
    /// breaks would break every place a tag is shown. (Unpaired surrogates never get this far: the JSON reader
    /// rejects them and URL decoding replaces them.)
    /// </summary>
    public static bool IsPrintable(string s) => !s.Any(char.IsControl);
}
