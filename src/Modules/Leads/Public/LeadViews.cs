using Modules.Leads.Public;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Kernel.Ids;

namespace Modules.Leads.Public;

public sealed class TagRef
{
    [TypeId(IdPrefix.Tag)] public Guid Id { get; init; }
    public string Name { get; init; } = "";
}

public sealed class DuplicateRef
{
    [TypeId(IdPrefix.Lead)] public Guid Id { get; init; }
    public string[] MatchedOn { get; init; } = [];
}

/// <summary>A lead with everything (spec §3.2).</summary>
public sealed class LeadDetail : LeadListItem, Kernel.Http.IHasETag
{
    /// <summary>The row version (<see cref="LeadVersions"/>); sent as the <c>ETag</c> header, not in the body.</summary>
    [JsonIgnore] public long Version { get; init; }

    [JsonIgnore] public string ETag => LeadVersions.ETag(Version);

    // Serialised after the list item's members (System.Text.Json writes derived members first otherwise).
    /// <summary>The phone's E.164 form when it reads as a possible number (the phone match key); null otherwise.</summary>
    [JsonPropertyOrder(1)] public string? PhoneE164 { get; init; }
    [JsonPropertyOrder(2)] public string? Notes { get; init; }
    [JsonPropertyOrder(3)] public IReadOnlyList<TagRef> Tags { get; set; } = [];
    [JsonPropertyOrder(4)] public JsonObject Metadata { get; init; } = new();
    [JsonPropertyOrder(5)] public string Qualification => LeadScoring.Qualification(Score);
    [JsonPropertyOrder(6)] public DuplicateRef? DuplicateOf { get; set; }
    [JsonPropertyOrder(7)] public string Channel { get; init; } = "";
    [JsonPropertyOrder(8)] public DateTime UpdatedAt { get; init; }
}
