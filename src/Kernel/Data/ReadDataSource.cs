using Npgsql;

namespace Kernel.Data;

/// <summary>
/// Where list, stats and export reads go: <c>ConnectionStrings:LeadsRead</c> (a read replica) when set,
/// otherwise the primary. Replica reads may lag writes by the replication delay; nothing that must read
/// its own writes (detail after a write, merges, jobs) uses this.
/// </summary>
public sealed class ReadDataSource(NpgsqlDataSource source, NpgsqlDataSource bulk)
{
    /// <summary>Short reads (list, stats): the replica, or the primary's small <see cref="StatelessDataSource"/> pool.</summary>
    public NpgsqlDataSource Source { get; } = source;

    /// <summary>
    /// Long streaming reads (CSV export, which can hold a connection for minutes): the replica, or the primary's ordinary
    /// pool — never the small pool, so a few downloads cannot starve the list requests.
    /// </summary>
    public NpgsqlDataSource Bulk { get; } = bulk;

    public ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken ct) => Source.OpenConnectionAsync(ct);
}
