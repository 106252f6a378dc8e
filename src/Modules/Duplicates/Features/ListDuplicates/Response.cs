using System.Text.Json.Serialization;
using Modules.Leads.Public;

namespace Modules.Duplicates.Features.ListDuplicates;

/// <summary>A list item plus its place in the group.</summary>
internal sealed class GroupMember : LeadListItem
{
    /// <summary>True for the group's primary.</summary>
    [JsonPropertyOrder(1)] public bool IsPrimary { get; set; }

    /// <summary>The keys this member shares with the group (for the primary: what the requested lead matched it on).</summary>
    [JsonPropertyOrder(2)] public string[] MatchedOn { get; set; } = [];
}

/// <summary>A list item that is probably the same person (spec §10); nothing is flagged by it.</summary>
internal sealed class SuggestedLead : LeadListItem
{
    /// <summary>0.0–1.0: how likely the two are one person.</summary>
    [JsonPropertyOrder(1)] public double Confidence { get; set; }

    /// <summary>Why: <c>same_name_similar_company</c>, <c>same_name</c>, <c>same_email_local_part</c>, <c>same_phone_digits</c>.</summary>
    [JsonPropertyOrder(2)] public string[] Reasons { get; set; } = [];
}

/// <param name="Data">The other members of the group.</param>
/// <param name="Suggested">With <c>include=suggested</c>: up to 10 likely duplicates outside the group, best first.</param>
internal sealed record Response(IReadOnlyList<GroupMember> Data,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<SuggestedLead>? Suggested = null);
