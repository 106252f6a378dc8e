using FastEndpoints;

namespace Modules.Tags.Features.DetachTag;

internal sealed class Request
{
    /// <summary>The lead's ID (<c>lead_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";

    /// <summary>The tag's ID (<c>tag_…</c> or bare UUID).</summary>
    [RouteParam] public string TagId { get; init; } = "";
}
