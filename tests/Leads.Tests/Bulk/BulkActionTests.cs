using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Kernel.Ids;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Modules.Import.Bulk;
using Modules.Import.Jobs;

namespace Leads.Tests.Bulk;

/// <summary>Spec §12: POST /api/leads/bulk, the BulkActionJob (awaited directly), GET /api/leads/bulk[/:id].</summary>
public sealed class BulkActionTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private BulkActionJob Job() => api.Services.GetRequiredService<BulkActionJob>();

    private static Guid BulkUuid(JsonNode n) => TypeId.TryParse(n.Id(), IdPrefix.Bulk, out var g) ? g : throw new InvalidOperationException(n.Id());

    private static async Task<JsonObject> StartAsync(TestWorkspace ws, object body)
    {
        var r = await ws.Full.PostJsonAsync("/api/leads/bulk", body);
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.Accepted, text);
        var b = JsonNode.Parse(text)!.AsObject();
        r.Headers.Location!.ToString().ShouldBe(b["statusUrl"]!.GetValue<string>());
        b["status"]!.GetValue<string>().ShouldBe("queued");
        return b;
    }

    private async Task<JsonObject> RunAsync(TestWorkspace ws, JsonObject started)
    {
        await Job().RunAsync(BulkUuid(started), CancellationToken.None);
        return await ws.Read.GetObjectAsync(started["statusUrl"]!.GetValue<string>());
    }

    private async Task<List<(Guid LeadId, string Data, string ActorId)>> EventsAsync(TestWorkspace ws, string type)
    {
        await using var db = await api.OpenDbAsync();
        return (await db.QueryAsync<(Guid, string, string)>(
            "SELECT lead_id, data::text, actor_id FROM leads.events WHERE workspace_id = @Ws AND type = @Type", new { Ws = ws.Id, Type = type })).AsList();
    }

    private async Task<string> KeyActorAsync(TestWorkspace ws) =>
        TypeId.Format(IdPrefix.ApiKey, await api.ScalarAsync<Guid>(
            "SELECT id FROM access.api_keys WHERE workspace_id = @Ws AND prefix = @Prefix", new { Ws = ws.Id, Prefix = ws.FullKey[..12] }));

    [Fact]
    public async Task Set_status_rescores_each_lead_exactly_as_the_single_status_write_does()
    {
        var ws = await api.CreateWorkspaceAsync();
        var viaBulk = await ws.CreateLeadAsync(new { email = "r1@x.io", firstName = "R", company = "Acme" });
        var viaPut = await ws.CreateLeadAsync(new { email = "r2@x.io", firstName = "R", company = "Acme" });
        var closed = await ws.CreateLeadAsync(new { email = "r3@x.io", firstName = "R", company = "Acme" });
        (await ws.Full.PutJsonAsync($"/api/leads/{closed.Id()}/status", new { status = "qualified" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PutJsonAsync($"/api/leads/{viaPut.Id()}/status", new { status = "qualified" })).StatusCode.ShouldBe(HttpStatusCode.OK);

        var done = await RunAsync(ws, await StartAsync(ws, new { filter = new { search = "r1@x.io" }, action = "set_status", status = "qualified" }));
        done["changed"]!.GetValue<long>().ShouldBe(1);

        var bulkLead = await ws.Read.GetObjectAsync($"/api/leads/{viaBulk.Id()}");
        var putLead = await ws.Read.GetObjectAsync($"/api/leads/{viaPut.Id()}");
        bulkLead["status"]!.GetValue<string>().ShouldBe("qualified");
        bulkLead["score"]!.GetValue<int>().ShouldBe(putLead["score"]!.GetValue<int>());
        bulkLead["score"]!.GetValue<int>().ShouldBeGreaterThan(viaBulk["score"]!.GetValue<int>());
        (await api.ScalarAsync<short>("SELECT score FROM leads.leads WHERE id = @Id", new { Id = viaBulk.Uuid() }))
            .ShouldBe((short)bulkLead["score"]!.GetValue<int>());
        // The same timeline as the single write: status_changed, then score_changed with the same from/to and reasons.
        string Strip(string data) => System.Text.Json.Nodes.JsonNode.Parse(data)!.AsObject().Where(p => p.Key != "bulkId")
            .Aggregate(new JsonObject(), (o, p) => { o[p.Key] = p.Value?.DeepClone(); return o; }).ToJsonString();
        foreach (var type in new[] { "status_changed", "score_changed" })
        {
            var events = await EventsAsync(ws, type);
            var bulk = events.Single(e => e.LeadId == viaBulk.Uuid());
            bulk.Data.ShouldContain("bulkId");
            Strip(bulk.Data).ShouldBe(Strip(events.Single(e => e.LeadId == viaPut.Uuid()).Data));
        }
    }

    [Fact]
    public async Task Set_status_by_filter_changes_the_matched_leads_once_each_with_their_usual_events_and_leaves_later_leads_alone()
    {
        var ws = await api.CreateWorkspaceAsync();
        var spam = new List<JsonObject>();
        for (var i = 0; i < 5; i++)
        {
            var lead = await ws.CreateLeadAsync(new { email = $"b{i}@x.io", firstName = $"B{i}" });
            if (i < 3) { await ws.Full.PostJsonAsync($"/api/leads/{lead.Id()}/tags", new { name = "spam" }); spam.Add(lead); }
        }
        await ws.Full.PutJsonAsync($"/api/leads/{spam[0].Id()}/status", new { status = "closed" }); // already closed: no event

        var started = await StartAsync(ws, new { filter = new { tag = "spam" }, action = "set_status", status = "closed" });
        started["matched"]!.GetValue<long>().ShouldBe(3);
        started.Id().ShouldStartWith("blk_");
        var late = await ws.CreateLeadAsync(new { email = "late@x.io" });
        await ws.Full.PostJsonAsync($"/api/leads/{late.Id()}/tags", new { name = "spam" });

        var done = await RunAsync(ws, started);
        done["status"]!.GetValue<string>().ShouldBe("completed");
        done["action"]!.GetValue<string>().ShouldBe("set_status");
        (done["matched"]!.GetValue<long>(), done["processed"]!.GetValue<long>(), done["changed"]!.GetValue<long>(), done["failed"]!.GetValue<long>())
            .ShouldBe((3L, 3L, 2L, 0L));
        done["finishedAt"].ShouldNotBeNull();

        (await ws.Read.GetObjectAsync("/api/leads?tag=spam&status=closed"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(3);
        (await ws.Read.GetObjectAsync($"/api/leads/{late.Id()}"))["status"]!.GetValue<string>().ShouldBe("new");
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["byStatus"]!["closed"]!.GetValue<long>().ShouldBe(3);

        var events = (await EventsAsync(ws, "status_changed")).Where(e => e.Data.Contains("bulkId")).ToList();
        events.Select(e => e.LeadId).Order().ShouldBe(new[] { spam[1].Uuid(), spam[2].Uuid() }.Order());
        var key = await KeyActorAsync(ws);
        foreach (var e in events)
        {
            var data = JsonNode.Parse(e.Data)!;
            JsonNode.DeepEquals(data, JsonNode.Parse($$"""{"from":"new","to":"closed","bulkId":"{{started.Id()}}"}""")).ShouldBeTrue(e.Data);
            e.ActorId.ShouldBe(key);
        }
        // The timeline shows it like the single write's event, with the key as actor.
        var timeline = await ws.Read.GetObjectAsync($"/api/leads/{spam[1].Id()}/events");
        var ev = timeline["data"]!.AsArray().First(x => x!["type"]!.GetValue<string>() == "status_changed")!;
        ev["data"]!["bulkId"]!.GetValue<string>().ShouldBe(started.Id());
        ev["actor"]!["type"]!.GetValue<string>().ShouldBe("api_key");
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.selections WHERE selection_id = @Id", new { Id = BulkUuid(started) })).ShouldBe(0);
    }

    [Fact]
    public async Task Assign_unassign_add_tag_remove_tag_and_delete_on_every_lead()
    {
        var ws = await api.CreateWorkspaceAsync();
        for (var i = 0; i < 4; i++) await ws.CreateLeadAsync(new { email = $"a{i}@x.io" });
        var user = await (await ws.Full.PostJsonAsync("/api/users", new { name = "Jane", email = "jane@x.io", role = "member" })).BodyAsync();

        var assigned = await RunAsync(ws, await StartAsync(ws, new { all = true, action = "assign", userId = user.Id() }));
        assigned["changed"]!.GetValue<long>().ShouldBe(4);
        (await ws.Read.GetObjectAsync($"/api/leads?assignedTo={user.Id()}"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(4);
        (await EventsAsync(ws, "assigned")).Count.ShouldBe(4);

        var tagged = await RunAsync(ws, await StartAsync(ws, new { all = true, action = "add_tag", tag = " Hot " }));
        tagged["changed"]!.GetValue<long>().ShouldBe(4);
        (await ws.Read.GetObjectAsync("/api/leads?tag=hot"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(4);
        var added = await EventsAsync(ws, "tag_added");
        added.Count.ShouldBe(4);
        JsonNode.Parse(added[0].Data)!["name"]!.GetValue<string>().ShouldBe("Hot");
        // Again: every lead already carries it, nothing changes.
        (await RunAsync(ws, await StartAsync(ws, new { all = true, action = "add_tag", tag = "hot" })))["changed"]!.GetValue<long>().ShouldBe(0);

        var untagged = await RunAsync(ws, await StartAsync(ws, new { filter = new { tag = "hot" }, action = "remove_tag", tag = "HOT" }));
        untagged["changed"]!.GetValue<long>().ShouldBe(4);
        (await EventsAsync(ws, "tag_removed")).Count.ShouldBe(4);

        var unassigned = await RunAsync(ws, await StartAsync(ws, new { filter = new { assignedTo = user.Id() }, action = "unassign" }));
        unassigned["changed"]!.GetValue<long>().ShouldBe(4);
        (await ws.Read.GetObjectAsync("/api/leads?assignedTo=unassigned"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(4);

        var deleted = await RunAsync(ws, await StartAsync(ws, new { filter = new { search = "a1@" }, action = "delete" }));
        (deleted["matched"]!.GetValue<long>(), deleted["changed"]!.GetValue<long>()).ShouldBe((1L, 1L));
        (await ws.Read.GetObjectAsync("/api/leads"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(3);

        var list = await ws.Read.GetObjectAsync("/api/leads/bulk?limit=2");
        list["pagination"]!["total"]!.GetValue<long>().ShouldBe(6);
        list["data"]![0]!["action"]!.GetValue<string>().ShouldBe("delete");
    }

    [Fact]
    public async Task A_crash_mid_action_resumes_after_the_last_committed_chunk_and_changes_no_lead_twice()
    {
        var ws = await api.CreateWorkspaceAsync();
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("""
                INSERT INTO leads.leads (id, workspace_id, email, channel, created_actor_type)
                SELECT leads.uuid_v7(), @Ws, 'c' || i || '@x.io', 'api', 'api_key' FROM generate_series(1, 2500) i
                """, new { Ws = ws.Id });
        var started = await StartAsync(ws, new { all = true, action = "set_status", status = "contacted" });
        started["matched"]!.GetValue<long>().ShouldBe(2500);

        // One stream: the sequential job of before (several streams: BulkStreamsTests).
        var chunk = api.Services.GetRequiredService<BulkSettings>().ChunkSize;
        var job = ActivatorUtilities.CreateInstance<BulkActionJob>(api.Services, new BulkSettings(chunk, 1, Streams: 1, BackendNice: 0));
        job.AfterChunk = (processed, _) => processed == 2000 ? throw new IOException("simulated crash") : Task.CompletedTask;
        await Should.ThrowAsync<IOException>(() => job.RunAsync(BulkUuid(started), CancellationToken.None));
        var mid = await ws.Read.GetObjectAsync(started["statusUrl"]!.GetValue<string>());
        (mid["status"]!.GetValue<string>(), mid["processed"]!.GetValue<long>()).ShouldBe(("queued", 2000L - chunk));

        var done = await RunAsync(ws, started);
        (done["status"]!.GetValue<string>(), done["processed"]!.GetValue<long>(), done["changed"]!.GetValue<long>()).ShouldBe(("completed", 2500L, 2500L));
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Ws AND status = 'contacted'", new { Ws = ws.Id })).ShouldBe(2500);
        (await api.ScalarAsync<long>("""
            SELECT count(*) FROM (SELECT lead_id FROM leads.events WHERE workspace_id = @Ws AND type = 'status_changed'
                                  GROUP BY lead_id HAVING count(*) = 1) x
            """, new { Ws = ws.Id })).ShouldBe(2500);
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.events WHERE workspace_id = @Ws AND type = 'status_changed'", new { Ws = ws.Id })).ShouldBe(2500);
        // A spare run (Hangfire delivers at least once) finds it completed and changes nothing.
        await Job().RunAsync(BulkUuid(started), CancellationToken.None);
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.events WHERE workspace_id = @Ws AND type = 'status_changed'", new { Ws = ws.Id })).ShouldBe(2500);
    }

    [Fact]
    public async Task Dry_run_counts_and_stores_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        for (var i = 0; i < 3; i++) await ws.CreateLeadAsync(new { email = $"d{i}@x.io" });
        var r = await ws.Full.PostJsonAsync("/api/leads/bulk", new { filter = new { status = "new" }, action = "delete", dryRun = true });
        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await r.BodyAsync();
        JsonNode.DeepEquals(body, JsonNode.Parse("""{"id":null,"status":"dry_run","matched":3,"statusUrl":null}""")).ShouldBeTrue(body.ToJsonString());
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.bulk_actions WHERE workspace_id = @Ws", new { Ws = ws.Id })).ShouldBe(0);
        (await ws.Read.GetObjectAsync("/api/leads"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(3);
    }

    public static readonly TheoryData<string, string> Invalid = new()
    {
        { """{"action":"set_status","status":"closed"}""", "all" },
        { """{"filter":{},"action":"set_status","status":"closed"}""", "all" },
        { """{"filter":{"status":"new"},"all":true,"action":"delete"}""", "all" },
        { """{"all":true,"action":"explode"}""", "action" },
        { """{"all":true}""", "action" },
        { """{"all":true,"action":"set_status"}""", "status" },
        { """{"all":true,"action":"set_status","status":"open"}""", "status" },
        { """{"all":true,"action":"delete","status":"closed"}""", "status" },
        { """{"all":true,"action":"assign"}""", "userId" },
        { """{"all":true,"action":"assign","userId":"lead_01m8brdj0efn9aftk3j67h2v9c"}""", "userId" },
        { """{"all":true,"action":"assign","userId":"usr_01m8brdj0efn9aftk3j67h2v9c"}""", "userId" },
        { """{"all":true,"action":"add_tag"}""", "tag" },
        { """{"all":true,"action":"add_tag","tag":"   "}""", "tag" },
        { """{"all":true,"action":"unassign","tag":"x"}""", "tag" },
        { """{"filter":{"status":"open"},"action":"delete"}""", "filter.status" },
        { """{"filter":{"updatedSince":"soon"},"action":"delete"}""", "filter.updatedSince" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task Invalid_requests_are_400_naming_the_field_and_store_nothing(string body, string field)
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { email = "v@x.io" });
        var r = await ws.Full.PostAsync("/api/leads/bulk", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var p = await r.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]![field].ShouldNotBeNull(p.ToJsonString());
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.bulk_actions WHERE workspace_id = @Ws", new { Ws = ws.Id })).ShouldBe(0);
    }

    [Fact]
    public async Task Another_workspaces_bulk_action_is_not_found_and_the_idempotency_key_replays_the_first_answer()
    {
        var ws = await api.CreateWorkspaceAsync();
        var other = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { email = "i@x.io" });
        var req = () =>
        {
            var m = new HttpRequestMessage(HttpMethod.Post, "/api/leads/bulk") { Content = Http.Json(new { all = true, action = "set_status", status = "qualified" }) };
            m.Headers.Add("Idempotency-Key", "bulk-once");
            return m;
        };
        var first = await (await ws.Full.SendAsync(req())).BodyAsync();
        var again = await ws.Full.SendAsync(req());
        again.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await again.BodyAsync()).Id().ShouldBe(first.Id());
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.bulk_actions WHERE workspace_id = @Ws", new { Ws = ws.Id })).ShouldBe(1);

        await (await other.Read.GetAsync($"/api/leads/bulk/{first.Id()}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "bulk_action_not_found");
        await (await ws.Read.GetAsync("/api/leads/bulk/blk_nonsense")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "bulk_action_not_found");
        (await other.Read.GetObjectAsync("/api/leads/bulk"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(0);
        await (await ws.Read.PostJsonAsync("/api/leads/bulk", new { all = true, action = "delete" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
    }
}
