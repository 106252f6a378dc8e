using FastEndpoints;
using FluentValidation;
using Modules.Tags.Data;

namespace Modules.Tags.Features.ListTags;

internal sealed class Request
{
    /// <summary>Only tags whose name starts with this text (trimmed, case-insensitive).</summary>
    [QueryParam] public string? Search { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r.Search).Must(s => TagNames.IsPrintable(s!.Trim())).When(r => r.Search is not null)
                .WithMessage("search must not contain control characters.");
        }
    }
}
