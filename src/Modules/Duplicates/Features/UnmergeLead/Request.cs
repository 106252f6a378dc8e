using FastEndpoints;
using FluentValidation;
using Kernel.Ids;

namespace Modules.Duplicates.Features.UnmergeLead;

internal sealed class Request
{
    /// <summary>The survivor of the merge (<c>lead_…</c>).</summary>
    [RouteParam] public string Id { get; init; } = "";

    /// <summary>The lead that was merged into the survivor and is to come back.</summary>
    public string? MergedLeadId { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator() => RuleFor(r => r.MergedLeadId).Must(d => TypeId.TryParse(d, IdPrefix.Lead, out _))
            .WithMessage("mergedLeadId must be a lead ID (lead_…) or UUID.");
    }
}
