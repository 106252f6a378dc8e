using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Duplicates;

/// <summary><c>POST /api/leads/:id/unmerge</c> and <c>GET /api/leads/:id/merges</c> (spec §10), races included.</summary>
public sealed class UnmergeTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static Task<HttpResponseMessage> Merge(TestWorkspace ws, JsonNode survivor, JsonNode duplicate) =>
        ws.Full.PostJsonAsync($"/api/leads/{survivor.Id()}/merge", new { duplicateId = duplicate.Id() });

    private static Task<HttpResponseMessage> Unmerge(TestWorkspace ws, JsonNode survivor, JsonNode merged) =>
        ws.Full.PostJsonAsync($"/api/leads/{survivor.Id()}/unmerge", new { mergedLeadId = merged.Id() });

    private static async Task TagAsync(TestWorkspace ws, JsonNode lead, string name) =>
        ((int)(await ws.Full.PostJsonAsync($"/api/leads/{lead.Id()}/tags", new { name })).StatusCode).ShouldBeInRange(200, 201);

    /// <summary>The lead's row (every column), its tag IDs and its own event IDs, as the database holds them.</summary>
    private async Task<(string Row, Guid[] Tags, Guid[] Events)> StateAsync(JsonNode lead)
    {
        await using var db = await api.OpenDbAsync();
        var row = await db.ExecuteScalarAsync<string?>("SELECT row_to_json(l)::text FROM leads.leads l WHERE id = @Id", new { Id = lead.Uuid() }) ?? "(gone)";
        var tags = (await db.QueryAsync<Guid>("SELECT tag_id FROM tags.lead_tags WHERE lead_id = @Id ORDER BY tag_id", new { Id = lead.Uuid() })).ToArray();
        var events = (await db.QueryAsync<Guid>("SELECT id FROM leads.events WHERE lead_id = @Id ORDER BY id", new { Id = lead.Uuid() })).ToArray();
        return (row, tags, events);
    }

    private sealed record Scene(TestWorkspace Ws, JsonObject Survivor, JsonObject Merged, JsonObject Member);

    /// <summary>A survivor with some fields, and a rich lead (flagged, qualified, assigned, tagged, with notes and metadata) to merge into it.</summary>
    private async Task<Scene> SceneAsync()
    {
        var ws = await api.CreateWorkspaceAsync();
        var member = await (await ws.Full.PostJsonAsync("/api/users", new { name = "Chidi", email = $"c{Guid.NewGuid():N}@x.io", role = "member" })).BodyAsync();
        var survivor = await ws.CreateLeadAsync(new { email = "sam@acme.io", firstName = "Sam", notes = "Survivor notes", metadata = new { a = 1, shared = "s" } });
        var primary = await ws.CreateLeadAsync(new { email = "pat@initech.io", phone = "+14155550111" });
        var merged = await ws.CreateLeadAsync(new { email = "dee@initech.io", firstName = "Dee", lastName = "Doe", phone = "+1 415 555 0111",
            company = "Initech", notes = "Merged notes", metadata = new { b = 2, shared = "d" } });
        merged["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(primary.Id());
        await TagAsync(ws, survivor, "hot");
        await TagAsync(ws, merged, "HOT");
        await TagAsync(ws, merged, "vip");
        (await ws.Full.PutJsonAsync($"/api/leads/{merged.Id()}/status", new { status = "qualified" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PutJsonAsync($"/api/leads/{merged.Id()}/assign", new { userId = member.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        return new Scene(ws, survivor, merged, member.AsObject());
    }

    [Fact]
    public async Task The_merged_lead_comes_back_exactly_and_the_survivor_gives_back_what_it_took()
    {
        var (ws, s, d, _) = await SceneAsync();
        var sBefore = await StateAsync(s);
        var dBefore = await StateAsync(d);
        var sDetailBefore = await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}");
        (await Merge(ws, s, d)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var r = await Unmerge(ws, s, d);
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        r.Headers.ETag.ShouldNotBeNull();
        var body = JsonNode.Parse(text)!;
        body["restored"]!.Id().ShouldBe(d.Id());
        body["survivor"]!.Id().ShouldBe(s.Id());

        // The restored lead's row is the very row it had (same ID, fields, status, notes, assignee, metadata, score,
        // duplicate flag, channel, times); its tags and event rows (same IDs) are back, plus one `unmerged` event.
        var dAfter = await StateAsync(d);
        dAfter.Row.ShouldBe(dBefore.Row);
        dAfter.Tags.ShouldBe(dBefore.Tags);
        dAfter.Events.Take(dBefore.Events.Length).ShouldBe(dBefore.Events);
        var dEvents = (await ws.Read.GetObjectAsync($"/api/leads/{d.Id()}/events?limit=100"))["data"]!.AsArray();
        dEvents[0]!["type"]!.GetValue<string>().ShouldBe("unmerged");
        dEvents[0]!["data"]!["survivorId"]!.GetValue<string>().ShouldBe(s.Id());
        dEvents.Select(e => e!["type"]!.GetValue<string>()).ShouldContain("created");
        (await ws.Read.GetObjectAsync($"/api/leads/{d.Id()}"))["assignedTo"]!["name"]!.GetValue<string>().ShouldBe("Chidi");

        // The survivor gives back the filled fields, the notes block, the metadata keys and the tag it only had through the merge.
        var sAfter = await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}");
        foreach (var field in new[] { "email", "firstName", "lastName", "phone", "company", "notes", "metadata", "tags", "score", "assignedTo", "duplicateOf", "status" })
            JsonNode.DeepEquals(sAfter[field], sDetailBefore[field]).ShouldBeTrue($"{field}: {sAfter[field]?.ToJsonString()} vs {sDetailBefore[field]?.ToJsonString()}");
        (await StateAsync(s)).Tags.ShouldBe(sBefore.Tags);
        var sTimeline = (await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}/events?limit=100"))["data"]!.AsArray();
        sTimeline.Select(e => e!["type"]!.GetValue<string>()).ShouldContain("unmerged");
        sTimeline.Select(e => e!.Id()).ShouldNotContain(dBefore.Events.Length > 0 ? Kernel.Ids.TypeId.Format("evt", dBefore.Events[0]) : "");
        (await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}/merges"))["data"]!.AsArray().ShouldBeEmpty();
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task What_the_survivor_changed_since_the_merge_stays()
    {
        var (ws, s, d, _) = await SceneAsync();
        (await Merge(ws, s, d)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PatchJsonAsync($"/api/leads/{s.Id()}", new { company = "Globex", metadata = new { b = 3 } })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PutJsonAsync($"/api/leads/{s.Id()}/notes", new { notes = "Rewritten" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await (await Unmerge(ws, s, d)).BodyAsync();
        var survivor = body["survivor"]!;
        survivor["company"]!.GetValue<string>().ShouldBe("Globex");     // changed since: the newer value stays
        survivor["lastName"].ShouldBeNull();                              // taken from the merged lead, unchanged: given back
        survivor["notes"]!.GetValue<string>().ShouldBe("Rewritten");
        JsonNode.DeepEquals(survivor["metadata"], JsonNode.Parse("""{"a":1,"b":3,"shared":"s"}""")).ShouldBeTrue(survivor["metadata"]!.ToJsonString());
        body["restored"]!["company"]!.GetValue<string>().ShouldBe("Initech");
    }

    [Fact]
    public async Task A_later_merge_must_be_undone_first_and_merges_are_listed_newest_first()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.CreateLeadAsync(new { email = "s@o.io" });
        var d1 = await ws.CreateLeadAsync(new { email = "d1@o.io" });
        var d2 = await ws.CreateLeadAsync(new { email = "d2@o.io" });
        (await Merge(ws, s, d1)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Merge(ws, s, d2)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var list = (await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}/merges"))["data"]!.AsArray();
        list.Select(m => m!["mergedLeadId"]!.GetValue<string>()).ShouldBe([d2.Id(), d1.Id()]);
        var first = list[1]!;
        (DateTime.Parse(first["undoableUntil"]!.GetValue<string>()) - DateTime.Parse(first["mergedAt"]!.GetValue<string>())).ShouldBe(TimeSpan.FromDays(30));
        first["by"]!["type"]!.GetValue<string>().ShouldBe("api_key");

        var order = await (await Unmerge(ws, s, d1)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "unmerge_order");
        order["detail"]!.GetValue<string>().ShouldContain(d2.Id());
        (await Unmerge(ws, s, d2)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Unmerge(ws, s, d1)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}/merges"))["data"]!.AsArray().ShouldBeEmpty();
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task After_30_days_it_is_a_409_unmerge_expired_and_nothing_changes()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.CreateLeadAsync(new { email = "s@o.io" });
        var d = await ws.CreateLeadAsync(new { email = "d@o.io", lastName = "Doe" });
        (await Merge(ws, s, d)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("UPDATE duplicates.merges SET merged_at = now() - interval '30 days 1 minute' WHERE merged_lead_id = @Id", new { Id = d.Uuid() });
        var before = await Invariants.SnapshotAsync(api, ws);
        await (await Unmerge(ws, s, d)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "unmerge_expired");
        (await Invariants.SnapshotAsync(api, ws)).ShouldBe(before);
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("UPDATE duplicates.merges SET merged_at = now() - interval '29 days 23 hours' WHERE merged_lead_id = @Id", new { Id = d.Uuid() });
        (await Unmerge(ws, s, d)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Unknown_merges_other_survivors_other_workspaces_and_bad_ids_are_refused()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.CreateLeadAsync(new { email = "s@o.io" });
        var other = await ws.CreateLeadAsync(new { email = "o@o.io" });
        var d = await ws.CreateLeadAsync(new { email = "d@o.io" });
        await (await Unmerge(ws, s, d)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "merge_not_found");
        (await Merge(ws, s, d)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await Unmerge(ws, other, d)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "merge_not_found");
        await (await Unmerge(ws, d, s)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_merged");
        var stranger = await api.CreateWorkspaceAsync();
        await (await Unmerge(stranger, s, d)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        await (await stranger.Read.GetAsync($"/api/leads/{s.Id()}/merges")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        (await (await ws.Full.PostJsonAsync($"/api/leads/{s.Id()}/unmerge", new { mergedLeadId = "nope" }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed"))["errors"]!["mergedLeadId"].ShouldNotBeNull();
        await (await ws.Read.GetAsync($"/api/leads/{s.Id()}/merges?limit=5")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        (await Unmerge(ws, s, d)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await Unmerge(ws, s, d)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "merge_not_found");
    }

    [Fact]
    public async Task A_removed_assignee_and_a_deleted_tag_come_back_as_none()
    {
        var (ws, s, d, member) = await SceneAsync();
        (await Merge(ws, s, d)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.DeleteAsync($"/api/users/{member.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var vip = (await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}"))["tags"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == "vip")!;
        (await ws.Full.DeleteAsync($"/api/tags/{vip.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        var restored = (await (await Unmerge(ws, s, d)).BodyAsync())["restored"]!;
        restored["assignedTo"].ShouldBeNull();
        restored["tags"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ShouldBe(["hot"]);
        restored["status"]!.GetValue<string>().ShouldBe("qualified");
    }

    [Fact]
    public async Task Merge_unmerge_merge_round_trips()
    {
        var (ws, s, d, _) = await SceneAsync();
        var first = await (await Merge(ws, s, d)).BodyAsync();
        var firstTimeline = (await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}/events?limit=100"))["pagination"]!["total"]!.GetValue<long>();
        (await Unmerge(ws, s, d)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var again = await Merge(ws, s, d);
        var second = await again.BodyAsync();
        again.StatusCode.ShouldBe(HttpStatusCode.OK, second.ToJsonString());
        foreach (var field in new[] { "email", "firstName", "lastName", "phone", "company", "notes", "metadata", "tags", "score", "assignedTo", "status" })
            JsonNode.DeepEquals(second[field], first[field]).ShouldBeTrue(field);
        // The second merge brings the same events back, plus the unmerged/merged/score events the round trip wrote.
        (await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}/events?limit=100"))["pagination"]!["total"]!.GetValue<long>().ShouldBeGreaterThan(firstTimeline);
        (await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}/merges"))["data"]!.AsArray().Count.ShouldBe(1);
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task A_lead_that_had_itself_absorbed_others_gets_their_timeline_back_and_its_duplicates_return_to_it()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.CreateLeadAsync(new { email = "s@o.io" });
        var d = await ws.CreateLeadAsync(new { email = "d@o.io", phone = "+14155550123" });
        var x = await ws.CreateLeadAsync(new { email = "x@o.io" });
        var dupOfD = await ws.CreateLeadAsync(new { phone = "+1 415 555 0123" });
        dupOfD["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(d.Id());
        await TagAsync(ws, x, "from-x");
        (await Merge(ws, d, x)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var dTimeline = (await ws.Read.GetObjectAsync($"/api/leads/{d.Id()}/events?limit=100"))["data"]!.AsArray().Select(e => e!.Id()).ToList();
        (await Merge(ws, s, d)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Read.GetObjectAsync($"/api/leads/{dupOfD.Id()}"))["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(s.Id());

        (await Unmerge(ws, s, d)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var back = (await ws.Read.GetObjectAsync($"/api/leads/{d.Id()}/events?limit=100"))["data"]!.AsArray().Select(e => e!.Id()).ToList();
        dTimeline.ShouldBeSubsetOf(back);
        (await ws.Read.GetObjectAsync($"/api/leads/{dupOfD.Id()}"))["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(d.Id());
        // X's merge into D can now be undone in turn.
        (await Unmerge(ws, d, x)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Read.GetObjectAsync($"/api/leads/{x.Id()}"))["tags"]!.AsArray().Single()!["name"]!.GetValue<string>().ShouldBe("from-x");
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task Unmerge_racing_a_new_merge_into_the_survivor_has_a_serial_outcome()
    {
        var ws = await api.CreateWorkspaceAsync();
        for (var round = 0; round < 50; round++)
        {
            var s = await ws.CreateLeadAsync(new { email = $"s{round}@race.io", notes = $"s-{round}" });
            var d = await ws.CreateLeadAsync(new { email = $"d{round}@race.io", notes = $"d-{round}" });
            var e = await ws.CreateLeadAsync(new { email = $"e{round}@race.io", notes = $"e-{round}" });
            (await Merge(ws, s, d)).StatusCode.ShouldBe(HttpStatusCode.OK);
            var results = await Task.WhenAll(Unmerge(ws, s, d), Merge(ws, s, e));
            var (unmerge, merge) = (results[0], results[1]);
            merge.StatusCode.ShouldBe(HttpStatusCode.OK, $"round {round}: {await merge.Content.ReadAsStringAsync()}");
            if (unmerge.StatusCode == HttpStatusCode.OK)
                (await ws.Read.GetObjectAsync($"/api/leads/{d.Id()}"))["notes"]!.GetValue<string>().ShouldBe($"d-{round}");
            else
            {
                // The merge came first: it must be undone first.
                var p = await unmerge.ShouldBeProblemAsync(HttpStatusCode.Conflict, "unmerge_order");
                p["detail"]!.GetValue<string>().ShouldContain(e.Id());
            }
            var notes = (await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}"))["notes"]!.GetValue<string>();
            notes.ShouldContain($"e-{round}");
            notes.ShouldStartWith($"s-{round}");
        }
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task Unmerge_racing_a_delete_of_the_survivor_either_restores_first_or_finds_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        for (var round = 0; round < 50; round++)
        {
            var s = await ws.CreateLeadAsync(new { email = $"s{round}@race.io" });
            var d = await ws.CreateLeadAsync(new { email = $"d{round}@race.io" });
            (await ws.Full.PutJsonAsync($"/api/leads/{d.Id()}/status", new { status = "contacted" })).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await Merge(ws, s, d)).StatusCode.ShouldBe(HttpStatusCode.OK);
            var results = await Task.WhenAll(Unmerge(ws, s, d), ws.Full.DeleteAsync($"/api/leads/{s.Id()}"));
            var (unmerge, delete) = (results[0], results[1]);
            delete.StatusCode.ShouldBe(HttpStatusCode.NoContent, $"round {round}: {await delete.Content.ReadAsStringAsync()}");
            var dLive = (await ws.Read.GetAsync($"/api/leads/{d.Id()}")).StatusCode == HttpStatusCode.OK;
            if (unmerge.StatusCode == HttpStatusCode.OK) dLive.ShouldBeTrue($"round {round}");
            else
            {
                ((int)unmerge.StatusCode).ShouldBe(404, $"round {round}: {await unmerge.Content.ReadAsStringAsync()}");
                dLive.ShouldBeFalse($"round {round}");
            }
        }
        await Invariants.AssertAsync(api, ws);
        (await api.ScalarAsync<long>("SELECT count(*) FROM duplicates.merges WHERE workspace_id = @W", new { W = ws.Id })).ShouldBe(0);
    }
}
