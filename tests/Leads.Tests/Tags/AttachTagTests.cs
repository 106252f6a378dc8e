using System.Net;
using Dapper;
using Kernel.Ids;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Tags;

public sealed class AttachTagTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task First_use_creates_the_tag_attaches_it_and_records_a_tag_added_event()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();

        var r = await ws.Full.AttachAsync(lead, "Hot-Lead");

        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = (await r.BodyAsync()).AsObject();
        body.Select(p => p.Key).ShouldBe(["id", "name"]);
        var tagId = body["id"]!.GetValue<string>();
        tagId.ShouldMatch("^tag_[0-9a-hjkmnp-tv-z]{26}$");
        body["name"]!.GetValue<string>().ShouldBe("Hot-Lead");

        await using var db = await api.OpenDbAsync();
        (await db.QuerySingleAsync<(Guid, string)>("SELECT id, name FROM tags.tags WHERE workspace_id = @Id", new { ws.Id }))
            .ShouldBe((TagsTestKit.Uuid(tagId), "Hot-Lead"));
        (await db.QuerySingleAsync<(Guid, Guid)>("SELECT lead_id, workspace_id FROM tags.lead_tags WHERE tag_id = @T", new { T = TagsTestKit.Uuid(tagId) }))
            .ShouldBe((TagsTestKit.Uuid(lead), ws.Id));
        (await db.ExecuteScalarAsync<bool>("SELECT updated_at > created_at FROM leads.leads WHERE id = @L", new { L = TagsTestKit.Uuid(lead) }))
            .ShouldBeTrue("attaching a tag changes the lead, so updatedAt moves");

        var keyId = await db.ExecuteScalarAsync<Guid>("SELECT id FROM access.api_keys WHERE prefix = @P", new { P = ws.FullKey[..12] });
        var e = (await api.TagEventsAsync(lead)).ShouldHaveSingleItem();
        e.ShouldBe(new TagEvent("tag_added", tagId, "Hot-Lead", "api_key", TypeId.Format("key", keyId), 2));

        (await ws.LeadTagNamesAsync(lead)).ShouldBe(["Hot-Lead"]);
        var shown = (await (await ws.Read.GetAsync($"/api/leads/{lead}")).BodyAsync())["tags"]![0]!.AsObject();
        shown.Select(p => p.Key).ShouldBe(["id", "name"]);
        shown["id"]!.GetValue<string>().ShouldBe(tagId);
    }

    [Fact]
    public async Task The_same_name_in_another_case_answers_200_with_the_stored_name_and_changes_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        var first = await ws.Full.AttachAsync(lead, "hot-lead");
        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        var tagId = (await first.BodyAsync())["id"]!.GetValue<string>();
        var updatedAt = await api.ScalarAsync<DateTime>("SELECT updated_at FROM leads.leads WHERE id = @L", new { L = TagsTestKit.Uuid(lead) });

        var again = await ws.Full.AttachAsync(lead, "  HOT-Lead ");

        again.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await again.BodyAsync();
        body["id"]!.GetValue<string>().ShouldBe(tagId);
        body["name"]!.GetValue<string>().ShouldBe("hot-lead");
        (await api.TagRowsAsync(ws.Id)).ShouldBe(1);
        (await api.LinkRowsAsync(ws.Id)).ShouldBe(1);
        (await api.TagEventsAsync(lead)).Count.ShouldBe(1);
        (await api.ScalarAsync<DateTime>("SELECT updated_at FROM leads.leads WHERE id = @L", new { L = TagsTestKit.Uuid(lead) }))
            .ShouldBe(updatedAt);
    }

    [Fact]
    public async Task An_existing_tag_attached_to_another_lead_is_reused_and_answers_201()
    {
        var ws = await api.CreateWorkspaceAsync();
        var (a, b) = (await ws.CreateLeadAsync(), await ws.CreateLeadAsync());
        var tagId = await ws.TagAsync(a, "Enterprise");

        var r = await ws.Full.AttachAsync(b, "enterprise");

        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await r.BodyAsync();
        body["id"]!.GetValue<string>().ShouldBe(tagId);
        body["name"]!.GetValue<string>().ShouldBe("Enterprise");
        (await api.TagRowsAsync(ws.Id)).ShouldBe(1);
        (await api.LinkRowsAsync(ws.Id)).ShouldBe(2);
        (await api.TagEventsAsync(b)).ShouldHaveSingleItem().Name.ShouldBe("Enterprise");
    }

    [Fact]
    public async Task The_name_is_trimmed_and_the_lead_may_be_named_by_its_bare_uuid()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();

        var r = await ws.Full.AttachAsync(TagsTestKit.Uuid(lead).ToString(), " \t vip  \n");

        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await r.BodyAsync())["name"]!.GetValue<string>().ShouldBe("vip");
        (await api.ScalarAsync<string>("SELECT name FROM tags.tags WHERE workspace_id = @Id", new { ws.Id })).ShouldBe("vip");
    }

    [Theory]
    [InlineData(50)]
    [InlineData(1)]
    public async Task Names_of_1_to_50_characters_are_accepted(int length)
    {
        var ws = await api.CreateWorkspaceAsync();
        var name = new string('x', length);
        var r = await ws.Full.AttachAsync(await ws.CreateLeadAsync(), name);
        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await r.BodyAsync())["name"]!.GetValue<string>().ShouldBe(name);
    }

    [Fact]
    public async Task Length_counts_characters_not_utf16_units_as_the_database_does()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        var fifty = string.Concat(Enumerable.Repeat("🔥", 50));
        (await ws.Full.AttachAsync(lead, fifty)).StatusCode.ShouldBe(HttpStatusCode.Created);
        var p = await (await ws.Full.AttachAsync(lead, fifty + "🔥")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]!["name"].ShouldNotBeNull();
    }

    [Theory]
    [InlineData("""{}""")]
    [InlineData("""{"name":null}""")]
    [InlineData("""{"name":""}""")]
    [InlineData("""{"name":"   "}""")]
    [InlineData("""{"name":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}""")]
    [InlineData("""{"name":"  xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx  "}""")]
    [InlineData("""{"name":"hot\tlead"}""")]
    [InlineData("""{"name":"hot\nlead"}""")]
    [InlineData("""{"name":"hot\u0000lead"}""")]
    [InlineData("""{"name":"hot\u007flead"}""")]
    public async Task Invalid_names_are_400_naming_the_field_and_change_nothing(string json)
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        var r = await ws.Full.PostAsync($"/api/leads/{lead}/tags", Http.Json(json));
        var p = await r.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]!["name"].ShouldNotBeNull();
        (await api.TagRowsAsync(ws.Id)).ShouldBe(0);
        (await api.TagEventsAsync(lead)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Unknown_properties_are_rejected()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        var p = await (await ws.Full.PostAsync($"/api/leads/{lead}/tags", Http.Json("""{"name":"vip","color":"red"}""")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "unknown_property");
        p["errors"]!["color"].ShouldNotBeNull();
        (await api.TagRowsAsync(ws.Id)).ShouldBe(0);
    }

    [Theory]
    [InlineData("""{"name":42}""")]
    [InlineData("""{"name":"hot\ud800lead"}""")]
    public async Task A_name_of_the_wrong_json_type_or_unencodable_text_is_malformed_json(string json)
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        var p = await (await ws.Full.PostAsync($"/api/leads/{lead}/tags", Http.Json(json))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_json");
        p["errors"]!["name"].ShouldNotBeNull();
        (await api.TagRowsAsync(ws.Id)).ShouldBe(0);
    }

    [Theory]
    [InlineData("lead_01m8brdj0efn9aftk3j67h2v9c")]
    [InlineData("tag_01m8brdj0efn9aftk3j67h2v9c")]
    [InlineData("not-an-id")]
    [InlineData("0191c3a4-0000-7000-8000-000000000000")]
    public async Task An_unknown_or_malformed_lead_is_404_and_creates_no_tag(string leadId)
    {
        var ws = await api.CreateWorkspaceAsync();
        await (await ws.Full.AttachAsync(leadId, "vip")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        (await api.TagRowsAsync(ws.Id)).ShouldBe(0);
    }

    [Fact]
    public async Task Another_workspaces_lead_is_404_and_nothing_changes_in_either_workspace()
    {
        var (ws, other) = (await api.CreateWorkspaceAsync(), await api.CreateWorkspaceAsync());
        var foreignLead = await other.CreateLeadAsync();

        await (await ws.Full.AttachAsync(foreignLead, "vip")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");

        (await api.TagRowsAsync(ws.Id)).ShouldBe(0);
        (await api.TagRowsAsync(other.Id)).ShouldBe(0);
        (await api.TagEventsAsync(foreignLead)).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_merged_lead_is_404_lead_merged_with_the_survivor()
    {
        var ws = await api.CreateWorkspaceAsync();
        var survivor = await ws.CreateLeadAsync();
        var mergedId = Guid.CreateVersion7();
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("INSERT INTO leads.merged_leads (id, workspace_id, merged_into) VALUES (@Id, @Ws, @Into)",
                new { Id = mergedId, Ws = ws.Id, Into = TagsTestKit.Uuid(survivor) });

        var p = await (await ws.Full.AttachAsync(TypeId.Format("lead", mergedId), "vip")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_merged");

        p["mergedIntoId"]!.GetValue<string>().ShouldBe(survivor);
        (await api.TagRowsAsync(ws.Id)).ShouldBe(0);
    }

    [Fact]
    public async Task A_read_key_gets_403_and_nothing_changes()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        await (await ws.Read.AttachAsync(lead, "vip")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        (await api.TagRowsAsync(ws.Id)).ShouldBe(0);
        (await api.TagEventsAsync(lead)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Names_are_unique_per_workspace_not_across_workspaces()
    {
        var (a, b) = (await api.CreateWorkspaceAsync(), await api.CreateWorkspaceAsync());
        var tagA = await a.TagAsync(await a.CreateLeadAsync(), "vip");
        var r = await b.Full.AttachAsync(await b.CreateLeadAsync(), "VIP");
        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await r.BodyAsync();
        body["id"]!.GetValue<string>().ShouldNotBe(tagA);
        body["name"]!.GetValue<string>().ShouldBe("VIP");
    }

    [Fact]
    public async Task Twenty_concurrent_first_uses_of_one_name_create_one_tag_and_twenty_links()
    {
        var ws = await api.CreateWorkspaceAsync();
        var leads = new List<string>();
        for (var i = 0; i < 20; i++) leads.Add(await ws.CreateLeadAsync());
        var client = ws.Full;

        var responses = await Task.WhenAll(leads.Select((l, i) => client.AttachAsync(l, i % 2 == 0 ? "Launch-Week" : "launch-week")));

        foreach (var r in responses) r.StatusCode.ShouldBe(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        var ids = await Task.WhenAll(responses.Select(async r => (await r.BodyAsync())["id"]!.GetValue<string>()));
        ids.Distinct().ShouldHaveSingleItem();
        (await api.TagRowsAsync(ws.Id)).ShouldBe(1);
        (await api.LinkRowsAsync(ws.Id)).ShouldBe(20);
        (await api.ScalarAsync<int>("SELECT count(*)::int FROM leads.events WHERE workspace_id = @Id AND type = 'tag_added'", new { ws.Id }))
            .ShouldBe(20);
    }
}
