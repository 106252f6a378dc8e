using Kernel.Http;
using FastEndpoints;
using FluentValidation;
using Kernel.Security;

namespace Modules.Access.Features.CreateApiKey;

internal sealed class Request
{
    /// <summary>A name to recognise the key by (1–100 characters).</summary>
    public string? Label { get; init; }

    /// <summary><c>read</c> (every GET) or <c>full</c> (read and write).</summary>
    [OneOf(typeof(KeyScopes))] public string? Scope { get; init; }

    /// <summary>Optional expiry, in the future.</summary>
    public DateTime? ExpiresAt { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r.Label).Must(l => !string.IsNullOrWhiteSpace(l)).WithMessage("label is required.");
            RuleFor(r => r.Label).Must(l => l!.Trim().Length <= 100).When(r => r.Label is not null)
                .WithMessage("label must be 1–100 characters.");
            RuleFor(r => r.Scope).Must(s => KeyScopes.All.Contains(s)).WithMessage("scope must be 'read' or 'full'.");
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
