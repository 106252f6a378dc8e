using FastEndpoints;
using FluentValidation;
using Kernel.Security;

namespace Modules.Access.Features.CreateUser;

internal sealed class Request
{
    /// <summary>Display name (1–100 characters).</summary>
    public string? Name { get; init; }

    /// <summary>Email, unique per workspace (case-insensitive).</summary>
    public string? Email { get; init; }

    /// <summary><c>owner</c>, <c>admin</c> or <c>member</c>. Only an owner may create an owner.</summary>
    public string? Role { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r.Name).NotEmpty().WithMessage("name is required.")
                .Must(n => n!.Trim().Length is >= 1 and <= 100).When(r => !string.IsNullOrEmpty(r.Name))
                .WithMessage("name must be 1–100 characters.");
            RuleFor(r => r.Email).NotEmpty().WithMessage("email is required.")
                .MaximumLength(254).WithMessage("email must be at most 254 characters.")
                .Matches(@"^[^@\s]+@[^@\s]+\.[^@\s]+$").WithMessage("email is not a valid address.");
            RuleFor(r => r.Role).NotEmpty().WithMessage("role is required.")
                .Must(s => MemberRoles.All.Contains(s)).When(r => !string.IsNullOrEmpty(r.Role))
                .WithMessage("role must be 'owner', 'admin' or 'member'.");
        }
    }
}
