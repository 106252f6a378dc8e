using System.Net;
using System.Text.Json.Nodes;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Leads;

public sealed class TimelineTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Created_entry_is_synthesised_last_and_paging_spans_it()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { email = "a@acme.io" });
        var only = await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}/events");
        var created = only["data"]![0]!.AsObject();
        var expected = JsonNode.Parse($$"""
            {"id":"evt_{{lead.Id()[5..]}}","type":"created","data":{"channel":"api","score":30},
             "actor":{"type":"api_key","id":"{{created["actor"]!["id"]}}","name":"owner-full"},"createdAt":"{{lead["createdAt"]}}"}
            """);
        JsonNode.DeepEquals(created, expected).ShouldBeTrue(created.ToJsonString());
        JsonNode.DeepEquals(only["pagination"], JsonNode.Parse("""{"page":1,"limit":20,"total":1,"pages":1}""")).ShouldBeTrue();

        foreach (var s in new[] { "contacted", "qualified", "converted" })
            await ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/status", new { status = s });
        // 3 status_changed + 3 score_changed + created = 7
        var p1 = await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}/events?limit=3");
        var p3 = await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}/events?limit=3&page=3");
        p1["pagination"]!["total"]!.GetValue<long>().ShouldBe(7);
        p1["pagination"]!["pages"]!.GetValue<long>().ShouldBe(3);
        p3["data"]!.AsArray().Select(e => e!["type"]!.GetValue<string>()).ShouldBe(["created"]);
        var all = (await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}/events?limit=100"))["data"]!.AsArray();
        all.Select(e => e!["type"]!.GetValue<string>()).ShouldBe(
            ["score_changed", "status_changed", "score_changed", "status_changed", "score_changed", "status_changed", "created"]);
        var times = all.Select(e => DateTime.Parse(e!["createdAt"]!.GetValue<string>())).ToArray();
        times.ShouldBe(times.OrderByDescending(t => t).ToArray());
    }

    [Fact]
    public async Task Paging_validation_and_unknown_leads()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "A" });
        await (await ws.Read.GetAsync($"/api/leads/{lead.Id()}/events?limit=101")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await (await ws.Read.GetAsync("/api/leads/lead_00000000000000000000000000/events")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
    }
}
