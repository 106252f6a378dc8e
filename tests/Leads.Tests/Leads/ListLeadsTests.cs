using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Leads;

public sealed class ListLeadsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static async Task SetCreatedAsync(ApiFactory api, JsonNode lead, string utc)
    {
        await using var db = await api.OpenDbAsync();
        await db.ExecuteAsync("UPDATE leads.leads SET created_at = @At::timestamptz WHERE id = @Id", new { At = utc, Id = lead.Uuid() });
    }

    [Fact]
    public async Task Newest_first_with_exact_pagination_and_the_published_item_shape()
    {
        var ws = await api.CreateWorkspaceAsync();
        var created = new List<JsonObject>();
        for (var i = 0; i < 7; i++) created.Add(await ws.CreateLeadAsync(new { firstName = $"P{i}", email = $"p{i}@acme.io" }));

        var page1 = await ws.Read.GetObjectAsync("/api/leads?limit=3");
        page1.Ids().ShouldBe(created.AsEnumerable().Reverse().Take(3).Select(c => c.Id()));
        var cursor = page1["pagination"]!["nextCursor"]!.GetValue<string>();
        JsonNode.DeepEquals(page1["pagination"], JsonNode.Parse($$"""{"page":1,"limit":3,"total":7,"pages":3,"nextCursor":"{{cursor}}"}""")).ShouldBeTrue();
        var page3 = await ws.Read.GetObjectAsync("/api/leads?limit=3&page=3");
        page3.Ids().ShouldBe([created[0].Id()]);
        var beyond = await ws.Read.GetObjectAsync("/api/leads?limit=3&page=9");
        beyond["data"]!.AsArray().Count.ShouldBe(0);
        beyond["pagination"]!["total"]!.GetValue<long>().ShouldBe(7);

        var item = page1["data"]![0]!.AsObject();
        var c = created[6];
        var expected = JsonNode.Parse($$"""
            {"id":"{{c.Id()}}","firstName":"P6","lastName":null,"email":"p6@acme.io","phone":null,"company":null,"status":"new",
             "score":{{c["score"]}},"source":null,"assignedTo":null,"isDuplicate":false,"createdAt":"{{c["createdAt"]}}"}
            """);
        JsonNode.DeepEquals(item, expected).ShouldBeTrue(item.ToJsonString());
        (await ws.Read.GetObjectAsync("/api/leads"))["pagination"]!["limit"]!.GetValue<int>().ShouldBe(20);
    }

    [Theory]
    [InlineData("limit=101", "limit")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=abc", "limit")]
    [InlineData("page=0", "page")]
    [InlineData("page=-1", "page")]
    [InlineData("page=1e9", "page")]
    [InlineData("status=open", "status")]
    [InlineData("sourceId=xyz", "sourceId")]
    [InlineData("assignedTo=lead_01m8brdj0efn9aftk3j67h2v9c", "assignedTo")]
    [InlineData("duplicates=maybe", "duplicates")]
    [InlineData("startDate=yesterday", "startDate")]
    [InlineData("endDate=2026-13-01", "endDate")]
    [InlineData("startDate=2026-03-02&endDate=2026-03-01", "endDate")]
    [InlineData("tag=", "tag")]
    public async Task Invalid_parameters_are_400_naming_them(string query, string field)
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Read.GetAsync($"/api/leads?{query}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]![field].ShouldNotBeNull(p.ToJsonString());
    }

    [Fact]
    public async Task Search_over_every_field_the_full_name_and_phone_digits_case_insensitively()
    {
        var ws = await api.CreateWorkspaceAsync();
        var jane = await ws.CreateLeadAsync(new { firstName = "Jane", lastName = "Smith", email = "jane@acme.com", phone = "+1 (415) 555-2671", company = "Initech" });
        var other = await ws.CreateLeadAsync(new { firstName = "Bob", lastName = "Stone", email = "bob@globex.com", company = "Globex 50%_off" });
        // Digits in an email address: a substring of the email as typed, but not a phone match for a formatted number.
        var carl = await ws.CreateLeadAsync(new { firstName = "Carl", email = "carl.4155552671@example.com", phone = "+1 212 555 0100" });
        async Task<string[]> Search(string q) => (await ws.Read.GetObjectAsync($"/api/leads?search={Uri.EscapeDataString(q)}")).Ids();

        (await Search("jan")).ShouldBe([jane.Id()]);
        (await Search("SMITH")).ShouldBe([jane.Id()]);
        (await Search("Jane Smith")).ShouldBe([jane.Id()]);
        (await Search("ACME.com")).ShouldBe([jane.Id()]);
        (await Search("initech")).ShouldBe([jane.Id()]);
        (await Search("4155552671")).ShouldBe([carl.Id(), jane.Id()]);
        (await Search("(415) 555-2671")).ShouldBe([jane.Id()]);
        (await Search("555 2671")).ShouldBe([jane.Id()]);
        (await Search("+1 (415) 555-2671")).ShouldBe([jane.Id()]);
        // LIKE metacharacters are literals.
        (await Search("50%_")).ShouldBe([other.Id()]);
        (await Search("%")).ShouldBe([other.Id()]);
        (await Search("_")).ShouldBe([other.Id()]);
        (await Search("nobody")).ShouldBeEmpty();
        // No matching across field boundaries.
        (await Search("smith jane")).ShouldBeEmpty();
        (await ws.Read.GetObjectAsync("/api/leads?search=jane"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(1);
    }

    [Fact]
    public async Task Date_edges_are_inclusive_and_a_date_only_end_covers_the_whole_day()
    {
        var ws = await api.CreateWorkspaceAsync();
        var a = await ws.CreateLeadAsync(new { firstName = "A" });
        var b = await ws.CreateLeadAsync(new { firstName = "B" });
        var c = await ws.CreateLeadAsync(new { firstName = "C" });
        await SetCreatedAsync(api, a, "2026-03-01T00:00:00Z");
        await SetCreatedAsync(api, b, "2026-03-01T23:59:59.999Z");
        await SetCreatedAsync(api, c, "2026-03-02T00:00:00Z");
        async Task<string[]> Q(string q) => (await ws.Read.GetObjectAsync($"/api/leads?{q}")).Ids();

        (await Q("startDate=2026-03-01&endDate=2026-03-01")).ShouldBe([b.Id(), a.Id()]);
        (await Q("startDate=2026-03-02")).ShouldBe([c.Id()]);
        (await Q("endDate=2026-03-01T23:59:59.999Z")).ShouldBe([b.Id(), a.Id()]);
        (await Q("endDate=2026-03-01T23:59:59.998Z")).ShouldBe([a.Id()]);
        (await Q("startDate=2026-03-01T23:59:59.999Z")).ShouldBe([c.Id(), b.Id()]);
        (await Q("startDate=2026-03-01T01:00:00%2B01:00&endDate=2026-03-01T00:00:00Z")).ShouldBe([a.Id()]);
        (await ws.Read.GetObjectAsync("/api/leads?endDate=2026-03-01"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(2);
    }

    [Fact]
    public async Task Each_filter_alone_and_combined_with_exact_totals()
    {
        var ws = await api.CreateWorkspaceAsync();
        var member = (await (await ws.Full.PostJsonAsync("/api/users", new { name = "Chidi", email = "chidi@x.io", role = "member" })).BodyAsync())!;
        var l1 = await ws.CreateLeadAsync(new { firstName = "One", email = "one@acme.io" });
        var l2 = await ws.CreateLeadAsync(new { firstName = "Two", email = "two@acme.io" });
        var l3 = await ws.CreateLeadAsync(new { firstName = "Three", email = "three@globex.io" });
        (await ws.Full.PutJsonAsync($"/api/leads/{l1.Id()}/status", new { status = "qualified" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PutJsonAsync($"/api/leads/{l3.Id()}/status", new { status = "qualified" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PutJsonAsync($"/api/leads/{l1.Id()}/assign", new { userId = member.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PutJsonAsync($"/api/leads/{l2.Id()}/assign", new { userId = member.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);

        // "id,id|total": arrays compare by value this way.
        async Task<string> Q(string q)
        {
            var p = await ws.Read.GetObjectAsync($"/api/leads?{q}");
            return string.Join(",", p.Ids()) + "|" + p["pagination"]!["total"]!.GetValue<long>();
        }
        static string E(string[] ids, long total) => string.Join(",", ids) + "|" + total;
        (await Q("status=qualified")).ShouldBe(E([l3.Id(), l1.Id()], 2));
        (await Q("status=new")).ShouldBe(E([l2.Id()], 1));
        (await Q($"assignedTo={member.Id()}")).ShouldBe(E([l2.Id(), l1.Id()], 2));
        (await Q("assignedTo=unassigned")).ShouldBe(E([l3.Id()], 1));
        (await Q($"status=qualified&assignedTo={member.Id()}")).ShouldBe(E([l1.Id()], 1));
        (await Q("status=qualified&assignedTo=unassigned&search=globex")).ShouldBe(E([l3.Id()], 1));
        (await Q("status=qualified&search=acme")).ShouldBe(E([l1.Id()], 1));
        (await Q("duplicates=only")).ShouldBe(E([], 0));
        (await Q("duplicates=exclude")).ShouldEndWith("|3");
        (await Q("sourceId=src_01m8brdj0efn9aftk3j67h2v9c")).ShouldBe(E([], 0));
        (await Q("tag=unknown-tag")).ShouldBe(E([], 0));
        (await Q("assignedTo=usr_01m8brdj0efn9aftk3j67h2v9c")).ShouldBe(E([], 0));
        (await Q("status=converted")).ShouldBe(E([], 0));
    }

    [Fact]
    public async Task Tag_filter_accepts_an_id_or_a_name()
    {
        var ws = await api.CreateWorkspaceAsync();
        var tagged = await ws.CreateLeadAsync(new { firstName = "T" });
        await ws.CreateLeadAsync(new { firstName = "U" });
        var tagId = Guid.CreateVersion7();
        await using (var db = await api.OpenDbAsync())
        {
            await db.ExecuteAsync("INSERT INTO tags.tags (id, workspace_id, name) VALUES (@Id, @Ws, 'Hot-Lead')", new { Id = tagId, Ws = ws.Id });
            await db.ExecuteAsync("INSERT INTO tags.lead_tags (lead_id, tag_id, workspace_id) VALUES (@L, @T, @Ws)", new { L = tagged.Uuid(), T = tagId, Ws = ws.Id });
        }
        (await ws.Read.GetObjectAsync("/api/leads?tag=hot-lead")).Ids().ShouldBe([tagged.Id()]);
        (await ws.Read.GetObjectAsync($"/api/leads?tag={Kernel.Ids.TypeId.Format("tag", tagId)}")).Ids().ShouldBe([tagged.Id()]);
        var detail = await ws.Read.GetObjectAsync($"/api/leads/{tagged.Id()}");
        JsonNode.DeepEquals(detail["tags"], JsonNode.Parse($$"""[{"id":"{{Kernel.Ids.TypeId.Format("tag", tagId)}}","name":"Hot-Lead"}]""")).ShouldBeTrue();
    }

    [Fact]
    public async Task Another_workspace_sees_none_of_my_leads()
    {
        var mine = await api.CreateWorkspaceAsync();
        var theirs = await api.CreateWorkspaceAsync();
        await mine.CreateLeadAsync(new { firstName = "Mine", email = "mine@acme.io" });
        var page = await theirs.Read.GetObjectAsync("/api/leads?search=mine");
        page["pagination"]!["total"]!.GetValue<long>().ShouldBe(0);
        (await theirs.Read.GetObjectAsync("/api/leads"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(0);
    }
}
