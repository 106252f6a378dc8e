using Kernel.Ids;

namespace Modules.Tags.Features.AttachTag;

/// <summary>The tag as stored: its name keeps the casing it was first created with.</summary>
internal sealed class Response
{
    [TypeId(IdPrefix.Tag)] public Guid Id { get; init; }
    public string Name { get; init; } = "";
}
