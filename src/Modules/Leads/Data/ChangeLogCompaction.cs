using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Modules.Leads.Data;

/// <summary>
/// Keeps <c>leads.workspace_changes</c> small: once per period (default 5 minutes, <c>Leads:ChangeLog:CompactionPeriod</c>)
/// one node deletes the rows no checkable snapshot needs (see the migration). Every node runs this loop; the database
/// lets one of them through per period.
/// </summary>
internal sealed class ChangeLogCompaction(NpgsqlDataSource db, IConfiguration config, ILogger<ChangeLogCompaction> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = config.GetValue("Leads:ChangeLog:CompactionPeriod", TimeSpan.FromMinutes(5));
        using var timer = new PeriodicTimer(period / 5);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var cmd = db.CreateCommand("SELECT leads.compact_workspace_changes(@Period)");
                cmd.Parameters.AddWithValue("Period", period);
                if (await cmd.ExecuteScalarAsync(stoppingToken) is long n) log.LogDebug("Workspace change log compacted: {Rows} rows deleted", n);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(e, "Workspace change log compaction failed; next try in {Period}", period / 5);
            }
        }
    }
}
