using System.Net;
using System.Net.Sockets;
using Dapper;
using Hangfire;
using Kernel.Data;
using Leads.Host.Database;
using Leads.Tests.Import;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Shouldly;

namespace Leads.Tests.Platform;

/// <summary>
/// The service on a multi-host connection string whose first host is gone (a primary that died) and whose second is
/// the live server — for writes and for <c>ConnectionStrings:LeadsRead</c> alike.
/// </summary>
public sealed class DeadFirstHostApiFactory : ApiFactory
{
    public string MultiHostConnectionString { get; private set; } = "";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["ConnectionStrings:LeadsRead"] = MultiHostConnectionString,
    };

    // Bound but never listening: a connection to it is refused at once, and no other process can take the port meanwhile
    // (a port merely found free and released could be handed to a listener that accepts and then says nothing).
    private readonly Socket _dead = MultiHostTests.DeadPort();

    public override async Task InitializeAsync()
    {
        var live = await TestCluster.CreateDatabaseAsync("multihost");
        MultiHostConnectionString = MultiHostTests.WithHosts(live, $"127.0.0.1:{((IPEndPoint)_dead.LocalEndPoint!).Port}", null);
        ConnectionString = MultiHostConnectionString;
        _ = Services;
    }
}

public sealed class MultiHostTests(DeadFirstHostApiFactory api) : IClassFixture<DeadFirstHostApiFactory>
{
    /// <summary>A loopback port held (bound, not listening) by the returned socket: connections to it are refused.</summary>
    public static Socket DeadPort()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return s;
    }

    /// <summary><paramref name="connectionString"/> with <paramref name="first"/> before its own host (and <paramref name="last"/> after).</summary>
    public static string WithHosts(string connectionString, string? first, string? last)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        var own = $"{csb.Host}:{csb.Port}";
        csb.Host = string.Join(',', new[] { first, own, last }.Where(h => h is not null));
        return csb.ConnectionString;
    }

    [Fact]
    public void Several_hosts_default_to_the_primary_for_writes_and_a_standby_for_reads_unless_the_string_says_otherwise()
    {
        var w = new NpgsqlConnectionStringBuilder(MultiHost.ForWrites("Host=pg1:5432,pg2:5432;Database=leads"));
        w.TargetSessionAttributes.ShouldBe("read-write");
        w.HostRecheckSeconds.ShouldBe(MultiHost.HostRecheckSeconds);
        new NpgsqlConnectionStringBuilder(MultiHost.ForReads("Host=pg1,pg2;Database=leads")).TargetSessionAttributes.ShouldBe("prefer-standby");

        var own = new NpgsqlConnectionStringBuilder(MultiHost.ForReads("Host=pg1,pg2;Target Session Attributes=standby;Host Recheck Seconds=30"));
        own.TargetSessionAttributes.ShouldBe("standby");
        own.HostRecheckSeconds.ShouldBe(30);
        MultiHost.ForWrites("Host=pg1;Database=leads").ShouldBe("Host=pg1;Database=leads");
    }

    [Fact]
    public async Task Migrations_the_api_reads_and_hangfire_all_reach_the_live_second_host()
    {
        var cs = MultiHost.ForWrites(api.MultiHostConnectionString);
        await using (var db = new NpgsqlConnection(cs))
        {
            var before = await db.ExecuteScalarAsync<long>("SELECT count(*) FROM public.schemaversions");
            // Takes the advisory lock, finds nothing to apply, installs Hangfire's objects: all through the second host.
            await DatabaseBootstrap.MigrateAsync(cs, NullLogger.Instance);
            (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM public.schemaversions")).ShouldBe(before);
        }

        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Second", email = "second@host.io" });
        (await api.ScalarAsync<string>("SELECT first_name FROM leads.leads WHERE id = @Id", new { Id = lead.Uuid() })).ShouldBe("Second");
        (await ws.Read.GetObjectAsync("/api/leads")).Ids().ShouldBe([lead.Id()]); // LeadsRead: prefer-standby, falls back
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["total"]!.GetValue<long>().ShouldBe(1);

        // An upload enqueues its job in Hangfire's storage, which reads it back through the same string; the job runs.
        var upload = await ws.UploadAsync("email,firstName\na@acme.io,Ann\nb@acme.io,Bo\n");
        upload.StatusCode.ShouldBe(HttpStatusCode.Accepted, await upload.Content.ReadAsStringAsync());
        var id = (await upload.Content.ReadFromJsonObjectAsync())["id"]!.GetValue<string>();
        var monitor = api.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        monitor.EnqueuedCount(Modules.Import.ImportModule.Queue).ShouldBeGreaterThanOrEqualTo(1);
        await api.RunImportAsync(id);
        (await ws.Read.GetObjectAsync($"/api/leads/imports/{id}"))["created"]!.GetValue<long>().ShouldBe(2);
    }
}

