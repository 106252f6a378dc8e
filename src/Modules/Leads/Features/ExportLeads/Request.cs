using FastEndpoints;
using FluentValidation;
using Modules.Leads.Data;

namespace Modules.Leads.Features.ExportLeads;

/// <summary>The list's filters (spec §3.1), and order, without paging; all optional.</summary>
internal sealed class Request : LeadFilterQuery
{
    /// <summary>The list's order: createdAt, updatedAt, score, lastName or company; a leading '-' for descending (default -createdAt).</summary>
    public string? Sort { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator() => RuleFor(r => r).Custom((r, ctx) =>
        {
            ctx.AddErrors(LeadFilter.Parse(Guid.Empty, r).Errors);
            ctx.AddErrors(LeadSort.Errors(r.Sort));
        });
    }
}
