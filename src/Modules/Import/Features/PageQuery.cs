using FastEndpoints;
using FluentValidation;

namespace Modules.Import.Features;

/// <summary>The query of the module's paged lists (imports, bulk actions), paged like the lead list: <c>page</c> ≥ 1 (default 1), <c>limit</c> 1–100 (default 20; more is a 400, not clamped).</summary>
internal sealed class PageQuery
{
    public string? Page { get; init; }
    public string? Limit { get; init; }

    public int PageNumber => Page is null ? 1 : int.Parse(Page, System.Globalization.CultureInfo.InvariantCulture);
    public int PageSize => Limit is null ? 20 : int.Parse(Limit, System.Globalization.CultureInfo.InvariantCulture);

    internal sealed class Validator : Validator<PageQuery>
    {
        public Validator()
        {
            RuleFor(r => r.Page).Must(p => IsWhole(p, 1, 1_000_000)).When(r => r.Page is not null)
                .WithMessage("page must be a whole number from 1 to 1000000.").WithErrorCode("invalid_parameter");
            RuleFor(r => r.Limit).Must(l => IsWhole(l, 1, 100)).When(r => r.Limit is not null)
                .WithMessage("limit must be a whole number from 1 to 100.").WithErrorCode("invalid_parameter");
        }

        private static bool IsWhole(string? s, int min, int max) =>
            int.TryParse(s, System.Globalization.NumberStyles.None, null, out var v) && v >= min && v <= max;
    }
}
