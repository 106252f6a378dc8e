using System.Text.Json.Nodes;
using Kernel.Http;
using Kernel.Ids;
using Modules.Webhooks.Public;

namespace Modules.Webhooks.Feed;

/// <summary>One change feed event as the API and webhook deliveries show it (spec §13).</summary>
internal sealed class FeedEvent
{
    [TypeId(IdPrefix.Event)] public Guid Id { get; init; }

    /// <summary>The event type.</summary>
    [OneOf(typeof(ChangeFeed))] public string Type { get; init; } = "";

    public DateTime OccurredAt { get; init; }

    /// <summary>The lead the event is about; null for import/export/bulk completions.</summary>
    [TypeId(IdPrefix.Lead)] public Guid? LeadId { get; init; }

    /// <summary>
    /// Type-specific: <c>lead.created</c> <c>{channel, sourceId?, importId?, score, status}</c>; <c>lead.updated</c>,
    /// <c>lead.merged</c>, <c>lead.unmerged</c> the timeline event's data plus <c>change</c> (its timeline type, e.g.
    /// <c>status_changed</c>) and <c>actor</c>; <c>lead.deleted</c> <c>{}</c>; <c>import.completed</c>
    /// <c>{importId, processedRows, created, duplicates, skipped, failed, dryRun}</c>; <c>export.completed</c>
    /// <c>{exportId, rows, bytes}</c>; <c>bulk.completed</c>
    /// <c>{bulkId, action, matched, processed, changed, failed}</c>.
    /// </summary>
    public JsonObject Data { get; init; } = new();
}
