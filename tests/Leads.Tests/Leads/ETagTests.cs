using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Leads;

/// <summary>Spec §9: every lead read and write carries the lead's ETag; a stale If-Match is a 412 that changes nothing.</summary>
public sealed class ETagTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static HttpRequestMessage Request(HttpMethod method, string url, string? json, string? ifMatch)
    {
        var m = new HttpRequestMessage(method, url);
        if (json is not null) m.Content = new StringContent(json, Encoding.UTF8, "application/json");
        if (ifMatch is not null) m.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return m;
    }

    private static async Task<string> ETagAsync(TestWorkspace ws, JsonNode lead)
    {
        var r = await ws.Read.GetAsync($"/api/leads/{lead.Id()}");
        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        return r.Headers.ETag!.Tag;
    }

    /// <summary>Each kind of write on a lead, as (method, path under the lead, body); all answer 2xx when applied.</summary>
    private static IEnumerable<(HttpMethod Method, string Path, string? Body)> Writes(string userId, string tagId, string otherLead) =>
    [
        (HttpMethod.Patch, "", """{"company":"Patched"}"""),
        (HttpMethod.Put, "/status", """{"status":"contacted"}"""),
        (HttpMethod.Put, "/notes", """{"notes":"called"}"""),
        (HttpMethod.Put, "/assign", $$"""{"userId":"{{userId}}"}"""),
        (HttpMethod.Post, "/tags", """{"name":"vip"}"""),
        (HttpMethod.Delete, $"/tags/{tagId}", null),
        (HttpMethod.Post, "/merge", $$"""{"duplicateId":"{{otherLead}}"}"""),
    ];

    [Fact]
    public async Task Every_write_changes_the_version_answers_it_and_refuses_a_stale_one_with_412_changing_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Versioned", email = "v@acme.io" });
        var user = await (await ws.Full.PostJsonAsync("/api/users", new { name = "Chidi", email = "c@x.io", role = "member" })).BodyAsync();
        var other = await ws.CreateLeadAsync(new { firstName = "Absorbed" });
        var tag = await (await ws.Full.PostJsonAsync($"/api/leads/{lead.Id()}/tags", new { name = "seed" })).BodyAsync();

        var seen = new HashSet<string>();
        foreach (var (method, path, body) in Writes(user.Id(), tag.Id(), other.Id()))
        {
            var url = $"/api/leads/{lead.Id()}{path}";
            var current = await ETagAsync(ws, lead);
            seen.Add(current).ShouldBeTrue($"{method} {path}: the version before it was seen already");
            await using (var db = await api.OpenDbAsync())
            {
                var rowBefore = await db.QuerySingleAsync<string>("SELECT row_to_json(l)::text FROM leads.leads l WHERE id = @Id", new { Id = lead.Uuid() });
                var eventsBefore = await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.events WHERE lead_id = @Id", new { Id = lead.Uuid() });

                var stale = await ws.Full.SendAsync(Request(method, url, body, "\"1\""));
                (await stale.ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed")).ShouldNotBeNull();
                stale.Headers.ETag!.Tag.ShouldBe(current, $"{method} {path}");
                (await db.QuerySingleAsync<string>("SELECT row_to_json(l)::text FROM leads.leads l WHERE id = @Id", new { Id = lead.Uuid() }))
                    .ShouldBe(rowBefore, $"{method} {path}");
                (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.events WHERE lead_id = @Id", new { Id = lead.Uuid() }))
                    .ShouldBe(eventsBefore, $"{method} {path}");
            }

            var ok = await ws.Full.SendAsync(Request(method, url, body, $"W/\"x\", {current}"));
            ((int)ok.StatusCode).ShouldBeInRange(200, 204, $"{method} {path}: {await ok.Content.ReadAsStringAsync()}");
            var after = await ETagAsync(ws, lead);
            after.ShouldNotBe(current, $"{method} {path} did not change the version");
            if (ok.StatusCode != HttpStatusCode.NoContent || path.StartsWith("/tags"))
                ok.Headers.ETag!.Tag.ShouldBe(after, $"{method} {path} answered another version than it left");
        }

        // DELETE takes If-Match too.
        var etag = await ETagAsync(ws, lead);
        await (await ws.Full.SendAsync(Request(HttpMethod.Delete, $"/api/leads/{lead.Id()}", null, "\"1\""))).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed");
        (await ws.Full.SendAsync(Request(HttpMethod.Delete, $"/api/leads/{lead.Id()}", null, etag))).StatusCode.ShouldBe(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Without_If_Match_the_last_write_wins_and_star_matches_any_version()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "A" });
        (await ws.Full.SendAsync(Request(HttpMethod.Patch, $"/api/leads/{lead.Id()}", """{"firstName":"B"}""", null))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.SendAsync(Request(HttpMethod.Patch, $"/api/leads/{lead.Id()}", """{"firstName":"C"}""", "*"))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}"))["firstName"]!.GetValue<string>().ShouldBe("C");
    }

    [Fact]
    public async Task Created_lead_carries_the_ETag_a_read_then_shows()
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await ws.Full.PostJsonAsync("/api/leads", new { firstName = "New" });
        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        r.Headers.ETag!.Tag.ShouldBe(await ETagAsync(ws, await r.BodyAsync()));
        r.Headers.ETag.Tag.ShouldMatch("^\"[0-9]+\"$");
    }

    [Fact]
    public async Task Two_clients_patching_the_same_version_at_once_get_exactly_one_200_and_one_412()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Contested" });
        for (var round = 0; round < 5; round++)
        {
            var etag = await ETagAsync(ws, lead);
            using var a = api.Client(ws.FullKey);
            using var b = api.Client(ws.FullKey);
            var start = new TaskCompletionSource();
            var ta = Task.Run(async () => { await start.Task; return await a.SendAsync(Request(HttpMethod.Patch, $"/api/leads/{lead.Id()}", $$"""{"lastName":"A{{round}}"}""", etag)); });
            var tb = Task.Run(async () => { await start.Task; return await b.SendAsync(Request(HttpMethod.Patch, $"/api/leads/{lead.Id()}", $$"""{"lastName":"B{{round}}"}""", etag)); });
            start.SetResult();
            var results = await Task.WhenAll(ta, tb);
            results.Select(r => (int)r.StatusCode).Order().ToArray().ShouldBe([200, 412], $"round {round}");
            var winner = results.Single(r => r.StatusCode == HttpStatusCode.OK);
            var loser = results.Single(r => r.StatusCode == HttpStatusCode.PreconditionFailed);
            loser.Headers.ETag!.Tag.ShouldBe(winner.Headers.ETag!.Tag);
            var stored = (await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}"))["lastName"]!.GetValue<string>();
            stored.ShouldBe((await winner.BodyAsync())["lastName"]!.GetValue<string>());
            await using var db = await api.OpenDbAsync();
            (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.events WHERE lead_id = @Id AND type = 'lead_updated'", new { Id = lead.Uuid() }))
                .ShouldBe(round + 1);
        }
    }
}
