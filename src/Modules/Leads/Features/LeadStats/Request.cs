using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.LeadStats;

internal sealed class Request : ILeadFilterQuery
{
    public string? Status { get; init; }
    public string? SourceId { get; init; }
    public string? Search { get; init; }
    public string? StartDate { get; init; }
    public string? EndDate { get; init; }
    public string? AssignedTo { get; init; }
    public string? Duplicates { get; init; }
    public string? Tag { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator() => RuleFor(r => r).Custom((r, ctx) => ctx.AddErrors(LeadFilter.Parse(Guid.Empty, r).Errors));
    }
}
