using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Kernel.Ids;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Duplicates;

public sealed class MergeTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static Task<HttpResponseMessage> Merge(TestWorkspace ws, JsonNode survivor, JsonNode duplicate, bool dryRun = false) =>
        ws.Full.PostJsonAsync($"/api/leads/{survivor.Id()}/merge", new { duplicateId = duplicate.Id(), dryRun });

    private static async Task TagAsync(TestWorkspace ws, JsonNode lead, string name) =>
        ((int)(await ws.Full.PostJsonAsync($"/api/leads/{lead.Id()}/tags", new { name })).StatusCode).ShouldBeInRange(200, 201);

    [Fact]
    public async Task Folds_fields_notes_metadata_tags_events_and_group_into_the_survivor()
    {
        var ws = await api.CreateWorkspaceAsync();
        var member = await (await ws.Full.PostJsonAsync("/api/users", new { name = "Chidi", email = "c@x.io", role = "member" })).BodyAsync();
        var s = await ws.CreateLeadAsync(new { email = "s@acme.io", firstName = "Sam", notes = "Survivor notes", metadata = new { a = 1, shared = "s" } });
        var d = await ws.CreateLeadAsync(new { email = "d@acme.io", firstName = "Dee", lastName = "Doe", phone = "+14155550111", company = "Initech",
            notes = "Duplicate notes", metadata = new { b = 2, shared = "d" } });
        var d2 = await ws.CreateLeadAsync(new { phone = "+1 415 555 0111" });   // a duplicate of d
        d2["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(d.Id());
        await TagAsync(ws, s, "hot");
        await TagAsync(ws, d, "HOT");
        await TagAsync(ws, d, "vip");
        await ws.Full.PutJsonAsync($"/api/leads/{d.Id()}/status", new { status = "qualified" });
        await ws.Full.PutJsonAsync($"/api/leads/{d.Id()}/assign", new { userId = member.Id() });
        await using var db = await api.OpenDbAsync();
        var dEvents = (await db.QueryAsync<Guid>("SELECT id FROM leads.events WHERE lead_id = @Id", new { Id = d.Uuid() })).ToList();
        dEvents.Count.ShouldBe(5); // 2 tag_added, status_changed, score_changed, assigned (creation is synthesised)
        var r = await Merge(ws, s, d);
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        var merged = JsonNode.Parse(text)!.AsObject();

        merged.Id().ShouldBe(s.Id());
        merged["email"]!.GetValue<string>().ShouldBe("s@acme.io");          // survivor's non-empty field wins
        merged["firstName"]!.GetValue<string>().ShouldBe("Sam");
        merged["lastName"]!.GetValue<string>().ShouldBe("Doe");             // empty ones are filled
        merged["phone"]!.GetValue<string>().ShouldBe("+14155550111");
        merged["company"]!.GetValue<string>().ShouldBe("Initech");
        merged["status"]!.GetValue<string>().ShouldBe("new");               // status is the survivor's
        merged["assignedTo"]!["id"]!.GetValue<string>().ShouldBe(member.Id());
        merged["notes"]!.GetValue<string>().ShouldBe("Survivor notes\n\nDuplicate notes");
        JsonNode.DeepEquals(merged["metadata"], JsonNode.Parse("""{"a":1,"b":2,"shared":"s"}""")).ShouldBeTrue(merged["metadata"]!.ToJsonString());
        merged["tags"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ShouldBe(["hot", "vip"]);
        // business email 30 + phone 15 + company 10 + full name 10 + 3 metadata keys 10 = 75
        merged["score"]!.GetValue<int>().ShouldBe(75);

        // The duplicate's events are now on the survivor's timeline; a merged event says what happened.
        var events = (await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}/events?limit=100"))["data"]!.AsArray();
        var timeline = events.Select(e => e!.Uuid(IdPrefix.Event)).ToHashSet();
        dEvents.Where(timeline.Contains).Count().ShouldBe(dEvents.Count);
        var mergedEvent = events.First(e => e!["type"]!.GetValue<string>() == "merged")!;
        mergedEvent["data"]!["duplicateId"]!.GetValue<string>().ShouldBe(d.Id());
        mergedEvent["data"]!["eventsMoved"]!.GetValue<int>().ShouldBe(dEvents.Count);
        mergedEvent["data"]!["filledFields"]!.AsArray().Select(x => x!.GetValue<string>())
            .ShouldBe(["lastName", "phone", "company", "assignedTo", "metadata"]);
        mergedEvent["data"]!["tagsAdded"]!.AsArray().Select(x => x!["name"]!.GetValue<string>()).ShouldBe(["vip"]);
        events.Any(e => e!["type"]!.GetValue<string>() == "score_changed").ShouldBeTrue();

        // The duplicate's own duplicate now hangs under the survivor.
        var regrouped = await ws.Read.GetObjectAsync($"/api/leads/{d2.Id()}");
        regrouped["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(s.Id());

        // The merged-away ID answers lead_merged everywhere.
        foreach (var call in new Func<Task<HttpResponseMessage>>[]
                 {
                     () => ws.Read.GetAsync($"/api/leads/{d.Id()}"),
                     () => ws.Read.GetAsync($"/api/leads/{d.Id()}/events"),
                     () => ws.Read.GetAsync($"/api/leads/{d.Id()}/duplicates"),
                     () => ws.Full.PutJsonAsync($"/api/leads/{d.Id()}/status", new { status = "closed" }),
                     () => ws.Full.PostJsonAsync($"/api/leads/{d.Id()}/tags", new { name = "x" }),
                     () => ws.Full.DeleteAsync($"/api/leads/{d.Id()}"),
                     () => Merge(ws, s, d),
                     () => Merge(ws, d, s),
                 })
        {
            var p = await (await call()).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_merged");
            p["mergedIntoId"]!.GetValue<string>().ShouldBe(s.Id());
        }
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE id = @Id", new { Id = d.Uuid() })).ShouldBe(0);
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM tags.lead_tags WHERE lead_id = @Id", new { Id = d.Uuid() })).ShouldBe(0);
        var stats = await ws.Read.GetObjectAsync("/api/leads/stats");
        stats["total"]!.GetValue<long>().ShouldBe(2);
        stats["duplicates"]!.GetValue<long>().ShouldBe(1);
    }

    [Fact]
    public async Task Merging_into_the_duplicate_of_a_group_promotes_correctly_and_a_later_merge_repoints_tombstones()
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await ws.CreateLeadAsync(new { email = "g@acme.io", firstName = "P" });
        var d1 = await ws.CreateLeadAsync(new { email = "g@acme.io", firstName = "D1" });
        var d2 = await ws.CreateLeadAsync(new { email = "g@acme.io", firstName = "D2" });
        // Merge the primary into one of its duplicates: d1 takes its place as primary, d2 moves under d1.
        (await Merge(ws, d1, p)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Read.GetObjectAsync($"/api/leads/{d1.Id()}"))["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();
        (await ws.Read.GetObjectAsync($"/api/leads/{d2.Id()}"))["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(d1.Id());
        // Then d1 into d2: p's tombstone follows to d2.
        (await Merge(ws, d2, d1)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await (await ws.Read.GetAsync($"/api/leads/{p.Id()}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_merged"))["mergedIntoId"]!
            .GetValue<string>().ShouldBe(d2.Id());
        var last = await ws.Read.GetObjectAsync($"/api/leads/{d2.Id()}");
        last["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task Dry_run_answers_the_would_be_survivor_and_writes_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.CreateLeadAsync(new { email = "s@acme.io", notes = "A" });
        var d = await ws.CreateLeadAsync(new { phone = "+14155550100", notes = "B" });
        await TagAsync(ws, d, "t1");
        var before = await Invariants.SnapshotAsync(api, ws);
        var r = await Merge(ws, s, d, dryRun: true);
        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await r.BodyAsync();
        body["notes"]!.GetValue<string>().ShouldBe("A\n\nB");
        body["phone"]!.GetValue<string>().ShouldBe("+14155550100");
        body["tags"]!.AsArray().Count.ShouldBe(1);
        (await Invariants.SnapshotAsync(api, ws)).ShouldBe(before);
        (await ws.Read.GetAsync($"/api/leads/{d.Id()}")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Self_unknown_foreign_malformed_and_read_key_are_refused_without_writes()
    {
        var ws = await api.CreateWorkspaceAsync();
        var other = await api.CreateWorkspaceAsync();
        var a = await ws.CreateLeadAsync(new { firstName = "A" });
        var foreign = await other.CreateLeadAsync(new { firstName = "F" });
        var before = await Invariants.SnapshotAsync(api, ws);
        await (await Merge(ws, a, a)).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "merge_self");
        await (await ws.Full.PostJsonAsync($"/api/leads/{a.Id()}/merge", new { duplicateId = "lead_00000000000000000000000000" }))
            .ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        await (await Merge(ws, a, foreign)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        await (await Merge(ws, foreign, a)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        (await (await ws.Full.PostJsonAsync($"/api/leads/{a.Id()}/merge", new { duplicateId = "nope" }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed"))["errors"]!["duplicateId"].ShouldNotBeNull();
        await (await ws.Full.PostAsync($"/api/leads/{a.Id()}/merge", Http.Json("{}"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var b = await ws.CreateLeadAsync(new { firstName = "B" });
        before = await Invariants.SnapshotAsync(api, ws);
        await (await ws.Read.PostJsonAsync($"/api/leads/{a.Id()}/merge", new { duplicateId = b.Id() })).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        (await Invariants.SnapshotAsync(api, ws)).ShouldBe(before);
    }
}
