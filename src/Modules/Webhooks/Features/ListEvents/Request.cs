using FastEndpoints;
using FluentValidation;
using Modules.Webhooks.Feed;
using Modules.Webhooks.Public;

namespace Modules.Webhooks.Features.ListEvents;

internal sealed class Request
{
    /// <summary>A <c>nextCursor</c> from an earlier page; omitted, the feed starts at its oldest retained event.</summary>
    [QueryParam] public string? After { get; init; }

    /// <summary>Page size, 1–1000 (default 100).</summary>
    [QueryParam] public string? Limit { get; init; }

    /// <summary>Comma-separated event types to keep (e.g. <c>lead.created,lead.deleted</c>); omitted, every type.</summary>
    [QueryParam] public string? Types { get; init; }

    internal FeedCursor Cursor => FeedCursor.TryParse(After, out var c) ? c.Value : FeedCursor.Start;
    internal int PageSize => int.TryParse(Limit, out var n) ? n : 100;
    internal string[]? TypeList => string.IsNullOrWhiteSpace(Types) ? null
        : Types.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct().ToArray();

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r.After).Must(a => FeedCursor.TryParse(a, out _)).When(r => r.After is not null)
                .WithMessage("after must be a nextCursor returned by this endpoint.");
            RuleFor(r => r.Limit).Must(l => int.TryParse(l, out var n) && n is >= 1 and <= 1000).When(r => r.Limit is not null)
                .WithMessage("limit must be an integer from 1 to 1000.");
            RuleFor(r => r.Types).Must(t => t!.Split(',', StringSplitOptions.TrimEntries).All(x => ChangeFeed.All.Contains(x)))
                .When(r => r.Types is not null)
                .WithMessage($"types must be a comma-separated list of: {string.Join(", ", ChangeFeed.All)}.");
        }
    }
}
