using Microsoft.Extensions.Configuration;

namespace Modules.Import.Bulk;

/// <summary>
/// How a bulk action (spec §12) shares the machine with the API.
/// <para><c>Bulk:ChunkSize</c> (default 500, 1–1,000): leads per chunk, i.e. per transaction. Smaller chunks hold their
/// row locks and CPU for less time at once; above 1,000 the change log stops listing leads one by one (migration 0032)
/// and every cached list total of the workspace is recounted after each chunk.</para>
/// <para><c>Bulk:DutyCycle</c> (default 1, 0.05–1): the share of wall-clock time the job spends applying chunks. After a
/// chunk that took <i>t</i> it waits <i>t</i>·(1 − d)/d before the next (each stream on its own), so a stream's database
/// session and worker thread use at most that share of one core and interactive requests keep the rest. The default
/// runs chunks back to back; a lower value protects an API that needs every core (or an external database, where
/// <c>Bulk:BackendNice</c> cannot apply), at the cost of a
/// proportionally longer action (docs/benchmarks.md has both).</para>
/// <para><c>Bulk:Streams</c> (default 2, 1–8): chunks of one action applied at once, each stream on a database connection
/// of its own and each chunk in its own transaction (1 = one chunk after the other, as before). The duty cycle applies
/// per stream.</para>
/// <para><c>Bulk:BackendNice</c> (default 0 = off, 0–19): the niceness the host gives the PostgreSQL backends of those
/// connections when the database is its embedded cluster (same machine), so that the CPU scheduler prefers the API's
/// backends over the bulk action's. Off by default: on the 2-core bench machine, quiet, niceness 10 made the list's p99
/// during an action worse, not better (3.15× idle against 2.82× without; docs/benchmarks.md). It does nothing with <c>ConnectionStrings:Leads</c> (the server's processes
/// are not the host's to renice): pace with the duty cycle there.</para>
/// </summary>
internal sealed record BulkSettings(int ChunkSize, double DutyCycle, int Streams = BulkSettings.DefaultStreams, int BackendNice = BulkSettings.DefaultBackendNice)
{
    public const int DefaultChunkSize = 500;
    public const double DefaultDutyCycle = 1;
    public const int DefaultStreams = 2;
    public const int MaxStreams = 8;
    public const int DefaultBackendNice = 0;

    public static BulkSettings From(IConfiguration config)
    {
        var size = config.GetValue("Bulk:ChunkSize", DefaultChunkSize);
        if (size is < 1 or > 1000) throw new InvalidOperationException("Bulk:ChunkSize must be between 1 and 1000.");
        var duty = config.GetValue("Bulk:DutyCycle", DefaultDutyCycle);
        if (double.IsNaN(duty) || duty is < 0.05 or > 1) throw new InvalidOperationException("Bulk:DutyCycle must be between 0.05 and 1.");
        var streams = config.GetValue("Bulk:Streams", DefaultStreams);
        if (streams is < 1 or > MaxStreams) throw new InvalidOperationException($"Bulk:Streams must be between 1 and {MaxStreams}.");
        var nice = config.GetValue("Bulk:BackendNice", DefaultBackendNice);
        if (nice is < 0 or > 19) throw new InvalidOperationException("Bulk:BackendNice must be between 0 (off) and 19.");
        return new BulkSettings(size, duty, streams, nice);
    }

    /// <summary>The pause after a chunk that took <paramref name="busy"/>.</summary>
    public TimeSpan PauseAfter(TimeSpan busy) => DutyCycle >= 1 ? TimeSpan.Zero : busy * ((1 - DutyCycle) / DutyCycle);
}