/// <summary>
/// A primary that dies under a running host: the first host is a TCP relay to the test server, the second the server
/// itself. Once the relay is shut (every connection through it reset, like a killed server), the host goes on
/// through the second host without a restart; a request may fail while a pool finds its dead connections, no more
/// than one per pool, and every write acknowledged before or after is in the database.
/// </summary>
public sealed class PrimaryDiesApiFactory : ApiFactory
{
    public TcpRelay Relay { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        var live = await TestCluster.CreateDatabaseAsync("primarydies");
        var csb = new NpgsqlConnectionStringBuilder(live);
        Relay = TcpRelay.Start(csb.Host!, csb.Port);
        ConnectionString = MultiHostTests.WithHosts(live, $"127.0.0.1:{Relay.Port}", null);
        _ = Services;
    }
}

public sealed class PrimaryDiesTests(PrimaryDiesApiFactory api) : IClassFixture<PrimaryDiesApiFactory>
{
    [Fact]
    public async Task When_the_first_host_dies_the_running_host_finds_the_second_and_keeps_every_acknowledged_write()
    {
        var ws = await api.CreateWorkspaceAsync();
        var acknowledged = new List<Guid>();
        for (var i = 0; i < 5; i++) acknowledged.Add((await ws.CreateLeadAsync(new { firstName = $"Before{i}" })).Uuid());
        (await ws.Read.GetObjectAsync("/api/leads"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(5);
        api.Relay.Connections.ShouldBeGreaterThan(0); // the host really was on the first host

        api.Relay.Dispose(); // the "primary" dies: every pooled connection through it is reset

        var failures = 0;
        for (var i = 0; i < 20; i++)
        {
            var r = await ws.Full.PostJsonAsync("/api/leads", new { firstName = $"After{i}" });
            if (r.StatusCode == HttpStatusCode.Created) acknowledged.Add((await r.BodyAsync()).Uuid());
            else
            {
                failures++;
                (await r.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "database_unavailable")).ShouldNotBeNull();
            }
            var list = await ws.Read.GetAsync("/api/leads?limit=1");
            if (list.StatusCode != HttpStatusCode.OK) failures++;
        }
        failures.ShouldBeLessThanOrEqualTo(4, "at most one failed request per pool (leads, stateless, Hangfire's, idempotency) after the host died");
        acknowledged.Count.ShouldBeGreaterThanOrEqualTo(5 + 20 - 4);
        var stored = await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE id = ANY(@Ids)", new { Ids = acknowledged.ToArray() });
        stored.ShouldBe(acknowledged.Count);
        (await ws.Read.GetObjectAsync("/api/leads"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(acknowledged.Count);
    }
}

/// <summary>
/// A promoted standby that still refuses writes: pg_auto_failover keeps it at <c>default_transaction_read_only = on</c> until
/// the monitor confirms the promotion. Here every host of the string is that server (two routes to one database set
/// read-only). Writes must then answer 503 — never 500, never reach the read-only server — and go through again
/// without a restart once it accepts writes.
/// </summary>
public sealed class ReadOnlyPrimaryApiFactory : ApiFactory
{
    public TcpRelay Relay { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        var live = await TestCluster.CreateDatabaseAsync("readonlyprimary");
        var csb = new NpgsqlConnectionStringBuilder(live);
        Relay = TcpRelay.Start(csb.Host!, csb.Port);
        ConnectionString = MultiHostTests.WithHosts(live, null, $"127.0.0.1:{Relay.Port}");
        _ = Services;
    }
}

public sealed class ReadOnlyPrimaryTests(ReadOnlyPrimaryApiFactory api) : IClassFixture<ReadOnlyPrimaryApiFactory>
{
    private async Task SetReadOnlyAsync(bool on)
    {
        await using var db = await api.OpenDbAsync();
        await db.ExecuteAsync($"ALTER DATABASE \"{db.Database}\" {(on ? "SET default_transaction_read_only = on" : "RESET default_transaction_read_only")}");
        // New sessions get the setting; the pooled ones go, as a reload makes every session of a server take it.
        api.Services.GetRequiredService<NpgsqlDataSource>().Clear();
        api.Services.GetRequiredService<StatelessDataSource>().Source.Clear();
    }

    [Fact]
    public async Task Writes_answer_503_while_every_host_is_read_only_and_go_through_once_one_accepts_writes()
    {
        var ws = await api.CreateWorkspaceAsync();
        await SetReadOnlyAsync(true);
        try
        {
            var r = await ws.Full.PostJsonAsync("/api/leads", new { firstName = "Fenced" });
            await r.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "database_unavailable");
            r.Headers.RetryAfter.ShouldNotBeNull();
        }
        finally
        {
            await SetReadOnlyAsync(false);
        }
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE first_name = 'Fenced'")).ShouldBe(0);

        // The hosts' roles are re-read every 2 s (MultiHost.HostRecheckSeconds): retry as a client honouring Retry-After would.
        HttpResponseMessage? created = null;
        for (var i = 0; i < 100 && created?.StatusCode != HttpStatusCode.Created; i++)
        {
            if (i > 0) await Task.Delay(100);
            created = await ws.Full.PostJsonAsync("/api/leads", new { firstName = "Unfenced" });
            if (created.StatusCode != HttpStatusCode.Created)
                await created.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable, "database_unavailable");
        }
        created!.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE first_name = 'Unfenced'")).ShouldBe(1);
    }

    [Fact]
    public void Failover_errors_count_as_unavailable_not_as_failures()
    {
        DbErrors.IsUnavailable(new NpgsqlException("No suitable host was found.")).ShouldBeTrue();
        DbErrors.IsUnavailable(new InvalidOperationException("wrapped", new NpgsqlException("No suitable host was found."))).ShouldBeTrue();
        DbErrors.IsUnavailable(new PostgresException("cannot execute INSERT in a read-only transaction", "ERROR", "ERROR", "25006")).ShouldBeTrue();
        DbErrors.IsUnavailable(new PostgresException("duplicate key", "ERROR", "ERROR", "23505")).ShouldBeFalse();
        DbErrors.IsUnavailable(new NpgsqlException("Something else")).ShouldBeFalse();
    }
}

/// <summary>A loopback TCP relay to one server; disposing it resets every connection through it.</summary>
public sealed class TcpRelay : IDisposable
{
    private readonly TcpListener _listener;
    private readonly List<TcpClient> _open = [];
    private readonly CancellationTokenSource _stop = new();
    private int _connections;

