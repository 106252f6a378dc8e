using DbUp;
using DbUp.Engine.Output;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Migrations;

/// <summary>
/// Applies the embedded <c>Scripts/NNNN_*.sql</c> in order, one transaction per script, journal in
/// <c>public.schemaversions</c>. A session-level advisory lock serialises concurrent starts of several
/// instances: the second waits, then finds nothing left to do. With a multi-host connection string
/// (<c>Target Session Attributes=read-write</c>) the lock and DbUp's connections both go to the current primary; a
/// failover during a migration fails it (the script's transaction rolls back with the old primary) and the next
/// start applies what is left.
/// </summary>
public static class Migrator
{
    // Arbitrary constant shared by every instance of the service ("leads-mg").
    private const long AdvisoryLockKey = 0x6c656164732d6d67;

    public static async Task RunAsync(string connectionString, ILogger logger, CancellationToken ct = default)
    {
        await using var lockConn = new NpgsqlConnection(connectionString);
        await lockConn.OpenAsync(ct);
        await using (var cmd = new NpgsqlCommand("SELECT pg_advisory_lock(@k)", lockConn))
        {
            cmd.Parameters.AddWithValue("k", AdvisoryLockKey);
            await cmd.ExecuteNonQueryAsync(ct);
        }
        try
        {
            var upgrader = DeployChanges.To
                .PostgresqlDatabase(connectionString)
                .WithScriptsEmbeddedInAssembly(typeof(Migrator).Assembly, name => name.EndsWith(".sql", StringComparison.Ordinal))
                .WithTransactionPerScript()
                .JournalToPostgresqlTable("public", "schemaversions")
                .LogTo(new Log(logger))
                .Build();
            if (!upgrader.IsUpgradeRequired()) return;
            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
                throw new InvalidOperationException($"Migration {result.ErrorScript?.Name} failed: {result.Error?.Message}", result.Error);
        }
        finally
        {
            // After a failover (or any lost connection) the lock went with its session: nothing to release, and the
            // error that stopped the migration is the one to report, not this one.
            if (lockConn.State == System.Data.ConnectionState.Open)
            {
                try
                {
                    await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock(@k)", lockConn);
                    cmd.Parameters.AddWithValue("k", AdvisoryLockKey);
                    await cmd.ExecuteNonQueryAsync(CancellationToken.None);
                }
                catch (NpgsqlException) { }
            }
        }
    }

    private sealed class Log(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }
        public void LogDebug(string format, params object[] args) { }
        public void LogInformation(string format, params object[] args) => logger.LogInformation("{Message}", string.Format(format, args));
        public void LogWarning(string format, params object[] args) => logger.LogWarning("{Message}", string.Format(format, args));
        public void LogError(string format, params object[] args) => logger.LogError("{Message}", string.Format(format, args));
        public void LogError(Exception ex, string format, params object[] args) => logger.LogError(ex, "{Message}", string.Format(format, args));
    }
}
