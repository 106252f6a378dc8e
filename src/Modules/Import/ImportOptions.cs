using Microsoft.Extensions.Configuration;

namespace Modules.Import;

/// <summary>The <c>Import:*</c> settings (README's configuration table).</summary>
internal sealed record ImportOptions
{
    /// <summary>Largest accepted upload, in bytes (spec §7: 1 GiB).</summary>
    public long MaxBytes { get; init; } = 1L << 30;

    /// <summary>Most data rows one file may hold (spec §7: 5,000,000).</summary>
    public long MaxRows { get; init; } = 5_000_000;

    /// <summary>Rows per committed chunk: the progress and checkpoint granularity, and how long single intake may wait.</summary>
    public int ChunkRows { get; init; } = 10_000;

    /// <summary>
    /// Estimated bytes of row text per committed chunk: a chunk ends at this or <see cref="ChunkRows"/>, whichever
    /// comes first, so a file of long rows cannot hold thousands of them in memory at once.
    /// </summary>
    public long ChunkBytes { get; init; } = 8L << 20;

    /// <summary>Import jobs run at once per worker node (the <c>import</c> queue's worker count).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Longest record (all its fields and separators), in characters; a longer one is a rejected row.</summary>
    public int MaxRecordChars { get; init; } = 1 << 20;

    public static ImportOptions From(IConfiguration config)
    {
        var d = new ImportOptions();
        return new ImportOptions
        {
            MaxBytes = Math.Max(1, config.GetValue("Import:MaxBytes", d.MaxBytes)),
            MaxRows = Math.Max(1, config.GetValue("Import:MaxRows", d.MaxRows)),
            ChunkRows = Math.Clamp(config.GetValue("Import:ChunkRows", d.ChunkRows), 1, 10_000),
            ChunkBytes = Math.Clamp(config.GetValue("Import:ChunkBytes", d.ChunkBytes), 64L * 1024, 1L << 30),
            Workers = Math.Max(1, config.GetValue("Import:Workers", d.Workers)),
            MaxRecordChars = Math.Max(64 * 1024, config.GetValue("Import:MaxRecordChars", d.MaxRecordChars)),
        };
    }
}
