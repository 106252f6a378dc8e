using FastEndpoints;
using FluentValidation;
using Modules.Leads.Data;
using Modules.Leads.Public;

namespace Modules.Leads.Features.ListLeadEvents;

internal sealed class Request
{
    /// <summary>The lead's ID (<c>lead_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";
    /// <summary>Page number, ≥ 1 (default 1).</summary>
    public string? Page { get; init; }
    /// <summary>Page size, 1–100 (default 20).</summary>
    public string? Limit { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator() => RuleFor(r => r).Custom((r, ctx) => ctx.AddErrors(Paging.Parse(r.Page, r.Limit).Errors));
    }
}
