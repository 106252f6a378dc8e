using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Leads;

public sealed class LeadWritesTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static async Task<JsonArray> EventsAsync(TestWorkspace ws, JsonNode lead) =>
        (await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}/events?limit=100"))["data"]!.AsArray();

    [Fact]
    public async Task Status_change_records_status_and_score_events_and_is_a_no_op_when_unchanged()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { email = "a@acme.io" }); // 30
        var r = await ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/status", new { status = "qualified" });
        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await r.BodyAsync();
        body["status"]!.GetValue<string>().ShouldBe("qualified");
        body["score"]!.GetValue<int>().ShouldBe(45);
        body["tags"].ShouldNotBeNull(); // the full lead

        var events = await EventsAsync(ws, lead);
        events.Select(e => e!["type"]!.GetValue<string>()).ShouldBe(["score_changed", "status_changed", "created"]);
        JsonNode.DeepEquals(events[1]!["data"], JsonNode.Parse("""{"from":"new","to":"qualified"}""")).ShouldBeTrue();
        JsonNode.DeepEquals(events[0]!["data"], JsonNode.Parse("""
            {"from":30,"to":45,"reasons":[{"rule":"valid_email","points":15},{"rule":"business_email_domain","points":15},{"rule":"status_qualified","points":15}]}
            """)).ShouldBeTrue(events[0]!["data"]!.ToJsonString());
        events[1]!["actor"]!["type"]!.GetValue<string>().ShouldBe("api_key");
        events[1]!["actor"]!["id"]!.GetValue<string>().ShouldStartWith("key_");
        events[1]!["actor"]!["name"]!.GetValue<string>().ShouldBe("owner-full");

        (await ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/status", new { status = "qualified" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await EventsAsync(ws, lead)).Count.ShouldBe(3);
        (await api.ScalarAsync<string>("SELECT status FROM leads.leads WHERE id = @Id", new { Id = lead.Uuid() })).ShouldBe("qualified");
    }

    [Theory]
    [InlineData("""{"status":"won"}""", "validation_failed")]
    [InlineData("""{}""", "validation_failed")]
    [InlineData("""{"status":"new","extra":1}""", "unknown_property")]
    public async Task Bad_status_bodies_are_400(string json, string code)
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "A" });
        await (await ws.Full.PutAsync($"/api/leads/{lead.Id()}/status", Http.Json(json))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task Notes_are_set_cleared_and_limited()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "A" });
        (await (await ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/notes", new { notes = "Call back Tuesday" })).BodyAsync())["notes"]!
            .GetValue<string>().ShouldBe("Call back Tuesday");
        (await api.ScalarAsync<string>("SELECT notes FROM leads.leads WHERE id = @Id", new { Id = lead.Uuid() })).ShouldBe("Call back Tuesday");
        (await (await ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/notes", new { notes = "" })).BodyAsync())["notes"].ShouldBeNull();
        (await (await ws.Full.PutAsync($"/api/leads/{lead.Id()}/notes", Http.Json("""{"notes":null}"""))).BodyAsync())["notes"].ShouldBeNull();
        var events = await EventsAsync(ws, lead);
        events.Count(e => e!["type"]!.GetValue<string>() == "notes_updated").ShouldBe(2);
        JsonNode.DeepEquals(events[0]!["data"], new JsonObject()).ShouldBeTrue();
        var p = await (await ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/notes", new { notes = new string('n', 10_001) }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]!["notes"].ShouldNotBeNull();
        (await ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/notes", new { notes = new string('n', 10_000) })).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Assign_and_unassign_with_events_and_user_validation()
    {
        var ws = await api.CreateWorkspaceAsync();
        var other = await api.CreateWorkspaceAsync();
        var member = await (await ws.Full.PostJsonAsync("/api/users", new { name = "Chidi", email = "c@x.io", role = "member" })).BodyAsync();
        var foreign = await (await other.Full.PostJsonAsync("/api/users", new { name = "Eleanor", email = "e@x.io", role = "member" })).BodyAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "A" });

        var assigned = await (await ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/assign", new { userId = member.Id() })).BodyAsync();
        JsonNode.DeepEquals(assigned["assignedTo"], JsonNode.Parse($$"""{"id":"{{member.Id()}}","name":"Chidi"}""")).ShouldBeTrue();
        (await api.ScalarAsync<Guid>("SELECT assigned_to FROM leads.leads WHERE id = @Id", new { Id = lead.Uuid() })).ShouldBe(member.Uuid("usr"));

        (await ws.Full.PutAsync($"/api/leads/{lead.Id()}/assign", Http.Json("""{"userId":null}"""))).StatusCode.ShouldBe(HttpStatusCode.OK);
        var events = await EventsAsync(ws, lead);
        JsonNode.DeepEquals(events[0]!["data"], JsonNode.Parse($$"""{"from":"{{member.Id()}}","to":null}""")).ShouldBeTrue();
        JsonNode.DeepEquals(events[1]!["data"], JsonNode.Parse($$"""{"from":null,"to":"{{member.Id()}}"}""")).ShouldBeTrue();

        foreach (var bad in new[] { foreign.Id(), "usr_00000000000000000000000000", "nonsense" })
        {
            var p = await (await ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/assign", new { userId = bad })).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
            p["errors"]!["userId"].ShouldNotBeNull();
        }
    }

    [Fact]
    public async Task Removing_a_member_unassigns_their_leads_with_an_event_each()
    {
        var ws = await api.CreateWorkspaceAsync();
        var member = await (await ws.Full.PostJsonAsync("/api/users", new { name = "Gone", email = "g@x.io", role = "member" })).BodyAsync();
        var a = await ws.CreateLeadAsync(new { firstName = "A" });
        var b = await ws.CreateLeadAsync(new { firstName = "B" });
        await ws.Full.PutJsonAsync($"/api/leads/{a.Id()}/assign", new { userId = member.Id() });
        await ws.Full.PutJsonAsync($"/api/leads/{b.Id()}/assign", new { userId = member.Id() });
        (await ws.Full.DeleteAsync($"/api/users/{member.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        foreach (var l in new[] { a, b })
        {
            (await ws.Read.GetObjectAsync($"/api/leads/{l.Id()}"))["assignedTo"].ShouldBeNull();
            var e = (await EventsAsync(ws, l))[0]!;
            e["type"]!.GetValue<string>().ShouldBe("unassigned");
            e["data"]!["from"]!.GetValue<string>().ShouldBe(member.Id());
            e["id"]!.GetValue<string>().ShouldStartWith("evt_");
        }
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["unassigned"]!.GetValue<long>().ShouldBe(2);
    }

    [Fact]
    public async Task Delete_removes_the_lead_its_events_and_tag_links_for_good()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "A" });
        await ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/status", new { status = "contacted" });
        (await ws.Full.DeleteAsync($"/api/leads/{lead.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await (await ws.Read.GetAsync($"/api/leads/{lead.Id()}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        await (await ws.Full.DeleteAsync($"/api/leads/{lead.Id()}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.events WHERE lead_id = @Id", new { Id = lead.Uuid() })).ShouldBe(0);
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE id = @Id", new { Id = lead.Uuid() })).ShouldBe(0);
    }

    [Fact]
    public async Task Every_id_route_answers_404_for_another_workspaces_lead_and_changes_nothing()
    {
        var mine = await api.CreateWorkspaceAsync();
        var theirs = await api.CreateWorkspaceAsync();
        var lead = await theirs.CreateLeadAsync(new { firstName = "Theirs", email = "t@acme.io" });
        await using var db = await api.OpenDbAsync();
        var before = await db.ExecuteScalarAsync<string>("SELECT row_to_json(l)::text FROM leads.leads l WHERE id = @Id", new { Id = lead.Uuid() });
        var id = lead.Id();
        var calls = new Func<Task<HttpResponseMessage>>[]
        {
            () => mine.Full.GetAsync($"/api/leads/{id}"),
            () => mine.Full.GetAsync($"/api/leads/{id}/events"),
            () => mine.Full.PutJsonAsync($"/api/leads/{id}/status", new { status = "closed" }),
            () => mine.Full.PutJsonAsync($"/api/leads/{id}/notes", new { notes = "x" }),
            () => mine.Full.PutJsonAsync($"/api/leads/{id}/assign", new { userId = (string?)null }),
            () => mine.Full.DeleteAsync($"/api/leads/{id}"),
        };
        foreach (var call in calls) await (await call()).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        (await db.ExecuteScalarAsync<string>("SELECT row_to_json(l)::text FROM leads.leads l WHERE id = @Id", new { Id = lead.Uuid() })).ShouldBe(before);
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.events WHERE lead_id = @Id", new { Id = lead.Uuid() })).ShouldBe(0);
    }

    [Fact]
    public async Task Every_write_with_a_read_key_is_403_and_changes_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "A" });
        var id = lead.Id();
        var calls = new Func<Task<HttpResponseMessage>>[]
        {
            () => ws.Read.PostJsonAsync("/api/leads", new { firstName = "B" }),
            () => ws.Read.PutJsonAsync($"/api/leads/{id}/status", new { status = "closed" }),
            () => ws.Read.PutJsonAsync($"/api/leads/{id}/notes", new { notes = "x" }),
            () => ws.Read.PutJsonAsync($"/api/leads/{id}/assign", new { userId = (string?)null }),
            () => ws.Read.DeleteAsync($"/api/leads/{id}"),
        };
        foreach (var call in calls) await (await call()).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(1);
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.events WHERE lead_id = @Id", new { Id = lead.Uuid() })).ShouldBe(0);
    }

    [Fact]
    public async Task Malformed_or_wrong_type_ids_are_404()
    {
        var ws = await api.CreateWorkspaceAsync();
        foreach (var id in new[] { "garbage", "usr_01m8brdj0efn9aftk3j67h2v9c", "lead_00000000000000000000000000" })
            await (await ws.Read.GetAsync($"/api/leads/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
    }

    [Fact]
    public async Task Merged_away_lead_answers_lead_merged_with_the_survivor()
    {
        var ws = await api.CreateWorkspaceAsync();
        var survivor = await ws.CreateLeadAsync(new { firstName = "S" });
        var gone = Guid.CreateVersion7();
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("INSERT INTO leads.merged_leads (id, workspace_id, merged_into) VALUES (@Id, @Ws, @Into)", new { Id = gone, Ws = ws.Id, Into = survivor.Uuid() });
        var p = await (await ws.Read.GetAsync($"/api/leads/{Kernel.Ids.TypeId.Format("lead", gone)}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_merged");
        p["mergedIntoId"]!.GetValue<string>().ShouldBe(survivor.Id());
        await (await ws.Full.PutJsonAsync($"/api/leads/{Kernel.Ids.TypeId.Format("lead", gone)}/status", new { status = "closed" }))
            .ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_merged");
    }
}
