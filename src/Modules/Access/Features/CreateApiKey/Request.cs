using FastEndpoints;
using FluentValidation;
using Kernel.Security;

namespace Modules.Access.Features.CreateApiKey;

internal sealed class Request
{
    /// <summary>A name to recognise the key by (1–100 characters).</summary>
    public string? Label { get; init; }

    /// <summary><c>read</c> (every GET) or <c>full</c> (read and write).</summary>
    public string? Scope { get; init; }

    /// <summary>Optional expiry, in the future.</summary>
    public DateTime? ExpiresAt { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r.Label).NotEmpty().WithMessage("label is required.")
                .Must(l => l!.Trim().Length is >= 1 and <= 100).When(r => !string.IsNullOrEmpty(r.Label))
                .WithMessage("label must be 1–100 characters.");
            RuleFor(r => r.Scope).NotEmpty().WithMessage("scope is required.")
                .Must(s => KeyScopes.All.Contains(s)).When(r => !string.IsNullOrEmpty(r.Scope))
                .WithMessage("scope must be 'read' or 'full'.");
            RuleFor(r => r.ExpiresAt).Must(e => e > DateTime.UtcNow).When(r => r.ExpiresAt is not null)
                .WithMessage("expiresAt must be in the future.");
        }
    }
}

internal sealed class Response : Data.ApiKeyView
{
    /// <summary>The plaintext key. Shown this one time only; store it now.</summary>
    public string Key { get; init; } = "";
}
