using FluentValidation;
using FluentValidation.Results;

namespace Modules.Leads.Data;

/// <summary><c>page</c> (≥ 1) and <c>limit</c> (1–100, never silently clamped) of spec §3.1.</summary>
internal readonly record struct Paging(int Page, int Limit)
{
    public const int MaxLimit = 100;
    public const int MaxPage = 1_000_000;
    public long Offset => (long)(Page - 1) * Limit;

    public static (Paging Paging, Dictionary<string, string> Errors) Parse(string? page, string? limit)
    {
        var errors = new Dictionary<string, string>();
        var p = 1;
        var l = 20;
        if (page is not null && (!int.TryParse(page, System.Globalization.NumberStyles.None, null, out p) || p < 1 || p > MaxPage))
            errors["page"] = $"page must be a whole number from 1 to {MaxPage}.";
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, null, out l) || l < 1 || l > MaxLimit))
            errors["limit"] = $"limit must be a whole number from 1 to {MaxLimit}.";
        return (new Paging(p, l), errors);
    }
}

internal sealed record Pagination(int Page, int Limit, long Total, long Pages)
{
    public static Pagination Of(Paging p, long total) => new(p.Page, p.Limit, total, (total + p.Limit - 1) / p.Limit);
}

internal sealed record PagedResponse<T>(IReadOnlyList<T> Data, Pagination Pagination);

internal static class ValidationExtensions
{
    /// <summary>Reports parse errors as validation failures (with an error code, so they read as validation, not JSON, problems).</summary>
    public static void AddErrors<T>(this ValidationContext<T> ctx, Dictionary<string, string> errors)
    {
        foreach (var (field, message) in errors)
            ctx.AddFailure(new ValidationFailure(field, message) { ErrorCode = "invalid_parameter" });
    }
}
