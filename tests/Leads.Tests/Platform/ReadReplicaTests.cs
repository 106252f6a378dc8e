using Dapper;
using Leads.Tests.Infrastructure;
using Npgsql;

namespace Leads.Tests.Platform;

/// <summary>A second database stands in for a replica: list and stats must read it, writes must not.</summary>
public sealed class ReplicaApiFactory : ApiFactory
{
    public string ReplicaConnectionString { get; private set; } = "";

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["ConnectionStrings:LeadsRead"] = ReplicaConnectionString };

    public override async Task InitializeAsync()
    {
        ReplicaConnectionString = await TestCluster.CreateDatabaseAsync("replica");
        await base.InitializeAsync();
    }
}

public sealed class ReadReplicaTests(ReplicaApiFactory api) : IClassFixture<ReplicaApiFactory>
{
    [Fact]
    public async Task List_and_stats_read_the_replica_while_writes_and_detail_use_the_primary()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Primary" });
        (await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}"))["firstName"]!.GetValue<string>().ShouldBe("Primary");

        // The stand-in replica has the key (auth reads the primary anyway) but not the lead yet: lag.
        (await ws.Read.GetObjectAsync("/api/leads"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(0);
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["total"]!.GetValue<long>().ShouldBe(0);

        // "Replicate" the row: now the replica answers it.
        await using (var primary = await api.OpenDbAsync())
        await using (var replica = new NpgsqlConnection(api.ReplicaConnectionString))
        {
            var row = await primary.QuerySingleAsync<(Guid Id, Guid Ws, DateTime At)>("SELECT id, workspace_id, created_at FROM leads.leads WHERE id = @Id", new { Id = lead.Uuid() });
            await replica.ExecuteAsync("""
                INSERT INTO leads.leads (id, workspace_id, first_name, channel, created_actor_type, created_at)
                VALUES (@Id, @Ws, 'Primary', 'api', 'api_key', @At)
                """, new { row.Id, row.Ws, row.At });
        }
        (await ws.Read.GetObjectAsync("/api/leads")).Ids().ShouldBe([lead.Id()]);
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["total"]!.GetValue<long>().ShouldBe(1);
    }

    [Fact]
    public async Task Stopping_the_host_closes_its_replica_connections()
    {
        var host = new ReplicaApiFactory();
        await host.InitializeAsync();
        var replica = host.ReplicaConnectionString;
        try
        {
            var ws = await host.CreateWorkspaceAsync();
            (await ws.Read.GetObjectAsync("/api/leads"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(0);
            (await ReplicaBackendsAsync(replica)).ShouldBeGreaterThan(0); // the list's pooled connection, idle now
        }
        finally
        {
            await host.DisposeAsync();
        }
        // A backend ends shortly after its client closes the connection; pooled ones left open would stay for minutes.
        await Wait.UntilAsync(async () => await ReplicaBackendsAsync(replica) == 0, "the replica's connections were closed");
    }

    private static async Task<long> ReplicaBackendsAsync(string replica)
    {
        await using var conn = new NpgsqlConnection(replica);
        await conn.OpenAsync();
        return await conn.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
    }
}
