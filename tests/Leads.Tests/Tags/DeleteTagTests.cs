using System.Net;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Tags;

public sealed class DeleteTagTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Delete_removes_the_tag_from_every_lead_with_a_tag_removed_event_each()
    {
        var ws = await api.CreateWorkspaceAsync();
        var leads = new[] { await ws.CreateLeadAsync(), await ws.CreateLeadAsync(), await ws.CreateLeadAsync() };
        string tagId = "";
        foreach (var l in leads) tagId = await ws.TagAsync(l, "Webinar");
        await ws.TagAsync(leads[0], "keep");
        var untouched = await ws.CreateLeadAsync();

        var r = await ws.Full.DeleteAsync($"/api/tags/{tagId}");

        r.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await api.ScalarAsync<int>("SELECT count(*)::int FROM tags.tags WHERE id = @T", new { T = TagsTestKit.Uuid(tagId) })).ShouldBe(0);
        (await api.LinkRowsAsync(ws.Id)).ShouldBe(1);
        foreach (var l in leads)
        {
            var last = (await api.TagEventsAsync(l)).Last();
            last.Type.ShouldBe("tag_removed");
            last.TagId.ShouldBe(tagId);
            last.Name.ShouldBe("Webinar");
            last.ActorType.ShouldBe("api_key");
            (await ws.LeadTagNamesAsync(l)).ShouldNotContain("Webinar");
        }
        (await ws.LeadTagNamesAsync(leads[0])).ShouldBe(["keep"]);
        (await api.TagEventsAsync(untouched)).ShouldBeEmpty();
        (await (await ws.Read.GetAsync("/api/tags")).Content.ReadAsStringAsync()).ShouldNotContain("Webinar");
        await (await ws.Full.DeleteAsync($"/api/tags/{tagId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "tag_not_found");
    }

    [Fact]
    public async Task The_name_can_be_used_again_afterwards_as_a_new_tag()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        var old = await ws.TagAsync(lead, "vip");
        (await ws.Full.DeleteAsync($"/api/tags/{old}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var r = await ws.Full.AttachAsync(lead, "VIP");

        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await r.BodyAsync();
        body["id"]!.GetValue<string>().ShouldNotBe(old);
        body["name"]!.GetValue<string>().ShouldBe("VIP");
    }

    [Fact]
    public async Task An_unused_tag_is_deleted_without_events()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        var tagId = await ws.TagAsync(lead, "vip");
        (await ws.Full.DeleteAsync($"/api/leads/{lead}/tags/{tagId}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        (await ws.Full.DeleteAsync($"/api/tags/{TagsTestKit.Uuid(tagId)}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        (await api.TagRowsAsync(ws.Id)).ShouldBe(0);
        (await api.TagEventsAsync(lead)).Count.ShouldBe(2);
    }

    [Theory]
    [InlineData("tag_01m8brdj0efn9aftk3j67h2v9c")]
    [InlineData("lead_01m8brdj0efn9aftk3j67h2v9c")]
    [InlineData("garbage")]
    public async Task An_unknown_or_malformed_id_is_404(string id)
    {
        var ws = await api.CreateWorkspaceAsync();
        await (await ws.Full.DeleteAsync($"/api/tags/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "tag_not_found");
    }

    [Fact]
    public async Task Another_workspaces_tag_is_404_and_stays()
    {
        var (ws, other) = (await api.CreateWorkspaceAsync(), await api.CreateWorkspaceAsync());
        var foreignLead = await other.CreateLeadAsync();
        var foreignTag = await other.TagAsync(foreignLead, "vip");

        await (await ws.Full.DeleteAsync($"/api/tags/{foreignTag}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "tag_not_found");

        (await api.TagRowsAsync(other.Id)).ShouldBe(1);
        (await api.LinkRowsAsync(other.Id)).ShouldBe(1);
        (await api.TagEventsAsync(foreignLead)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_read_key_gets_403_and_nothing_changes()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        var tagId = await ws.TagAsync(lead, "vip");
        await (await ws.Read.DeleteAsync($"/api/tags/{tagId}")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        (await api.TagRowsAsync(ws.Id)).ShouldBe(1);
        (await api.LinkRowsAsync(ws.Id)).ShouldBe(1);
    }

    [Fact]
    public async Task Deleting_a_tag_carried_by_thousands_of_leads_removes_it_from_each_with_one_event_each()
    {
        var ws = await api.CreateWorkspaceAsync();
        var first = await ws.CreateLeadAsync();
        var tagId = await ws.TagAsync(first, "bulk");
        var tag = TagsTestKit.Uuid(tagId);
        await using var db = await api.OpenDbAsync();
        await db.ExecuteAsync("""
            WITH l AS (
                INSERT INTO leads.leads (id, workspace_id, first_name, channel, created_actor_type, updated_at)
                SELECT gen_random_uuid(), @Ws, 'Bulk' || i, 'import', 'import', now() - interval '1 day' FROM generate_series(1, 3000) AS i
                RETURNING id
            )
            INSERT INTO tags.lead_tags (lead_id, tag_id, workspace_id) SELECT id, @Tag, @Ws FROM l
            """, new { Ws = ws.Id, Tag = tag });

        (await ws.Full.DeleteAsync($"/api/tags/{tagId}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        (await api.ScalarAsync<long>("SELECT count(*) FROM tags.lead_tags WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(0);
        // Every one of the 3,001 leads: exactly one tag_removed event naming the tag, by the API key, and touched.
        var perLead = (await db.QueryAsync<(Guid Lead, long Removed, bool Touched)>("""
            SELECT l.id, count(e.id), l.updated_at > now() - interval '1 hour'
            FROM leads.leads l
            LEFT JOIN leads.events e ON e.lead_id = l.id AND e.type = 'tag_removed' AND e.data->>'tagId' = @TagId
                                     AND e.data->>'name' = 'bulk' AND e.actor_type = 'api_key'
            WHERE l.workspace_id = @Ws
            GROUP BY l.id, l.updated_at
            """, new { Ws = ws.Id, TagId = tagId })).ToList();
        perLead.Count.ShouldBe(3001);
        perLead.ShouldAllBe(x => x.Removed == 1 && x.Touched);
    }

    [Fact]
    public async Task An_attach_whose_tag_is_deleted_under_it_starts_over_and_creates_the_tag_afresh()
    {
        var ws = await api.CreateWorkspaceAsync();
        var (a, b) = (await ws.CreateLeadAsync(), await ws.CreateLeadAsync());
        var old = TagsTestKit.Uuid(await ws.TagAsync(a, "vip"));

        // Play the part of a tag delete: hold the tag row, let the attach find the tag and block on linking it,
        // then delete the tag and commit.
        await using var db = await api.OpenDbAsync();
        await using var tx = await db.BeginTransactionAsync();
        await db.ExecuteAsync("SELECT 1 FROM tags.tags WHERE id = @old FOR UPDATE", new { old }, tx);
        var attach = ws.Full.AttachAsync(b, "VIP");
        await WaitUntilBlockedAsync("INSERT INTO tags.lead_tags", attach);
        await db.ExecuteAsync("DELETE FROM tags.tags WHERE id = @old", new { old }, tx);
        await tx.CommitAsync();

        var r = await attach;
        r.StatusCode.ShouldBe(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        var body = await r.BodyAsync();
        TagsTestKit.Uuid(body["id"]!.GetValue<string>()).ShouldNotBe(old);
        body["name"]!.GetValue<string>().ShouldBe("VIP");
        (await ws.LeadTagNamesAsync(b)).ShouldBe(["VIP"]);
        (await api.TagEventsAsync(b)).ShouldHaveSingleItem().TagId.ShouldBe(body["id"]!.GetValue<string>());
    }

    private async Task WaitUntilBlockedAsync(string statement, Task request)
    {
        for (var i = 0; i < 200 && !request.IsCompleted; i++)
        {
            var waiting = await api.ScalarAsync<int>("""
                SELECT count(*)::int FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%' || @statement || '%'
                """, new { statement });
            if (waiting > 0) return;
            await Task.Delay(50);
        }
        throw new TimeoutException($"No request blocked on '{statement}'; the request {(request.IsCompleted ? "already finished" : "never got there")}.");
    }

    [Fact]
    public async Task Deleting_while_others_attach_the_same_name_never_fails_and_keeps_the_timeline_true()
    {
        var ws = await api.CreateWorkspaceAsync();
        var tagged = new List<string>();
        var attaching = new List<string>();
        for (var i = 0; i < 8; i++) tagged.Add(await ws.CreateLeadAsync());
        for (var i = 0; i < 12; i++) attaching.Add(await ws.CreateLeadAsync());
        string tagId = "";
        foreach (var l in tagged) tagId = await ws.TagAsync(l, "race");
        var client = ws.Full;

        var calls = attaching.Select(l => client.AttachAsync(l, "race"))
            .Append(client.DeleteAsync($"/api/tags/{tagId}"))
            .Concat(tagged.Take(4).Select(l => client.AttachAsync(l, "RACE")));
        var responses = await Task.WhenAll(calls);

        foreach (var r in responses)
            ((int)r.StatusCode).ShouldBeOneOf([200, 201, 204], await r.Content.ReadAsStringAsync());
        (await api.ScalarAsync<int>("SELECT count(*)::int FROM tags.tags WHERE workspace_id = @Id", new { ws.Id })).ShouldBeLessThanOrEqualTo(1);
        // Whatever the interleaving, each lead's timeline adds up to whether it carries the tag now.
        foreach (var l in tagged.Concat(attaching))
        {
            var events = await api.TagEventsAsync(l);
            var carries = await api.ScalarAsync<int>("SELECT count(*)::int FROM tags.lead_tags WHERE lead_id = @L", new { L = TagsTestKit.Uuid(l) });
            (events.Count(e => e.Type == "tag_added") - events.Count(e => e.Type == "tag_removed")).ShouldBe(carries, l);
        }
        // The tag that was deleted is gone for good, with or without a successor of the same name.
        (await api.ScalarAsync<int>("SELECT count(*)::int FROM tags.tags WHERE id = @T", new { T = TagsTestKit.Uuid(tagId) })).ShouldBe(0);
    }
}
