using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Kernel.Ids;
using Leads.Tests.Infrastructure;
using Npgsql;

namespace Leads.Tests.Duplicates;

/// <summary>
/// A merge moves no event row: the duplicate's events stay keyed by it and join the survivor's timeline through
/// the tombstone. These check what a client sees (order, paging, totals, <c>eventsMoved</c>) and that deletes and
/// the database keep events tied to live leads.
/// </summary>
public sealed class MergedTimelineTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static async Task MergeAsync(TestWorkspace ws, JsonNode survivor, JsonNode duplicate)
    {
        var r = await ws.Full.PostJsonAsync($"/api/leads/{survivor.Id()}/merge", new { duplicateId = duplicate.Id() });
        r.StatusCode.ShouldBe(HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
    }

    private static Task StatusAsync(TestWorkspace ws, JsonNode lead, string status) =>
        ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/status", new { status });

    private static Task NotesAsync(TestWorkspace ws, JsonNode lead, string notes) =>
        ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/notes", new { notes });

    /// <summary>The whole timeline, newest first, read with a page size of 100.</summary>
    private static async Task<JsonObject[]> TimelineAsync(TestWorkspace ws, JsonNode lead) =>
        (await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}/events?limit=100"))["data"]!.AsArray().Select(e => e!.AsObject()).ToArray();

    private static int EventsMoved(JsonObject[] timeline, JsonNode duplicate) =>
        timeline.Single(e => e["type"]!.GetValue<string>() == "merged" && e["data"]!["duplicateId"]!.GetValue<string>() == duplicate.Id())
            ["data"]!["eventsMoved"]!.GetValue<int>();

    private static string[] Ids(IEnumerable<JsonObject> events) => events.Select(e => e.Id()).ToArray();

    [Fact]
    public async Task Survivor_timeline_interleaves_the_duplicates_events_in_time_order_and_pages_over_all_of_them()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.CreateLeadAsync(new { firstName = "Sam" });
        var d = await ws.CreateLeadAsync(new { lastName = "Dee" });
        // Alternate writes so the two leads' events interleave in time.
        foreach (var (status, notes) in new[] { ("contacted", "one"), ("qualified", "two"), ("converted", "three") })
        {
            await StatusAsync(ws, s, status);
            await StatusAsync(ws, d, status);
            await NotesAsync(ws, s, notes);
            await NotesAsync(ws, d, notes);
        }
        var sBefore = await TimelineAsync(ws, s);
        var dBefore = await TimelineAsync(ws, d);
        var dRows = dBefore.Where(e => e["type"]!.GetValue<string>() != "created").ToArray(); // `created` is synthesised from d's row
        dRows.Length.ShouldBeGreaterThanOrEqualTo(6);

        await MergeAsync(ws, s, d);

        var all = await TimelineAsync(ws, s);
        // Exactly: the survivor's own entries, the duplicate's event rows, and what the merge wrote.
        var added = all.Where(e => !Ids(sBefore).Contains(e.Id()) && !Ids(dRows).Contains(e.Id())).ToArray();
        added.Select(e => e["type"]!.GetValue<string>()).Order().ShouldBe(["merged", "score_changed"]); // the score gains the last name
        all.Length.ShouldBe(sBefore.Length + dRows.Length + added.Length);
        Ids(all).Order().ShouldBe(Ids(sBefore).Concat(Ids(dRows)).Concat(Ids(added)).Order());
        // Newest first across both leads (ties broken by ID, newest first), `created` still the oldest entry. The API shows
        // milliseconds while events are ordered by their stored microseconds (clock_timestamp()), so two events of one
        // millisecond are checked by their stored times, not by their IDs.
        var keys = all.Select(e => (At: DateTime.Parse(e["createdAt"]!.GetValue<string>()), Id: e.Uuid(IdPrefix.Event))).ToArray();
        keys.Select(k => k.At).ShouldBe(keys.Select(k => k.At).OrderDescending());
        await using (var db = await api.OpenDbAsync())
        {
            var stored = (await db.QueryAsync<(Guid Id, DateTime At)>("SELECT id, created_at FROM leads.events WHERE id = ANY(@Ids)",
                new { Ids = keys.Select(k => k.Id).ToArray() })).ToDictionary(r => r.Id, r => r.At);
            var rows = keys.Where(k => stored.ContainsKey(k.Id)).Select(k => (At: stored[k.Id], k.Id)).ToArray();
            rows.Length.ShouldBe(keys.Length - 1); // every entry but the synthesised `created`
            rows.ShouldBe(rows.OrderByDescending(k => k.At).ThenByDescending(k => k.Id.ToString()).ToArray());
        }
        all[^1]["type"]!.GetValue<string>().ShouldBe("created");
        all[^1].Id().ShouldBe($"evt_{s.Id()[5..]}");
        // The interleaving survived: the survivor's and the duplicate's events alternate somewhere in the middle.
        var origin = all.Select(e => Ids(dRows).Contains(e.Id()) ? 'd' : 's').ToArray();
        new string(origin).ShouldContain("sdsd");
        EventsMoved(all, d).ShouldBe(dRows.Length);

        // Paging: every page size walks the same sequence once, with the right totals.
        foreach (var limit in new[] { 1, 4, 7 })
        {
            var walked = new List<string>();
            var pages = (all.Length + limit - 1) / limit;
            for (var page = 1; page <= pages + 1; page++)
            {
                var body = await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}/events?limit={limit}&page={page}");
                body["pagination"]!["total"]!.GetValue<long>().ShouldBe(all.Length);
                body["pagination"]!["pages"]!.GetValue<long>().ShouldBe(pages);
                var data = body["data"]!.AsArray();
                data.Count.ShouldBe(page <= pages ? Math.Min(limit, all.Length - (page - 1) * limit) : 0, $"limit {limit} page {page}");
                walked.AddRange(data.Select(e => e!.Id()));
            }
            walked.ToArray().ShouldBe(Ids(all), $"limit {limit}");
        }
    }

    [Fact]
    public async Task Merge_chains_keep_every_event_and_count_what_each_merge_brought()
    {
        var ws = await api.CreateWorkspaceAsync();
        var a = await ws.CreateLeadAsync(new { firstName = "A" });
        var b = await ws.CreateLeadAsync(new { firstName = "B" });
        var c = await ws.CreateLeadAsync(new { firstName = "C" });
        var x = await ws.CreateLeadAsync(new { firstName = "X" });
        foreach (var (lead, n) in new[] { (a, 1), (b, 2), (c, 3), (x, 1) })
            for (var i = 0; i < n; i++) await NotesAsync(ws, lead, $"{lead["firstName"]} {i}");
        var rows = new Dictionary<string, string[]>();
        foreach (var lead in new[] { a, b, c, x })
            rows[lead.Id()] = Ids((await TimelineAsync(ws, lead)).Where(e => e["type"]!.GetValue<string>() != "created"));
        rows[c.Id()].Length.ShouldBe(3);

        // A ← B ← C: C into B, then B (carrying C's events) into A.
        await MergeAsync(ws, b, c);
        var bTimeline = await TimelineAsync(ws, b);
        EventsMoved(bTimeline, c).ShouldBe(3);
        var bRowsNow = Ids(bTimeline.Where(e => e["type"]!.GetValue<string>() != "created"));
        rows[b.Id()].Concat(rows[c.Id()]).ShouldBeSubsetOf(bRowsNow);
        bRowsNow.ShouldBeUnique();
        await MergeAsync(ws, a, b);
        var aTimeline = await TimelineAsync(ws, a);
        EventsMoved(aTimeline, b).ShouldBe(bRowsNow.Length); // B's own, C's and what the first merge wrote on B
        rows[a.Id()].Concat(bRowsNow).ShouldBeSubsetOf(Ids(aTimeline));
        Ids(aTimeline).ShouldBeUnique();

        // Then A itself into X: B's and C's tombstones were re-pointed at A, and now at X, so X shows everything.
        await MergeAsync(ws, x, a);
        var xTimeline = await TimelineAsync(ws, x);
        var aRowsNow = Ids(aTimeline.Where(e => e["type"]!.GetValue<string>() != "created"));
        EventsMoved(xTimeline, a).ShouldBe(aRowsNow.Length);
        rows[x.Id()].Concat(aRowsNow).ShouldBeSubsetOf(Ids(xTimeline));
        Ids(xTimeline).ShouldBeUnique();
        var total = (await ws.Read.GetObjectAsync($"/api/leads/{x.Id()}/events?limit=1"))["pagination"]!["total"]!.GetValue<long>();
        total.ShouldBe(xTimeline.Length);
        foreach (var gone in new[] { a, b, c })
            (await (await ws.Read.GetAsync($"/api/leads/{gone.Id()}/events")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_merged"))
                ["mergedIntoId"]!.GetValue<string>().ShouldBe(x.Id());
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task Deleting_a_survivor_deletes_the_events_of_every_lead_merged_into_it()
    {
        var ws = await api.CreateWorkspaceAsync();
        var a = await ws.CreateLeadAsync(new { firstName = "A" });
        var b = await ws.CreateLeadAsync(new { firstName = "B" });
        var c = await ws.CreateLeadAsync(new { firstName = "C" });
        var bystander = await ws.CreateLeadAsync(new { firstName = "Other" });
        foreach (var lead in new[] { a, b, c, bystander }) await StatusAsync(ws, lead, "contacted");
        await MergeAsync(ws, b, c);
        await MergeAsync(ws, a, b);
        var ids = new[] { a.Uuid(), b.Uuid(), c.Uuid() };
        await using var db = await api.OpenDbAsync();
        const string CountSql = "SELECT count(*) FROM leads.events WHERE lead_id = ANY(@Ids)";
        (await db.ExecuteScalarAsync<long>(CountSql, new { Ids = ids })).ShouldBeGreaterThan(3);
        var bystanderEvents = await db.ExecuteScalarAsync<long>(CountSql, new { Ids = new[] { bystander.Uuid() } });
        bystanderEvents.ShouldBeGreaterThan(0);

        (await ws.Full.DeleteAsync($"/api/leads/{a.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        (await db.ExecuteScalarAsync<long>(CountSql, new { Ids = ids })).ShouldBe(0);
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.merged_leads WHERE id = ANY(@Ids) OR merged_into = ANY(@Ids)", new { Ids = ids }))
            .ShouldBe(0);
        (await db.ExecuteScalarAsync<long>(CountSql, new { Ids = new[] { bystander.Uuid() } })).ShouldBe(bystanderEvents);
        foreach (var gone in new[] { a, b, c })
            await (await ws.Read.GetAsync($"/api/leads/{gone.Id()}/events")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task The_database_refuses_events_for_leads_that_are_not_live_and_never_moves_one()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.CreateLeadAsync(new { firstName = "S" });
        var d = await ws.CreateLeadAsync(new { firstName = "D" });
        await StatusAsync(ws, d, "contacted");
        await MergeAsync(ws, s, d);
        await using var db = await api.OpenDbAsync();
        const string InsertSql = """
            INSERT INTO leads.events (id, workspace_id, lead_id, type, actor_type)
            SELECT gen_random_uuid(), @Ws, unnest(@Leads), 'notes_updated', 'system'
            """;
        foreach (var leads in new[] { new[] { d.Uuid() }, new[] { Guid.NewGuid() }, new[] { s.Uuid(), d.Uuid() } })
        {
            var e = await Should.ThrowAsync<PostgresException>(() => db.ExecuteAsync(InsertSql, new { Ws = ws.Id, Leads = leads }));
            e.SqlState.ShouldBe(PostgresErrorCodes.ForeignKeyViolation);
        }
        (await db.ExecuteAsync(InsertSql, new { Ws = ws.Id, Leads = new[] { s.Uuid() } })).ShouldBe(1); // a live lead is fine
        var moved = await Should.ThrowAsync<PostgresException>(() =>
            db.ExecuteAsync("UPDATE leads.events SET lead_id = @S WHERE lead_id = @D", new { S = s.Uuid(), D = d.Uuid() }));
        moved.SqlState.ShouldBe(PostgresErrorCodes.ForeignKeyViolation);
        await Invariants.AssertAsync(api, ws);
    }
}
