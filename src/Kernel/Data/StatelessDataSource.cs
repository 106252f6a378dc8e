using Npgsql;

namespace Kernel.Data;

/// <summary>
/// The primary database for short statements that leave nothing behind in the session — no <c>SET</c>, no temporary
/// tables, no session-level advisory locks, no <c>LISTEN</c>: API-key authentication and the list/stats/export reads.
/// Its connections go back to the pool without Npgsql's reset (<c>No Reset On Close</c>), which otherwise costs every
/// request a <c>RESET ALL</c>/<c>DISCARD</c> sequence per connection, and keep their prepared statements. Anything
/// that sets session state (the import job, bulk writers with temporary tables) uses the ordinary data source.
/// </summary>
public sealed class StatelessDataSource(NpgsqlDataSource source) : IAsyncDisposable, IDisposable
{
    public NpgsqlDataSource Source { get; } = source;

    public ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken ct) => Source.OpenConnectionAsync(ct);

    public ValueTask DisposeAsync() => Source.DisposeAsync();

    public void Dispose() => Source.Dispose();
}
