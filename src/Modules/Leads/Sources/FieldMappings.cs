namespace Modules.Leads.Sources;

/// <summary>
/// The rules of a source's <c>fieldMappings</c> (spec §6): an object from incoming field name to the lead field
/// it fills. Shared by create and update so both accept exactly the same mappings.
/// </summary>
internal static class FieldMappings
{
    /// <summary>Lead fields a mapping may target. <c>notes</c> is reachable only through a mapping.</summary>
    public static readonly string[] Targets = ["email", "firstName", "lastName", "phone", "company", "notes"];

    /// <summary>Payload names that fill the lead field of the same name without any mapping.</summary>
    public static readonly string[] DirectFields = ["email", "firstName", "lastName", "phone", "company"];

    public const int MaxEntries = 100;
    public const int MaxNameLength = 255;

    /// <summary>The first problem with the mappings, or null when they are valid.</summary>
    public static string? Problem(IReadOnlyDictionary<string, string?> mappings)
    {
        if (mappings.Count > MaxEntries) return $"fieldMappings may hold at most {MaxEntries} entries.";
        foreach (var (from, to) in mappings)
        {
            if (from.Trim().Length == 0) return "fieldMappings keys (incoming field names) must not be empty.";
            if (from.Length > MaxNameLength) return $"fieldMappings keys must be at most {MaxNameLength} characters.";
            if (to is null || !Targets.Contains(to, StringComparer.Ordinal))
                return $"fieldMappings['{from}'] must be one of {string.Join(", ", Targets)}.";
        }
        return null;
    }
}
