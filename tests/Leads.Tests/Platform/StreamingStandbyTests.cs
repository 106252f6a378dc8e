using System.Diagnostics;
using Dapper;
using Kernel.Ids;
using Leads.Host.Database;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Shouldly;

namespace Leads.Tests.Platform;

/// <summary>
/// A real primary and a real streaming standby (<c>pg_basebackup -R</c>), both throwaway clusters of their own, with
/// <c>ConnectionStrings:LeadsRead</c> on the standby: list reads, and the list cache's snapshots, come from a server that
/// replays the primary's WAL.
/// </summary>
public sealed class StreamingStandbyFactory : ApiFactory, IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"leads-standby-{Environment.ProcessId}-{Guid.NewGuid():N}"[..44]);
    private EmbeddedPostgres? _primary, _standby;

    public string StandbyConnectionString { get; private set; } = "";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["ConnectionStrings:LeadsRead"] = StandbyConnectionString };

    public override async Task InitializeAsync()
    {
        // pg_basebackup runs as postgres (when we are root) and creates the standby's folder in here.
        Directory.CreateDirectory(_dir);
        if (Environment.UserName == "root") (await RunAsync("chown", "postgres:postgres", _dir)).Code.ShouldBe(0);
        var throwaway = new Dictionary<string, string> { ["fsync"] = "off", ["full_page_writes"] = "off", ["max_connections"] = "100" };
        _primary = await EmbeddedPostgres.StartAsync(Path.Combine(_dir, "primary"), NullLogger.Instance, throwaway);
        await _primary.EnsureDatabaseAsync("leads");
        ConnectionString = _primary.ConnectionString("leads", maxPoolSize: 30);
        await DatabaseBootstrap.MigrateAsync(ConnectionString, NullLogger.Instance);

        var standbyDir = Path.Combine(_dir, "standby");
        // The cluster takes its SCRAM password only (kept in its data folder); -R writes it into the standby's primary_conninfo.
        var conninfo = $"host=127.0.0.1 port={_primary.Port} user=postgres passfile={Path.Combine(_primary.DataDirectory, EmbeddedPostgres.PasswordFileName)}";
        var (code, output) = await RunAsPostgresAsync("pg_basebackup", "-d", conninfo, "-D", standbyDir, "-R", "-X", "stream", "-c", "fast");
        code.ShouldBe(0, output);
        _standby = await EmbeddedPostgres.StartAsync(standbyDir, NullLogger.Instance, throwaway);
        StandbyConnectionString = _standby.ConnectionString("leads", maxPoolSize: 30);
        await using (var s = new NpgsqlConnection(StandbyConnectionString))
            (await s.ExecuteScalarAsync<bool>("SELECT pg_is_in_recovery()")).ShouldBeTrue();
        _ = Services;
    }

    /// <summary>Returns once the standby has replayed everything the primary has written so far.</summary>
    public async Task ReplayedAsync()
    {
        await using var p = new NpgsqlConnection(ConnectionString);
        var lsn = await p.ExecuteScalarAsync<string>("SELECT pg_current_wal_flush_lsn()::text");
        await using var s = new NpgsqlConnection(StandbyConnectionString);
        for (var i = 0; i < 600; i++)
        {
            if (await s.ExecuteScalarAsync<bool>("SELECT pg_last_wal_replay_lsn() >= @Lsn::pg_lsn", new { Lsn = lsn })) return;
            await Task.Delay(50);
        }
        throw new TimeoutException($"the standby did not replay up to {lsn}");
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_standby is not null) await _standby.StopAsync();
        if (_primary is not null) await _primary.StopAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static Task<(int Code, string Output)> RunAsPostgresAsync(string tool, params string[] args)
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, tool))).OrderByDescending(d => d).First();
        return Environment.UserName == "root"
            ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(bin, tool), .. args])
            : RunAsync(Path.Combine(bin, tool), args);
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = "/",
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = await p.StandardError.ReadToEndAsync() + await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, output);
    }
}

public sealed class StreamingStandbyTests(StreamingStandbyFactory api) : IClassFixture<StreamingStandbyFactory>
{
    [Fact]
    public async Task A_search_total_remembered_on_a_standby_while_a_transaction_ran_on_the_primary_is_not_trusted_after_it_commits()
    {
        var ws = await api.CreateWorkspaceAsync();
        await using var primary = await api.OpenDbAsync();
        await primary.ExecuteAsync("""
            INSERT INTO leads.leads (id, workspace_id, first_name, email, channel, created_actor_type, created_at)
            SELECT gen_random_uuid(), @Ws, CASE WHEN i <= 3 THEN 'Zebulon' ELSE 'Bulk' END, 'l' || i || '@x.io', 'import', 'import',
                   now() - i * interval '1 minute'
            FROM generate_series(1, 10) AS i
            """, new { Ws = ws.Id });

        // A transaction on the primary inserts a matching lead and stays open; a later one commits, so the standby's
        // snapshot has the first inside its xmin–xmax range, still running.
        await using var slow = await api.OpenDbAsync();
        await using var tx = await slow.BeginTransactionAsync();
        await slow.ExecuteAsync("""
            INSERT INTO leads.leads (id, workspace_id, first_name, email, channel, created_actor_type)
            VALUES (gen_random_uuid(), @Ws, 'Zebulon', 'slow@x.io', 'api', 'system')
            """, new { Ws = ws.Id }, tx);
        // (In another workspace: this one's counter row is locked by the open transaction.)
        await (await api.CreateWorkspaceAsync()).CreateLeadAsync(new { firstName = "Other", email = "other@x.io" });
        await api.ReplayedAsync();

        await using (var standby = new NpgsqlConnection(api.StandbyConnectionString))
        {
            // What PostgreSQL's own function answers on a standby: no running transaction listed at all.
            var raw = (await standby.ExecuteScalarAsync<string>("SELECT pg_current_snapshot()::text"))!.Split(':');
            ulong.Parse(raw[0]).ShouldBeLessThan(ulong.Parse(raw[1]), string.Join(':', raw)); // the open transaction is in range
            raw[2].ShouldBeEmpty(string.Join(':', raw));                                        // yet not listed as running
            (await standby.ExecuteScalarAsync<string>("SELECT leads.list_snapshot()::text")).ShouldBe($"{raw[0]}:{raw[0]}:");
        }

        var before = await ws.Read.GetObjectAsync("/api/leads?search=zebu&limit=5");
        before["pagination"]!["total"]!.GetValue<long>().ShouldBe(3); // the standby does not see the open transaction

        await tx.CommitAsync();
        await api.ReplayedAsync();

        var after = await ws.Read.GetObjectAsync("/api/leads?search=zebu&limit=5");
        var expected = (await primary.QueryAsync<Guid>(
            "SELECT id FROM leads.leads WHERE workspace_id = @Ws AND first_name = 'Zebulon' ORDER BY created_at DESC, id DESC", new { Ws = ws.Id }))
            .Select(i => TypeId.Format("lead", i)).ToArray();
        after["pagination"]!["total"]!.GetValue<long>().ShouldBe(4);
        after.Ids().ShouldBe(expected);
    }
}
