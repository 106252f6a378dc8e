using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.LeadStats;

internal sealed class Request : LeadFilterQuery
{
    internal sealed class Validator : Validator<Request>
    {
        public Validator() => RuleFor(r => r).Custom((r, ctx) => ctx.AddErrors(LeadFilter.Parse(Guid.Empty, r).Errors));
    }
}
