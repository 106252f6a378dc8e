using Dapper;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Modules.Leads.Data;
using Shouldly;

namespace Leads.Tests.Leads;

/// <summary>
/// The list cache when list reads go to standbys (migration 0055). A standby's pg_current_snapshot() lists no running
/// transaction (it answers 725:727: while 725 still runs on the primary); a node reading several servers can check a
/// snapshot from one that is ahead on one that lags. Neither may make a remembered total or position pass for newer than
/// it is. A test cluster has no standby, so the snapshots such a server gives are handed to the gate directly.
/// </summary>
public sealed class StandbyListCacheTests(ListCacheApiFactory api) : IClassFixture<ListCacheApiFactory>
{
    private ListCache Cache => api.Services.GetRequiredService<ListCache>();

    private async Task<TestWorkspace> SeededAsync(int zebulons)
    {
        var ws = await api.CreateWorkspaceAsync();
        await using var db = await api.OpenDbAsync();
        await db.ExecuteAsync("""
            INSERT INTO leads.leads (id, workspace_id, first_name, email, channel, created_actor_type, created_at)
            SELECT gen_random_uuid(), @Ws, CASE WHEN i <= @Z THEN 'Zebulon' ELSE 'Bulk' END, 'l' || i || '@x.io', 'import', 'import',
                   now() - i * interval '1 minute'
            FROM generate_series(1, 40) AS i
            """, new { Ws = ws.Id, Z = zebulons });
        return ws;
    }

    private static LeadFilter Zebu(TestWorkspace ws) => new() { WorkspaceId = ws.Id, Search = "%zebu%" };

    private static async Task<long> TotalAsync(TestWorkspace ws, string query = "search=zebu&limit=5") =>
        (await ws.Read.GetObjectAsync($"/api/leads?{query}"))["pagination"]!["total"]!.GetValue<long>();

    [Theory]
    [InlineData("725:727:", "725:725:")]        // a standby's: 725 and 726 may still be running on the primary
    [InlineData("725:727:725", "725:727:725")]  // a primary's: exact
    [InlineData("727:727:", "727:727:")]        // nothing running: exact on either
    public async Task Only_what_a_snapshot_can_vouch_for_is_remembered(string given, string vouched) =>
        (await api.ScalarAsync<string>("SELECT leads.vouched_snapshot(@S::pg_snapshot)::text", new { S = given })).ShouldBe(vouched);

    [Fact]
    public async Task A_remembered_total_from_a_server_ahead_of_this_one_is_not_trusted()
    {
        var ws = await SeededAsync(zebulons: 6);
        (await TotalAsync(ws)).ShouldBe(6);
        var entry = Cache.Get(Zebu(ws)).ShouldNotBeNull();

        // The same entry as a standby further ahead would have made it: its snapshot counts transactions this server has
        // not seen yet (xmax 1,000 beyond ours), and its total — 99 — includes their leads.
        var now = await api.ScalarAsync<string>("SELECT pg_current_snapshot()::text");
        var ahead = ulong.Parse(now.Split(':')[1]) + 1_000;
        (await api.ScalarAsync<bool>("SELECT leads.changed_since(@Ws, @S::pg_snapshot)", new { Ws = ws.Id, S = entry.Snapshot })).ShouldBeFalse();
        (await api.ScalarAsync<bool>("SELECT leads.changed_since(@Ws, @S::pg_snapshot)", new { Ws = ws.Id, S = $"{ahead}:{ahead}:" })).ShouldBeTrue();
        Cache.Set(Zebu(ws), entry with { Snapshot = $"{ahead}:{ahead}:", Total = 99 });

        (await TotalAsync(ws)).ShouldBe(6);
        (await TotalAsync(ws, "search=zebu&limit=5&page=2")).ShouldBe(6);
        (await ws.Read.GetObjectAsync("/api/leads?search=zebu&limit=5&page=2")).Ids().Length.ShouldBe(1);
        Cache.Get(Zebu(ws))!.Total.ShouldBe(6);
    }

    [Fact]
    public async Task A_snapshot_whose_running_transactions_are_unknown_is_counted_again_not_adjusted()
    {
        var ws = await SeededAsync(zebulons: 4);
        (await TotalAsync(ws)).ShouldBe(4);
        var entry = Cache.Get(Zebu(ws)).ShouldNotBeNull();
        entry.Exact.ShouldBeTrue(); // the test server is a primary

        // As a standby would have remembered it: only the part of its snapshot it can vouch for, marked inexact.
        Cache.Set(Zebu(ws), entry with { Exact = false });
        var (recounts, adjustments) = (Cache.Recounts, Cache.Adjustments);
        await ws.CreateLeadAsync(new { firstName = "Zebulon", email = "zeb.late@x.io" });

        (await TotalAsync(ws)).ShouldBe(5);
        (Cache.Recounts - recounts).ShouldBe(1);
        (Cache.Adjustments - adjustments).ShouldBe(0);

        // An exact entry after that one is adjusted again, as on a primary.
        await ws.CreateLeadAsync(new { firstName = "Zebulon", email = "zeb.later@x.io" });
        (await TotalAsync(ws)).ShouldBe(6);
        (Cache.Adjustments - adjustments).ShouldBe(1);
    }
}
