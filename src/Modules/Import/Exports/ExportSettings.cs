using Microsoft.Extensions.Configuration;

namespace Modules.Import.Exports;

/// <summary>
/// <c>Exports:ChunkBytes</c>: size of the pieces an async export's file is stored in (default 1 MiB). Big enough that
/// a million-lead file is a few hundred rows, small enough that writing or serving one holds little memory.
/// </summary>
internal sealed record ExportSettings(int ChunkBytes)
{
    public const int DefaultChunkBytes = 1 << 20;

    public static ExportSettings From(IConfiguration config)
    {
        var bytes = config.GetValue("Exports:ChunkBytes", DefaultChunkBytes);
        if (bytes is < 1024 or > 64 << 20) throw new InvalidOperationException("Exports:ChunkBytes must be between 1024 and 67108864.");
        return new ExportSettings(bytes);
    }
}
