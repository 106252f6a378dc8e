using System.Net;
using Kernel.Ids;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Tags;

public sealed class DetachTagTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Detach_answers_204_removes_the_link_keeps_the_tag_and_records_a_tag_removed_event()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        var tagId = await ws.TagAsync(lead, "Hot-Lead");
        await ws.TagAsync(lead, "keep");

        var r = await ws.Full.DeleteAsync($"/api/leads/{lead}/tags/{tagId}");

        r.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await r.Content.ReadAsStringAsync()).ShouldBeEmpty();
        (await api.ScalarAsync<int>("SELECT count(*)::int FROM tags.lead_tags WHERE tag_id = @T", new { T = TagsTestKit.Uuid(tagId) })).ShouldBe(0);
        (await api.TagRowsAsync(ws.Id)).ShouldBe(2);
        (await ws.LeadTagNamesAsync(lead)).ShouldBe(["keep"]);

        var keyId = await api.ScalarAsync<Guid>("SELECT id FROM access.api_keys WHERE prefix = @P", new { P = ws.FullKey[..12] });
        var events = await api.TagEventsAsync(lead);
        events.Select(e => e.Type).ShouldBe(["tag_added", "tag_added", "tag_removed"]);
        events[^1].ShouldBe(new TagEvent("tag_removed", tagId, "Hot-Lead", "api_key", TypeId.Format("key", keyId), 2));
    }

    [Fact]
    public async Task A_second_detach_is_404_tag_not_found()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        var tagId = await ws.TagAsync(lead, "vip");
        (await ws.Full.DeleteAsync($"/api/leads/{lead}/tags/{tagId}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        await (await ws.Full.DeleteAsync($"/api/leads/{lead}/tags/{tagId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "tag_not_found");

        (await api.TagEventsAsync(lead)).Count(e => e.Type == "tag_removed").ShouldBe(1);
    }

    [Fact]
    public async Task A_tag_the_lead_does_not_carry_is_404_tag_not_found()
    {
        var ws = await api.CreateWorkspaceAsync();
        var (a, b) = (await ws.CreateLeadAsync(), await ws.CreateLeadAsync());
        var tagId = await ws.TagAsync(a, "vip");

        await (await ws.Full.DeleteAsync($"/api/leads/{b}/tags/{tagId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "tag_not_found");

        (await api.LinkRowsAsync(ws.Id)).ShouldBe(1);
        (await api.TagEventsAsync(b)).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("tag_01m8brdj0efn9aftk3j67h2v9c")]
    [InlineData("lead_01m8brdj0efn9aftk3j67h2v9c")]
    [InlineData("tag_not-a-typeid")]
    [InlineData("42")]
    public async Task An_unknown_or_malformed_tag_id_is_404_tag_not_found(string tagId)
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        await ws.TagAsync(lead, "vip");
        await (await ws.Full.DeleteAsync($"/api/leads/{lead}/tags/{tagId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "tag_not_found");
        (await api.LinkRowsAsync(ws.Id)).ShouldBe(1);
    }

    [Fact]
    public async Task The_tag_may_be_named_by_its_bare_uuid()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        var tagId = await ws.TagAsync(lead, "vip");
        (await ws.Full.DeleteAsync($"/api/leads/{lead}/tags/{TagsTestKit.Uuid(tagId)}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await api.TagEventsAsync(lead))[^1].TagId.ShouldBe(tagId);
    }

    [Fact]
    public async Task An_unknown_lead_is_404_lead_not_found_whatever_the_tag_id()
    {
        var ws = await api.CreateWorkspaceAsync();
        var tagId = await ws.TagAsync(await ws.CreateLeadAsync(), "vip");
        await (await ws.Full.DeleteAsync($"/api/leads/lead_01m8brdj0efn9aftk3j67h2v9c/tags/{tagId}"))
            .ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        await (await ws.Full.DeleteAsync("/api/leads/lead_01m8brdj0efn9aftk3j67h2v9c/tags/garbage"))
            .ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        (await api.LinkRowsAsync(ws.Id)).ShouldBe(1);
    }

    [Fact]
    public async Task Another_workspaces_lead_or_tag_is_404_and_nothing_changes()
    {
        var (ws, other) = (await api.CreateWorkspaceAsync(), await api.CreateWorkspaceAsync());
        var lead = await ws.CreateLeadAsync();
        var ownTag = await ws.TagAsync(lead, "vip");
        var foreignLead = await other.CreateLeadAsync();
        var foreignTag = await other.TagAsync(foreignLead, "vip");

        await (await ws.Full.DeleteAsync($"/api/leads/{foreignLead}/tags/{foreignTag}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        await (await ws.Full.DeleteAsync($"/api/leads/{foreignLead}/tags/{ownTag}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        await (await ws.Full.DeleteAsync($"/api/leads/{lead}/tags/{foreignTag}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "tag_not_found");

        (await api.LinkRowsAsync(ws.Id)).ShouldBe(1);
        (await api.LinkRowsAsync(other.Id)).ShouldBe(1);
        (await api.TagEventsAsync(lead)).Count.ShouldBe(1);
        (await api.TagEventsAsync(foreignLead)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_read_key_gets_403_and_the_link_stays()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        var tagId = await ws.TagAsync(lead, "vip");
        await (await ws.Read.DeleteAsync($"/api/leads/{lead}/tags/{tagId}")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        (await api.LinkRowsAsync(ws.Id)).ShouldBe(1);
        (await api.TagEventsAsync(lead)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task Deleting_a_lead_removes_its_links_but_not_the_tag()
    {
        var ws = await api.CreateWorkspaceAsync();
        var (a, b) = (await ws.CreateLeadAsync(), await ws.CreateLeadAsync());
        var tagId = await ws.TagAsync(a, "vip");
        await ws.TagAsync(b, "vip");

        // The delete-lead endpoint belongs to the Leads module; what it leaves of the Tags module's rows is under test.
        (await ws.Full.DeleteAsync($"/api/leads/{a}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        (await api.ScalarAsync<Guid>("SELECT lead_id FROM tags.lead_tags WHERE tag_id = @T", new { T = TagsTestKit.Uuid(tagId) }))
            .ShouldBe(TagsTestKit.Uuid(b));
        (await api.TagRowsAsync(ws.Id)).ShouldBe(1);
        await (await ws.Full.DeleteAsync($"/api/leads/{a}/tags/{tagId}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
    }
}
