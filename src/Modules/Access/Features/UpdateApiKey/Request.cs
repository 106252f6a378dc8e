using FastEndpoints;
using FluentValidation;

namespace Modules.Access.Features.UpdateApiKey;

internal sealed class Request
{
    /// <summary>The key's ID (<c>key_…</c>).</summary>
    [RouteParam] public string Id { get; init; } = "";

    /// <summary>New label (1–100 characters).</summary>
    public string? Label { get; init; }

    /// <summary><c>false</c> deactivates the key at once; <c>true</c> reactivates it.</summary>
    public bool? Active { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r).Must(r => r.Label is not null || r.Active is not null)
                .WithName("body").WithMessage("Send at least one of label, active.");
            RuleFor(r => r.Label).Must(l => l!.Trim().Length is >= 1 and <= 100).When(r => r.Label is not null)
                .WithMessage("label must be 1–100 characters.");
        }
    }
}
