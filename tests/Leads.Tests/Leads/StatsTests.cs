using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Leads;

public sealed class StatsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Empty_workspace_has_all_five_keys_at_zero()
    {
        var ws = await api.CreateWorkspaceAsync();
        var stats = await ws.Read.GetObjectAsync("/api/leads/stats");
        JsonNode.DeepEquals(stats, JsonNode.Parse("""
            {"total":0,"byStatus":{"new":0,"contacted":0,"qualified":0,"converted":0,"closed":0},"duplicates":0,"unassigned":0}
            """)).ShouldBeTrue(stats.ToJsonString());
    }

    [Fact]
    public async Task Counts_follow_writes_and_filters_and_match_the_rows()
    {
        var ws = await api.CreateWorkspaceAsync();
        var member = await (await ws.Full.PostJsonAsync("/api/users", new { name = "M", email = "m@x.io", role = "member" })).BodyAsync();
        var leads = new List<JsonObject>();
        for (var i = 0; i < 6; i++) leads.Add(await ws.CreateLeadAsync(new { firstName = $"L{i}", email = $"l{i}@acme.io" }));
        await ws.Full.PutJsonAsync($"/api/leads/{leads[0].Id()}/status", new { status = "contacted" });
        await ws.Full.PutJsonAsync($"/api/leads/{leads[1].Id()}/status", new { status = "converted" });
        await ws.Full.PutJsonAsync($"/api/leads/{leads[2].Id()}/status", new { status = "closed" });
        await ws.Full.PutJsonAsync($"/api/leads/{leads[1].Id()}/assign", new { userId = member.Id() });
        (await ws.Full.DeleteAsync($"/api/leads/{leads[5].Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var stats = await ws.Read.GetObjectAsync("/api/leads/stats");
        JsonNode.DeepEquals(stats, JsonNode.Parse("""
            {"total":5,"byStatus":{"new":2,"contacted":1,"qualified":0,"converted":1,"closed":1},"duplicates":0,"unassigned":4}
            """)).ShouldBeTrue(stats.ToJsonString());

        var filtered = await ws.Read.GetObjectAsync($"/api/leads/stats?assignedTo={member.Id()}");
        JsonNode.DeepEquals(filtered, JsonNode.Parse("""
            {"total":1,"byStatus":{"new":0,"contacted":0,"qualified":0,"converted":1,"closed":0},"duplicates":0,"unassigned":0}
            """)).ShouldBeTrue(filtered.ToJsonString());

        // A row-counting filter (search) gives the same answer as the counters would.
        var searched = await ws.Read.GetObjectAsync("/api/leads/stats?search=acme.io");
        searched["total"]!.GetValue<long>().ShouldBe(5);
        searched["byStatus"]!["new"]!.GetValue<long>().ShouldBe(2);

        // Counters agree with the rows.
        await using var db = await api.OpenDbAsync();
        (await db.ExecuteScalarAsync<long>("SELECT coalesce(sum(n),0) FROM leads.lead_counts WHERE workspace_id = @Id", new { ws.Id }))
            .ShouldBe(await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id }));
    }

    [Fact]
    public async Task Invalid_filters_are_400()
    {
        var ws = await api.CreateWorkspaceAsync();
        await (await ws.Read.GetAsync("/api/leads/stats?status=won")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Concurrent_writes_keep_the_counters_exact()
    {
        var ws = await api.CreateWorkspaceAsync();
        var leads = new List<JsonObject>();
        for (var i = 0; i < 10; i++) leads.Add(await ws.CreateLeadAsync(new { firstName = $"C{i}" }));
        var statuses = new[] { "contacted", "qualified", "new", "closed", "converted" };
        await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            var r = await ws.Full.PutJsonAsync($"/api/leads/{leads[i % 10].Id()}/status", new { status = statuses[i % 5] });
            r.StatusCode.ShouldBe(HttpStatusCode.OK);
        }).Concat(Enumerable.Range(0, 20).Select(async i => await ws.CreateLeadAsync(new { firstName = $"N{i}" }))));
        await using var db = await api.OpenDbAsync();
        var byRows = (await db.QueryAsync<(string, long)>("SELECT status, count(*) FROM leads.leads WHERE workspace_id = @Id GROUP BY status", new { ws.Id })).ToDictionary(x => x.Item1, x => x.Item2);
        var stats = await ws.Read.GetObjectAsync("/api/leads/stats");
        stats["total"]!.GetValue<long>().ShouldBe(30);
        foreach (var s in new[] { "new", "contacted", "qualified", "converted", "closed" })
            stats["byStatus"]![s]!.GetValue<long>().ShouldBe(byRows.GetValueOrDefault(s), s);
    }
}
