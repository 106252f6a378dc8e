using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Kernel.Data;
using Npgsql;

namespace Modules.Access.Idempotency;

/// <summary>
/// Deletes Idempotency-Key records past their retention (<c>Idempotency:Retention</c>, 24 h) every
/// <c>Retention:SweepPeriod</c> (5 minutes), on every node: the deletes are batched and idempotent, so nodes running it
/// at once only share the work. An expired record is also given way to by a new request with its key.
/// </summary>
internal sealed class IdempotencySweep(NpgsqlDataSource db, IConfiguration config, ILogger<IdempotencySweep> log)
    : RetentionSweepLoop(config, log)
{
    public static TimeSpan Retention(IConfiguration config) => config.GetValue("Idempotency:Retention", TimeSpan.FromHours(24));

    public Task<long> RunAsync(CancellationToken ct) => IdempotencyData.SweepAsync(db, ct);

    protected override string What => "Idempotency-Key sweep";

    protected override async Task PassAsync(CancellationToken ct)
    {
        if (await RunAsync(ct) is > 0 and var n) Log.LogInformation("Retention: {Records} expired Idempotency-Key records deleted", n);
    }
}
