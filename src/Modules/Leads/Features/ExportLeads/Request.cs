using FastEndpoints;
using FluentValidation;
using Modules.Leads.Data;

namespace Modules.Leads.Features.ExportLeads;

/// <summary>The list's filters (spec §3.1), without paging; all optional.</summary>
internal sealed class Request : LeadFilterQuery
{
    internal sealed class Validator : Validator<Request>
    {
        public Validator() => RuleFor(r => r).Custom((r, ctx) => ctx.AddErrors(LeadFilter.Parse(Guid.Empty, r).Errors));
    }
}
