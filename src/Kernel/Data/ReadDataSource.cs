using Npgsql;

namespace Kernel.Data;

/// <summary>
/// Where list, stats and export reads go: <c>ConnectionStrings:LeadsRead</c> (a read replica) when set,
/// otherwise the primary. Replica reads may lag writes by the replication delay; nothing that must read
/// its own writes (detail after a write, merges, jobs) uses this.
/// <para>With a replica, <paramref name="ownsSources"/> is true: its two data sources were opened for this object alone,
/// which closes their pooled connections when the host stops. Without one, both belong to the primary's own registrations
/// and are left to them.</para>
/// </summary>
public sealed class ReadDataSource(NpgsqlDataSource source, NpgsqlDataSource bulk, bool ownsSources = false) : IAsyncDisposable, IDisposable
{
    /// <summary>Short reads (list, stats): the replica, or the primary's small <see cref="StatelessDataSource"/> pool.</summary>
    public NpgsqlDataSource Source { get; } = source;

    /// <summary>
    /// Long streaming reads (CSV export, which can hold a connection for minutes): the replica, or the primary's ordinary
    /// pool — never the small pool, so a few downloads cannot starve the list requests.
    /// </summary>
    public NpgsqlDataSource Bulk { get; } = bulk;

    public ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken ct) => Source.OpenConnectionAsync(ct);

    public async ValueTask DisposeAsync()
    {
        if (!ownsSources) return;
        await Source.DisposeAsync();
        await Bulk.DisposeAsync();
    }

    public void Dispose()
    {
        if (!ownsSources) return;
        Source.Dispose();
        Bulk.Dispose();
    }
}
