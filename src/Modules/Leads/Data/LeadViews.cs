using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Kernel.Ids;

namespace Modules.Leads.Data;

internal sealed class SourceRef
{
    [TypeId(IdPrefix.Source)] public Guid Id { get; init; }
    public string Name { get; init; } = "";

    /// <summary>Present (true) only when the source has been deleted.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Deleted { get; init; }
}

internal sealed class UserRef
{
    [TypeId(IdPrefix.User)] public Guid Id { get; init; }
    public string Name { get; init; } = "";
}

internal sealed class TagRef
{
    [TypeId(IdPrefix.Tag)] public Guid Id { get; init; }
    public string Name { get; init; } = "";
}

internal sealed class DuplicateRef
{
    [TypeId(IdPrefix.Lead)] public Guid Id { get; init; }
    public string[] MatchedOn { get; init; } = [];
}

/// <summary>A lead as it appears in lists (spec §3.1).</summary>
internal class LeadListItem
{
    [TypeId(IdPrefix.Lead)] public Guid Id { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Email { get; init; }
    public string? Phone { get; init; }
    public string? Company { get; init; }
    public string Status { get; init; } = "";
    public int Score { get; init; }
    public SourceRef? Source { get; set; }
    public UserRef? AssignedTo { get; set; }
    public bool IsDuplicate { get; init; }
    public DateTime CreatedAt { get; init; }
}

/// <summary>A lead with everything (spec §3.2).</summary>
internal sealed class LeadDetail : LeadListItem
{
    // Serialised after the list item's members (System.Text.Json writes derived members first otherwise).
    [JsonPropertyOrder(1)] public string? Notes { get; init; }
    [JsonPropertyOrder(2)] public IReadOnlyList<TagRef> Tags { get; set; } = [];
    [JsonPropertyOrder(3)] public JsonObject Metadata { get; init; } = new();
    [JsonPropertyOrder(4)] public string Qualification => Public.LeadScoring.Qualification(Score);
    [JsonPropertyOrder(5)] public DuplicateRef? DuplicateOf { get; set; }
    [JsonPropertyOrder(6)] public string Channel { get; init; } = "";
    [JsonPropertyOrder(7)] public DateTime UpdatedAt { get; init; }
}
