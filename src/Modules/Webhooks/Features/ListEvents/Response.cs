using Modules.Webhooks.Feed;

namespace Modules.Webhooks.Features.ListEvents;

internal sealed class Response
{
    public IReadOnlyList<FeedEvent> Data { get; init; } = [];

    /// <summary>Pass as <c>after</c> to read on. Always present: with no new events it is the cursor you sent.</summary>
    public string NextCursor { get; init; } = "";
}
