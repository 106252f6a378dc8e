using FastEndpoints;
using FluentValidation;
using Modules.Leads.Data;
using Modules.Leads.Public;

namespace Modules.Leads.Features.ListLeads;

/// <summary>Query parameters of spec §3.1 and §11; all optional.</summary>
internal sealed class Request : LeadFilterQuery
{
    /// <summary>Page number, ≥ 1 (default 1). Not with <c>cursor</c>.</summary>
    public string? Page { get; init; }
    /// <summary>Page size, 1–100 (default 20); above 100 is a 400, not clamped.</summary>
    public string? Limit { get; init; }
    /// <summary>createdAt, updatedAt, score, lastName or company; a leading '-' for descending (default -createdAt). Ties by ID in the same direction.</summary>
    public string? Sort { get; init; }
    /// <summary><c>pagination.nextCursor</c> of the previous page: the page after it, in that page's order. Not with <c>page</c>.</summary>
    public string? Cursor { get; init; }

    /// <summary>The order to list in (a cursor carries its own; <c>sort</c>, if also sent, must agree).</summary>
    public LeadSort EffectiveSort(ListCursor? cursor)
    {
        LeadSort.TryParse(Sort, out var sort);
        return Sort is null && cursor is not null ? cursor.Sort : sort;
    }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r).Custom((r, ctx) =>
            {
                ctx.AddErrors(Paging.Parse(r.Page, r.Limit).Errors);
                ctx.AddErrors(LeadFilter.Parse(Guid.Empty, r).Errors);
                ctx.AddErrors(LeadSort.Errors(r.Sort));
                if (r.Cursor is null) return;
                var errors = new Dictionary<string, string>();
                if (r.Page is not null) errors["cursor"] = "Send either page or cursor, not both.";
                else if (ListCursor.Decode(r.Cursor) is not { } c) errors["cursor"] = "cursor is not a pagination.nextCursor this list returned.";
                else if (r.Sort is not null && LeadSort.TryParse(r.Sort, out var s) && s != c.Sort)
                    errors["cursor"] = $"This cursor continues sort={c.Sort}; send that sort (or none) with it.";
                ctx.AddErrors(errors);
            });
        }
    }
}
