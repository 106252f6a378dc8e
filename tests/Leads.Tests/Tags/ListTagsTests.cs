using System.Net;
using System.Text.Json.Nodes;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Tags;

public sealed class ListTagsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static async Task<JsonArray> ListAsync(HttpClient c, string query = "")
    {
        var r = await c.GetAsync("/api/tags" + query);
        r.StatusCode.ShouldBe(HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
        var body = (await r.BodyAsync()).AsObject();
        body.Select(p => p.Key).ShouldBe(["data"]);
        return body["data"]!.AsArray();
    }

    [Fact]
    public async Task Lists_the_workspaces_tags_by_name_case_insensitively_with_lead_counts()
    {
        var (ws, other) = (await api.CreateWorkspaceAsync(), await api.CreateWorkspaceAsync());
        var (a, b, c) = (await ws.CreateLeadAsync(), await ws.CreateLeadAsync(), await ws.CreateLeadAsync());
        await ws.TagAsync(a, "beta");
        await ws.TagAsync(b, "Beta");
        await ws.TagAsync(c, "gamma");
        await ws.TagAsync(a, "Alpha");
        var unused = await ws.TagAsync(c, "delta");
        (await ws.Full.DeleteAsync($"/api/leads/{c}/tags/{unused}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await other.TagAsync(await other.CreateLeadAsync(), "aardvark");

        var data = await ListAsync(ws.Read);

        data.Select(t => t!["name"]!.GetValue<string>()).ShouldBe(["Alpha", "beta", "delta", "gamma"]);
        data.Select(t => t!["leadCount"]!.GetValue<long>()).ShouldBe([1L, 2L, 0L, 1L]);
        var first = data[0]!.AsObject();
        first.Select(p => p.Key).ShouldBe(["id", "name", "leadCount", "createdAt"]);
        first["id"]!.GetValue<string>().ShouldStartWith("tag_");
        first["createdAt"]!.GetValue<string>().ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");
        var stored = await api.ScalarAsync<DateTime>("SELECT created_at FROM tags.tags WHERE id = @Id",
            new { Id = TagsTestKit.Uuid(first["id"]!.GetValue<string>()) });
        DateTime.Parse(first["createdAt"]!.GetValue<string>(), null, System.Globalization.DateTimeStyles.AdjustToUniversal)
            .ShouldBe(stored, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task An_empty_workspace_lists_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        (await ListAsync(ws.Read)).ShouldBeEmpty();
    }

    [Fact]
    public async Task Search_is_a_case_insensitive_prefix_taken_literally()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync();
        foreach (var name in new[] { "Hot-Lead", "hotel", "shot", "50%_off", "50 off", "a_b", "axb" }) await ws.TagAsync(lead, name);

        async Task<string[]> Names(string q) => (await ListAsync(ws.Read, q)).Select(t => t!["name"]!.GetValue<string>()).ToArray();

        (await Names("?search=HOT")).ShouldBe(["Hot-Lead", "hotel"]);
        (await Names("?search=%20hot%20")).ShouldBe(["Hot-Lead", "hotel"]);
        (await Names("?search=50%25")).ShouldBe(["50%_off"]);
        (await Names("?search=a_")).ShouldBe(["a_b"]);
        (await Names("?search=zzz")).ShouldBeEmpty();
        (await Names("?search=")).Length.ShouldBe(7);
        // Invalid UTF-8 in the query string decodes to U+FFFD, which no tag starts with: no error.
        (await Names("?search=%ED%A0%80")).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_search_with_control_characters_is_400_naming_search()
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Read.GetAsync("/api/tags?search=a%00b")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]!["search"].ShouldNotBeNull();
    }

    [Fact]
    public async Task Counts_follow_leads_being_deleted()
    {
        var ws = await api.CreateWorkspaceAsync();
        var (a, b) = (await ws.CreateLeadAsync(), await ws.CreateLeadAsync());
        await ws.TagAsync(a, "vip");
        await ws.TagAsync(b, "vip");
        (await ListAsync(ws.Read))[0]!["leadCount"]!.GetValue<long>().ShouldBe(2);

        (await ws.Full.DeleteAsync($"/api/leads/{a}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        (await ListAsync(ws.Read))[0]!["leadCount"]!.GetValue<long>().ShouldBe(1);
    }

    [Fact]
    public async Task Needs_an_api_key()
    {
        await (await api.Client().GetAsync("/api/tags")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "missing_api_key");
    }
}
