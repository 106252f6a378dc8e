using Kernel.Ids;

namespace Modules.Tags.Features.ListTags;

/// <summary>An envelope rather than a bare array, so paging or totals can be added without breaking clients.</summary>
internal sealed class Response
{
    public IReadOnlyList<Item> Data { get; init; } = [];

    internal sealed class Item
    {
        [TypeId(IdPrefix.Tag)] public Guid Id { get; init; }
        public string Name { get; init; } = "";

        /// <summary>How many leads carry the tag.</summary>
        public long LeadCount { get; init; }

        public DateTime CreatedAt { get; init; }
    }
}