    private TcpRelay(TcpListener listener) => _listener = listener;

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections => Volatile.Read(ref _connections);

    public static TcpRelay Start(string host, int port)
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var relay = new TcpRelay(l);
        _ = relay.AcceptAsync(host, port);
        return relay;
    }

    private async Task AcceptAsync(string host, int port)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            var server = new TcpClient();
            try { await server.ConnectAsync(host, port, _stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or SocketException) { client.Dispose(); server.Dispose(); continue; }
            lock (_open) { _open.Add(client); _open.Add(server); }
            Interlocked.Increment(ref _connections);
            _ = PumpAsync(client, server);
            _ = PumpAsync(server, client);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try { await from.GetStream().CopyToAsync(to.GetStream(), _stop.Token); }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException) { }
        finally { from.Dispose(); to.Dispose(); }
    }

    private Socket? _hold;

    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        var port = Port;
        _stop.Cancel();
        _listener.Stop();
        // Keep the port bound (not listening), so connections to the dead "primary" stay refused rather than reaching
        // whatever listener could be handed the port next.
        try
        {
            _hold = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _hold.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            _hold.Bind(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch (SocketException) { _hold?.Dispose(); _hold = null; }
        lock (_open)
        {
            // Linger 0: an RST, as from a server process that was killed.
            foreach (var c in _open)
            {
                try
                {
                    if (c.Client is { } socket) socket.LingerState = new LingerOption(true, 0);
                    c.Dispose();
                }
                catch (ObjectDisposedException) { }
            }
        }
    }
}
