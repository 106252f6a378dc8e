using FastEndpoints;
using FluentValidation;
using Modules.Leads.Data;
using Modules.Leads.Public;

namespace Modules.Leads.Features.ListLeads;

/// <summary>Query parameters of spec §3.1; all optional.</summary>
internal sealed class Request : ILeadFilterQuery
{
    /// <summary>Page number, ≥ 1 (default 1).</summary>
    public string? Page { get; init; }
    /// <summary>Page size, 1–100 (default 20); above 100 is a 400, not clamped.</summary>
    public string? Limit { get; init; }
    /// <summary>new, contacted, qualified, converted or closed.</summary>
    public string? Status { get; init; }
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

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r).Custom((r, ctx) =>
            {
                ctx.AddErrors(Paging.Parse(r.Page, r.Limit).Errors);
                ctx.AddErrors(LeadFilter.Parse(Guid.Empty, r).Errors);
            });
        }
    }
}
