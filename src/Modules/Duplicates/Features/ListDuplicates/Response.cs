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

internal sealed record Response(IReadOnlyList<GroupMember> Data);
