using System.Text.Json.Nodes;
using FastEndpoints;
using FluentValidation;
using Kernel.Ids;

namespace Modules.Leads.Features.CreateLead;

internal sealed class Request
{
    public string? Email { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Phone { get; init; }
    public string? Company { get; init; }

    /// <summary>A source of this workspace (<c>src_…</c> or bare UUID).</summary>
    public string? SourceId { get; init; }

    public string? Notes { get; init; }

    /// <summary>Custom fields: a JSON object (≤ 64 KB).</summary>
    public JsonObject? Metadata { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r.SourceId).Must(s => TypeId.TryParse(s, IdPrefix.Source, out _))
                .When(r => r.SourceId is not null).WithMessage("sourceId must be a source ID (src_…) or UUID.");
        }
    }
}
