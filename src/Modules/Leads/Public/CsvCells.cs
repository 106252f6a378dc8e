namespace Modules.Leads.Public;

/// <summary>
/// Spreadsheet formula-injection defence for CSV files that carry user-supplied text (spec §3.6, OWASP
/// "CSV injection"). Every CSV this service writes passes its text cells through <see cref="Neutralise"/>.
/// </summary>
public static class CsvCells
{
    /// <summary>
    /// A cell whose first character would make a spreadsheet evaluate it (<c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>,
    /// tab, CR, LF) gets a leading <c>'</c>, which spreadsheets read as "this is text" and do not display.
    /// Plain numbers and phone numbers (<c>^[+-]?[0-9 ().-]+$</c>: <c>-5</c>, <c>+1 (415) 555-2671</c>) are
    /// left alone: they cannot call functions, and a phone number must survive a round trip unchanged.
    /// </summary>
    public static string Neutralise(string value)
    {
        if (value.Length == 0 || value[0] is not ('=' or '+' or '-' or '@' or '\t' or '\r' or '\n')) return value;
        return IsNumberOrPhone(value) ? value : "'" + value;
    }

    /// <summary>
    /// Exactly <c>^[+-]?[0-9 ().-]+\z</c>, without a regex: this runs for every phone cell of a million-row export.
    /// </summary>
    internal static bool IsNumberOrPhone(ReadOnlySpan<char> value)
    {
        // '-' is itself in the character class, so only a leading '+' needs the optional-sign branch.
        var body = value.Length > 1 && value[0] == '+' ? value[1..] : value;
        if (body.IsEmpty) return false;
        foreach (var c in body)
            if (c is not ((>= '0' and <= '9') or ' ' or '(' or ')' or '.' or '-')) return false;
        return true;
    }
}
