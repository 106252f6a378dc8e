using FastEndpoints;
using FluentValidation;
using Modules.Leads.Data;
using Modules.Leads.Public;

namespace Modules.Leads.Features.ListLeads;

/// <summary>Query parameters of spec §3.1; all optional.</summary>
internal sealed class Request : LeadFilterQuery
{
    /// <summary>Page number, ≥ 1 (default 1).</summary>
    public string? Page { get; init; }
    /// <summary>Page size, 1–100 (default 20); above 100 is a 400, not clamped.</summary>
    public string? Limit { get; init; }

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
