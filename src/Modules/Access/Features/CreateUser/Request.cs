using Kernel.Http;
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
    [OneOf(typeof(MemberRoles))] public string? Role { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r.Name).Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("name is required.");
            RuleFor(r => r.Name).Must(n => n!.Trim().Length <= 100).When(r => r.Name is not null)
                .WithMessage("name must be 1–100 characters.");
            RuleFor(r => r.Email).Must(e => !string.IsNullOrWhiteSpace(e)).WithMessage("email is required.");
            RuleFor(r => r.Email).Must(e => e!.Trim().Length <= 254).WithMessage("email must be at most 254 characters.")
                .Matches(@"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$").WithMessage("email is not a valid address.")
                .When(r => !string.IsNullOrWhiteSpace(r.Email));
            RuleFor(r => r.Role).Must(s => MemberRoles.All.Contains(s)).WithMessage("role must be 'owner', 'admin' or 'member'.");
        }
    }
}
