using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Kernel.Data;

/// <summary>
/// A retention pass run every <c>Retention:SweepPeriod</c> (5 minutes) by a hosted service. A pass that fails on the
/// database is logged and tried again at the next tick; nothing else stops the loop but the host's shutdown.
/// </summary>
public abstract class RetentionSweepLoop(IConfiguration config, ILogger log) : BackgroundService
{
    protected ILogger Log { get; } = log;

    /// <summary>What the pass deletes, for the failure warning ("Idempotency-Key sweep").</summary>
    protected abstract string What { get; }

    /// <summary>One pass; logs what it deleted.</summary>
    protected abstract Task PassAsync(CancellationToken ct);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = config.GetValue("Retention:SweepPeriod", TimeSpan.FromMinutes(5));
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await PassAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                Log.LogWarning(e, "{What} failed; next try in {Period}", What, period);
            }
        }
    }
}

public static class BatchedDelete
{
    /// <summary>
    /// Runs one bounded <c>DELETE</c> (its own short transaction each time) until it deletes less than
    /// <paramref name="batch"/> rows, so a pass never holds a long transaction and nodes running it at once only share
    /// the work. Answers the rows deleted.
    /// </summary>
    public static async Task<long> RepeatAsync(NpgsqlDataSource db, string sql, object args, int batch, CancellationToken ct)
    {
        long total = 0;
        while (true)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var n = await conn.ExecuteAsync(new CommandDefinition(sql, args, cancellationToken: ct));
            total += n;
            if (n < batch) return total;
        }
    }
}
