using System.Text.Json.Nodes;

namespace Modules.Leads.Public;

/// <summary>The raw fields of a lead as they arrive on any intake path (API body, webhook payload, CSV row).</summary>
public sealed record LeadInput
{
    public string? Email { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Phone { get; init; }
    public string? Company { get; init; }
    public string? Notes { get; init; }
    public JsonObject? Metadata { get; init; }
}

/// <summary>A lead after normalisation: trimmed fields (empty → null) and its match keys.</summary>
public sealed record NormalizedLead
{
    public string? Email { get; init; }
    public string? EmailNorm { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Phone { get; init; }
    public string? PhoneE164 { get; init; }

    /// <summary>Whether the phone is a valid, assigned number (not only a possible one): scoring rewards it.</summary>
    public bool PhoneValid { get; init; }
    public string? Company { get; init; }
    public string? Notes { get; init; }
    public string MetadataJson { get; init; } = "{}";
    public int MetadataKeys { get; init; }
}
