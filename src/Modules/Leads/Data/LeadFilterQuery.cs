using Modules.Leads.Public;
using Kernel.Http;
namespace Modules.Leads.Data;

/// <summary>The list filters of spec §3.1 as query parameters, shared by list, stats and export requests.</summary>
internal class LeadFilterQuery : ILeadFilterQuery
{
    /// <summary>new, contacted, qualified, converted or closed.</summary>
    [OneOf(typeof(LeadStatuses))] public string? Status { get; init; }
    /// <summary>Leads from this source (src_… or UUID).</summary>
    public string? SourceId { get; init; }
    /// <summary>Case-insensitive substring of first, last or full name, email, company, or phone (digits compared).</summary>
    public string? Search { get; init; }
    /// <summary>Created at or after this ISO date or date-time.</summary>
    public string? StartDate { get; init; }
    /// <summary>Created at or before; a date-only value includes that whole day (UTC).</summary>
    public string? EndDate { get; init; }
    /// <summary>A user ID, or <c>unassigned</c>.</summary>
    public string? AssignedTo { get; init; }
    /// <summary><c>only</c> or <c>exclude</c> leads flagged as duplicates.</summary>
    public string? Duplicates { get; init; }
    /// <summary>Leads carrying this tag (ID or name).</summary>
    public string? Tag { get; init; }
    /// <summary>Changed (or created) at or after this ISO date or date-time.</summary>
    public string? UpdatedSince { get; init; }
    /// <summary>Last changed before this ISO date or date-time (exclusive; a date-only value means that day's start, UTC).</summary>
    public string? UpdatedBefore { get; init; }
}
