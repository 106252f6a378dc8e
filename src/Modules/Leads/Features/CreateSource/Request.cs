using FastEndpoints;
using FluentValidation;
using Modules.Leads.Sources;

namespace Modules.Leads.Features.CreateSource;

internal sealed class Request
{
    /// <summary>A name to recognise the source by (1–255 characters, trimmed).</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Optional: incoming webhook field name → lead field (<c>email</c>, <c>firstName</c>, <c>lastName</c>,
    /// <c>phone</c>, <c>company</c>, <c>notes</c>), e.g. <c>{"email_address": "email"}</c>.
    /// </summary>
    public Dictionary<string, string?>? FieldMappings { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r.Name).Must(n => !string.IsNullOrWhiteSpace(n)).WithMessage("name is required.");
            RuleFor(r => r.Name).Must(n => n!.Trim().Length <= 255).When(r => r.Name is not null)
                .WithMessage("name must be 1–255 characters.");
            RuleFor(r => r.FieldMappings).Must(m => Sources.FieldMappings.Problem(m!) is null).When(r => r.FieldMappings is not null)
                .WithMessage(r => Sources.FieldMappings.Problem(r.FieldMappings!));
        }
    }
}
