using Npgsql;

namespace Kernel.Data;

/// <summary>
/// Where list, stats and export reads go: <c>ConnectionStrings:LeadsRead</c> (a read replica) when set,
/// otherwise the primary. Replica reads may lag writes by the replication delay; nothing that must read
/// its own writes (detail after a write, merges, jobs) uses this.
/// </summary>
public sealed class ReadDataSource(NpgsqlDataSource source)
{
    public NpgsqlDataSource Source { get; } = source;

    public ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken ct) => Source.OpenConnectionAsync(ct);
}
