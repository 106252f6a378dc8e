using FastEndpoints;

namespace Modules.Tags.Features.DeleteTag;

internal sealed class Request
{
    /// <summary>The tag's ID (<c>tag_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";
}
