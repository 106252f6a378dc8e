using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Kernel.Ids;
using Leads.Tests.Import;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Modules.Import.Jobs;
using Modules.Webhooks.Public;
using Npgsql;

namespace Leads.Tests.Webhooks;

/// <summary>Spec §13: GET /api/events — every change as an event, in commit order, exactly once, per workspace.</summary>
public sealed class ChangeFeedTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static string Type(JsonObject e) => e["type"]!.GetValue<string>();
    private static string? Lead(JsonObject e) => e["leadId"]?.GetValue<string>();

    [Fact]
    public async Task Every_kind_of_change_appears_in_the_feed_with_its_payload_in_commit_order()
    {
        var ws = await api.CreateWorkspaceAsync();
        var a = await ws.CreateLeadAsync(new { email = "a@feed.io", firstName = "A" });
        var b = await ws.CreateLeadAsync(new { email = "b@other.io", phone = "+14155550100" });
        var user = await (await ws.Full.PostJsonAsync("/api/users", new { name = "M", email = "m@feed.io", role = "member" })).BodyAsync();
        (await ws.Full.PutJsonAsync($"/api/leads/{a.Id()}/status", new { status = "contacted" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PutJsonAsync($"/api/leads/{a.Id()}/notes", new { notes = "called" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PutJsonAsync($"/api/leads/{a.Id()}/assign", new { userId = user.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        var tag = await (await ws.Full.PostJsonAsync($"/api/leads/{a.Id()}/tags", new { name = "vip" })).BodyAsync();
        (await ws.Full.DeleteAsync($"/api/leads/{a.Id()}/tags/{tag.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await ws.Full.PostJsonAsync($"/api/leads/{a.Id()}/merge", new { duplicateId = b.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        var imported = await ws.ImportAsync("email,firstName\nimp1@feed.io,I\nimp2@feed.io,J\n");
        var export = await (await ws.Full.PostJsonAsync("/api/leads/exports", new { })).BodyAsync();
        await api.Services.GetRequiredService<ExportLeadsJob>().RunAsync(export.Uuid("exp"), CancellationToken.None);
        var bulk = await (await ws.Full.PostJsonAsync("/api/leads/bulk",
            new { filter = new { search = "imp1@feed.io" }, action = "set_status", status = "qualified" })).BodyAsync();
        await api.Services.GetRequiredService<BulkActionJob>().RunAsync(bulk.Uuid("blk"), CancellationToken.None);
        (await ws.Full.PostJsonAsync($"/api/leads/{a.Id()}/unmerge", new { mergedLeadId = b.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.DeleteAsync($"/api/leads/{a.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        await api.FeedSettledAsync(ws.Id);
        var (events, _) = await ws.Read.ReadFeedAsync(limit: 3);
        var summary = events.Select(e => $"{Type(e)}:{e["data"]!["change"]?.GetValue<string>()}").ToList();
        summary.Where(s => s.StartsWith("lead.created", StringComparison.Ordinal)).Count().ShouldBe(4);
        var aEvents = events.Where(e => Lead(e) == a.Id()).Select(e => $"{Type(e)}:{e["data"]!["change"]?.GetValue<string>()}").ToList();
        // A status change or a merge also rescored the lead: its score_changed is a lead.updated of its own.
        aEvents.ShouldContain("lead.updated:score_changed");
        aEvents.Where(e => e != "lead.updated:score_changed").ShouldBe([
            "lead.created:", "lead.updated:status_changed", "lead.updated:notes_updated", "lead.updated:assigned",
            "lead.updated:tag_added", "lead.updated:tag_removed", "lead.merged:merged", "lead.unmerged:unmerged", "lead.deleted:",
        ]);
        // The merged-away lead was created, absorbed (the survivor's lead.merged), then restored: its unmerge is a
        // lead.unmerged on it, never a second lead.created.
        events.Where(e => Lead(e) == b.Id()).Select(Type).ShouldBe(["lead.created", "lead.unmerged"]);
        events.Select(Type).Distinct().Order().ShouldBe(ChangeFeed.All.Order());

        var created = events.First(e => Lead(e) == a.Id());
        created["data"]!["channel"]!.GetValue<string>().ShouldBe("api");
        created["data"]!["status"]!.GetValue<string>().ShouldBe("new");
        created["id"]!.GetValue<string>().ShouldStartWith("evt_");
        var status = events.First(e => e["data"]!["change"]?.GetValue<string>() == "status_changed");
        status["data"]!["from"]!.GetValue<string>().ShouldBe("new");
        status["data"]!["to"]!.GetValue<string>().ShouldBe("contacted");
        status["data"]!["actor"]!["type"]!.GetValue<string>().ShouldBe("api_key");
        events.Single(Type(ChangeFeed.LeadMerged))["data"]!["duplicateId"]!.GetValue<string>().ShouldBe(b.Id());
        var importDone = events.Single(Type(ChangeFeed.ImportCompleted));
        importDone["data"]!["importId"]!.GetValue<string>().ShouldBe(imported.Id());
        importDone["data"]!["created"]!.GetValue<long>().ShouldBe(2);
        importDone["leadId"].ShouldBeNull();
        events.Where(e => Type(e) == ChangeFeed.LeadCreated && e["data"]!["importId"]?.GetValue<string>() == imported.Id()).Count().ShouldBe(2);
        events.Single(Type(ChangeFeed.ExportCompleted))["data"]!["exportId"]!.GetValue<string>().ShouldBe(export.Id());
        var bulkDone = events.Single(Type(ChangeFeed.BulkCompleted));
        bulkDone["data"]!["bulkId"]!.GetValue<string>().ShouldBe(bulk.Id());
        bulkDone["data"]!["action"]!.GetValue<string>().ShouldBe("set_status");
        bulkDone["data"]!["changed"]!.GetValue<long>().ShouldBe(1);
        bulkDone["leadId"].ShouldBeNull();
        events.Count(e => Type(e) == ChangeFeed.LeadUnmerged).ShouldBe(2);
        // Commit order: the import's leads come before its completion, the export before the bulk event, the delete last.
        var order = events.Select(Type).ToList();
        order.LastIndexOf(ChangeFeed.LeadCreated).ShouldBeLessThan(order.IndexOf(ChangeFeed.ImportCompleted));
        order.IndexOf(ChangeFeed.ExportCompleted).ShouldBeLessThan(order.IndexOf(ChangeFeed.BulkCompleted));
        order[^1].ShouldBe(ChangeFeed.LeadDeleted);

        // The database holds exactly what the feed showed.
        (await api.ScalarAsync<long>("SELECT count(*) FROM webhooks.feed_events WHERE workspace_id = @W", new { W = ws.Id })).ShouldBe(events.Count);
    }

    private static Func<JsonObject, bool> Type(string type) => e => e["type"]!.GetValue<string>() == type;

    [Fact]
    public async Task Pages_follow_the_cursor_filter_by_type_and_never_repeat()
    {
        var ws = await api.CreateWorkspaceAsync();
        for (var i = 0; i < 7; i++) await ws.CreateLeadAsync(new { email = $"p{i}@feed.io" });
        await api.FeedSettledAsync(ws.Id);
        var first = await ws.Read.GetObjectAsync("/api/events?limit=3");
        first["data"]!.AsArray().Count.ShouldBe(3);
        var (rest, end) = await ws.Read.ReadFeedAsync(first["nextCursor"]!.GetValue<string>(), limit: 3);
        rest.Count.ShouldBe(4);
        first["data"]!.AsArray().Select(e => e!.Id()).Concat(rest.Select(e => e.Id())).Distinct().Count().ShouldBe(7);
        var again = await ws.Read.GetObjectAsync($"/api/events?after={end}");
        again["data"]!.AsArray().ShouldBeEmpty();
        again["nextCursor"]!.GetValue<string>().ShouldBe(end);

        var lead = await ws.CreateLeadAsync(new { email = "late@feed.io" });
        (await ws.Full.DeleteAsync($"/api/leads/{lead.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await api.FeedSettledAsync(ws.Id);
        var (deleted, _) = await ws.Read.ReadFeedAsync(end, types: "lead.deleted");
        deleted.Select(e => Lead(e)).ShouldBe([lead.Id()]);
    }

    [Theory]
    [InlineData("after=nope", "after")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("types=lead.created,lead.exploded", "types")]
    [InlineData("since=2026-01-01", "since")]
    public async Task Bad_parameters_are_a_400_naming_them(string query, string field)
    {
        var ws = await api.CreateWorkspaceAsync();
        var problem = await (await ws.Read.GetAsync($"/api/events?{query}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        problem.ToJsonString().ShouldContain(field);
    }

    [Fact]
    public async Task Another_workspace_never_sees_an_event()
    {
        var mine = await api.CreateWorkspaceAsync();
        var theirs = await api.CreateWorkspaceAsync();
        var lead = await theirs.CreateLeadAsync(new { email = "secret@theirs.io" });
        (await theirs.Full.PutJsonAsync($"/api/leads/{lead.Id()}/status", new { status = "closed" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        await mine.CreateLeadAsync(new { email = "me@mine.io" });
        await api.FeedSettledAsync(mine.Id);
        await api.FeedSettledAsync(theirs.Id);
        var (events, _) = await mine.Read.ReadFeedAsync();
        events.Count.ShouldBe(1);
        events.ShouldAllBe(e => e["leadId"]!.GetValue<string>() != lead.Id());
        (await theirs.Read.ReadFeedAsync()).Events.Where(e => e["data"]!["change"]?.GetValue<string>() != "score_changed").Select(Type)
            .ShouldBe([ChangeFeed.LeadCreated, ChangeFeed.LeadUpdated]);
    }

    /// <summary>
    /// Transactions that start in one order and commit in the reverse one, while a reader follows the cursor after
    /// every commit: an ordering by insertion alone would hand out a cursor past the early starters' events and skip
    /// them when they commit last. Every event must be seen exactly once.
    /// </summary>
    [Fact]
    public async Task A_reader_following_the_cursor_sees_every_event_exactly_once_when_transactions_commit_out_of_start_order()
    {
        var ws = await api.CreateWorkspaceAsync();
        var seen = new List<string>();
        string? cursor = null;
        async Task ReadOnAsync()
        {
            var (events, next) = await ws.Read.ReadFeedAsync(cursor, limit: 7);
            seen.AddRange(events.Select(e => e["data"]!["n"]!.GetValue<int>().ToString(System.Globalization.CultureInfo.InvariantCulture)));
            cursor = next;
        }

        var open = new List<(NpgsqlConnection Conn, NpgsqlTransaction Tx)>();
        for (var n = 0; n < 20; n++)
        {
            var conn = await api.OpenDbAsync();
            var tx = await conn.BeginTransactionAsync();
            await ChangeFeed.AppendAsync(conn, tx, ws.Id, ChangeFeed.BulkCompleted, null, new { n }, CancellationToken.None);
            open.Add((conn, tx));
        }
        await ReadOnAsync();
        seen.ShouldBeEmpty();
        // Commit newest first; one early transaction stays open longest.
        foreach (var (conn, tx) in Enumerable.Reverse(open).Where((_, i) => i != 10))
        {
            await tx.CommitAsync();
            await conn.DisposeAsync();
            await ReadOnAsync();
        }
        await open[9].Tx.CommitAsync();
        await open[9].Conn.DisposeAsync();
        await ReadOnAsync();

        // Then many writers at once, each committing after a random pause, with the reader polling throughout.
        var writers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            var rnd = new Random(w);
            for (var i = 0; i < 25; i++)
            {
                await using var conn = await api.OpenDbAsync();
                await using var tx = await conn.BeginTransactionAsync();
                await ChangeFeed.AppendAsync(conn, tx, ws.Id, ChangeFeed.BulkCompleted, null, new { n = 1000 + w * 100 + i }, CancellationToken.None);
                await Task.Delay(rnd.Next(0, 15));
                if (rnd.Next(10) == 0) { await tx.RollbackAsync(); continue; }
                await tx.CommitAsync();
            }
        })).ToList();
        while (!writers.All(t => t.IsCompleted)) await ReadOnAsync();
        await Task.WhenAll(writers);
        // The last writers' events are readable once every older transaction in the cluster has ended — another test
        // class's long transaction can still be open (it made this read miss events in a full-suite run).
        await api.FeedSettledAsync(ws.Id);
        await ReadOnAsync();

        await using var db = await api.OpenDbAsync();
        var committed = (await db.QueryAsync<string>("SELECT data->>'n' FROM webhooks.feed_events WHERE workspace_id = @W", new { W = ws.Id })).AsList();
        committed.Count.ShouldBeGreaterThan(130);
        seen.Count.ShouldBe(seen.Distinct().Count(), "an event was delivered twice");
        seen.Order().ShouldBe(committed.Order(), "an event was skipped");
    }
}
