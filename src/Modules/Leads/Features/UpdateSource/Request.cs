using FastEndpoints;
using FluentValidation;

namespace Modules.Leads.Features.UpdateSource;

internal sealed class Request
{
    /// <summary>The source's ID (<c>src_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";

    /// <summary>New name (1–255 characters, trimmed). Absent or null keeps the current one.</summary>
    public string? Name { get; init; }

    /// <summary>Replaces the whole mapping object (send <c>{}</c> to clear it). Absent or null keeps the current one.</summary>
    public Dictionary<string, string?>? FieldMappings { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r).Must(r => r.Name is not null || r.FieldMappings is not null)
                .WithName("body").WithMessage("Send at least one of name, fieldMappings.");
            RuleFor(r => r.Name).Must(n => n!.Trim().Length is >= 1 and <= 255).When(r => r.Name is not null)
                .WithMessage("name must be 1–255 characters.");
            RuleFor(r => r.FieldMappings).Must(m => Sources.FieldMappings.Problem(m!) is null).When(r => r.FieldMappings is not null)
                .WithMessage(r => Sources.FieldMappings.Problem(r.FieldMappings!));
        }
    }
}
