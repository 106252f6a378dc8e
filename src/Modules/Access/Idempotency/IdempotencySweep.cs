using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Modules.Access.Idempotency;

/// <summary>
/// Deletes Idempotency-Key records past their retention (<c>Idempotency:Retention</c>, 24 h) every
/// <c>Retention:SweepPeriod</c> (5 minutes), on every node: the deletes are batched and idempotent, so nodes running it
/// at once only share the work. An expired record is also given way to by a new request with its key.
/// </summary>
internal sealed class IdempotencySweep(NpgsqlDataSource db, IConfiguration config, ILogger<IdempotencySweep> log) : BackgroundService
{
    public static TimeSpan Retention(IConfiguration config) => config.GetValue("Idempotency:Retention", TimeSpan.FromHours(24));

    public Task<long> RunAsync(CancellationToken ct) => IdempotencyData.SweepAsync(db, ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = config.GetValue("Retention:SweepPeriod", TimeSpan.FromMinutes(5));
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (await RunAsync(stoppingToken) is > 0 and var n) log.LogInformation("Retention: {Records} expired Idempotency-Key records deleted", n);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && !stoppingToken.IsCancellationRequested)
            {
                log.LogWarning(e, "Idempotency-Key sweep failed; next try in {Period}", period);
            }
        }
    }
}
