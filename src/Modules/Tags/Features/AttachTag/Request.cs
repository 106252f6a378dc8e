using FastEndpoints;
using FluentValidation;
using Modules.Tags.Data;

namespace Modules.Tags.Features.AttachTag;

internal sealed class Request
{
    /// <summary>The lead's ID (<c>lead_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";

    /// <summary>The tag's name: 1–50 characters after trimming, case-insensitively unique in the workspace.</summary>
    public string? Name { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r.Name).Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("name is required.");
            RuleFor(r => r.Name).Must(n => TagNames.Length(n!.Trim()) <= TagNames.MaxLength)
                .WithMessage($"name must be 1–{TagNames.MaxLength} characters.")
                .Must(n => TagNames.IsPrintable(n!.Trim())).WithMessage("name must not contain control characters.")
                .When(r => !string.IsNullOrWhiteSpace(r.Name));
        }
    }
}
