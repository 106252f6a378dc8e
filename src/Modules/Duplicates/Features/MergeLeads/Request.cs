using FastEndpoints;
using FluentValidation;
using Kernel.Ids;

namespace Modules.Duplicates.Features.MergeLeads;

internal sealed class Request
{
    /// <summary>The survivor (<c>lead_…</c>).</summary>
    [RouteParam] public string Id { get; init; } = "";

    /// <summary>The lead folded into the survivor and then retired.</summary>
    public string? DuplicateId { get; init; }

    /// <summary>When true, answers the would-be survivor and writes nothing.</summary>
    public bool? DryRun { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator() => RuleFor(r => r.DuplicateId).Must(d => TypeId.TryParse(d, IdPrefix.Lead, out _))
            .WithMessage("duplicateId must be a lead ID (lead_…) or UUID.");
    }
}
