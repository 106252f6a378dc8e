using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Kernel.Data;

/// <summary>
/// Connections for long background work that competes with API requests for the CPU (bulk actions' chunk streams). Its
/// data source is used by nothing else and does not pool (each connection is a backend of its own, which ends when the
/// connection closes), so a backend whose priority was lowered here never serves an API request. When
/// <see cref="Nice"/> is above 0 — the host sets it only for its embedded cluster, whose backends run on this machine —
/// each new connection's backend gets that niceness (<c>setpriority(PRIO_PROCESS, pg_backend_pid(), nice)</c>): the
/// kernel then runs the API's backends first whenever both want a core, and the background work takes the idle cycles.
/// Where that is not possible (not Linux, not allowed) the host logs it once and the work runs at normal priority.
/// </summary>
public sealed class BackgroundDataSource(NpgsqlDataSource source, int nice, ILogger<BackgroundDataSource> log) : IAsyncDisposable, IDisposable
{
    private int _warned;

    /// <summary>The niceness given to each connection's backend; 0 = none.</summary>
    public int Nice { get; } = nice;

    public NpgsqlDataSource Source { get; } = source;

    public async ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken ct)
    {
        var conn = await Source.OpenConnectionAsync(ct);
        if (Nice > 0) await LowerPriorityAsync(conn, ct);
        return conn;
    }

    private async Task LowerPriorityAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_backend_pid()", conn);
        var pid = (int)(await cmd.ExecuteScalarAsync(ct))!;
        string? failure = null;
        if (!OperatingSystem.IsLinux()) failure = "not Linux";
        else if (SetPriority(PrioProcess, (uint)pid, Nice) != 0) failure = $"setpriority failed with errno {Marshal.GetLastPInvokeError()}";
        if (failure is not null && Interlocked.Exchange(ref _warned, 1) == 0)
            log.LogInformation("Could not lower the priority of background database sessions to niceness {Nice} ({Reason}); they run at normal priority",
                Nice, failure);
    }

    private const int PrioProcess = 0;

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static extern int SetPriority(int which, uint who, int prio);

    public ValueTask DisposeAsync() => Source.DisposeAsync();

    public void Dispose() => Source.Dispose();
}
