using Leads.Host.Database;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Leads.Tests.Infrastructure;

/// <summary>
/// One PostgreSQL cluster per test run, started by the same embedded-cluster code the service uses, in a
/// fresh temporary folder. A template database is migrated once; every test class clones it
/// (<c>CREATE DATABASE … TEMPLATE</c>), which takes milliseconds and isolates classes from each other.
/// </summary>
public static class TestCluster
{
    public const string TemplateName = "leads_template";
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static EmbeddedPostgres? _pg;
    private static int _dbCounter;

    public static async Task<EmbeddedPostgres> GetAsync()
    {
        if (_pg is not null) return _pg;
        await Gate.WaitAsync();
        try
        {
            if (_pg is not null) return _pg;
            RemoveLeftovers();
            var dir = Path.Combine(Path.GetTempPath(), $"leads-tests-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
            var pg = await EmbeddedPostgres.StartAsync(dir, NullLogger.Instance, new Dictionary<string, string>
            {
                // A throwaway cluster: durability buys nothing here and costs seconds.
                ["fsync"] = "off",
                ["synchronous_commit"] = "off",
                ["full_page_writes"] = "off",
                ["max_connections"] = "400",
                ["shared_buffers"] = "128MB",
            });
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                pg.StopAsync().GetAwaiter().GetResult();
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            };
            await pg.EnsureDatabaseAsync(TemplateName);
            var cs = pg.ConnectionString(TemplateName);
            await DatabaseBootstrap.MigrateAsync(cs, NullLogger.Instance);
            // CREATE DATABASE … TEMPLATE refuses while anyone is connected to the template.
            NpgsqlConnection.ClearAllPools();
            _pg = pg;
            return pg;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// Deletes the clusters of earlier runs whose test process is gone: the exit handler below cannot always finish (the
    /// test platform kills a test host that takes too long to exit, and a killed run never gets there), and each
    /// leftover is a stopped cluster of 1–2 GB. A folder whose test process or PostgreSQL still runs is left alone.
    /// </summary>
    private static void RemoveLeftovers()
    {
        foreach (var old in Directory.EnumerateDirectories(Path.GetTempPath(), "leads-tests-*"))
        {
            var parts = Path.GetFileName(old).Split('-');
            if (parts.Length < 4 || !int.TryParse(parts[2], out var pid) || pid == Environment.ProcessId || ProcessAlive(pid)) continue;
            try
            {
                // A killed run can leave its PostgreSQL running: leave that folder to it rather than pull its files away.
                if (Directory.EnumerateFiles(old, "postmaster.pid", SearchOption.AllDirectories).Any(f =>
                        File.ReadLines(f).FirstOrDefault() is { } first && int.TryParse(first, out var pg) && ProcessAlive(pg))) continue;
                Directory.Delete(old, recursive: true);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    private static bool ProcessAlive(int pid)
    {
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>A new database cloned from the migrated template; returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var pg = await GetAsync();
        var name = $"t_{prefix.ToLowerInvariant()}_{Interlocked.Increment(ref _dbCounter)}_{Environment.ProcessId}";
        if (name.Length > 60) name = name[^60..];
        await using var conn = new NpgsqlConnection(pg.ConnectionString("postgres"));
        await conn.OpenAsync();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE {TemplateName}", conn);
                await cmd.ExecuteNonQueryAsync();
                break;
            }
            catch (PostgresException e) when (e.SqlState == "55006" && attempt < 20)
            {
                // Another clone of the template is in progress; they serialise on the template.
                await Task.Delay(100);
            }
        }
        return pg.ConnectionString(name, maxPoolSize: 30);
    }
}
