using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Duplicates;

/// <summary>
/// Concurrent merges and deletes, each raced 50 times. Whatever the interleaving: no 500, no deadlock
/// error, exactly one winner where the operations exclude each other, and the invariants hold — nothing
/// merged is still live, tombstones point at live leads, groups stay acyclic, and no note, tag or event is lost.
/// </summary>
public sealed class MergeRaceTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const int Rounds = 50;

    private static async Task<JsonObject> RichLeadAsync(TestWorkspace ws, string name, int round)
    {
        var lead = await ws.CreateLeadAsync(new { firstName = name, email = $"{name.ToLowerInvariant()}{round}@race.io", notes = $"note-{name}-{round}" });
        (await ws.Full.PostJsonAsync($"/api/leads/{lead.Id()}/tags", new { name = $"tag-{name}" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        return lead;
    }

    /// <summary>The timeline events (ID → type) and tag names of the given leads.</summary>
    private static async Task<(Dictionary<Guid, string> Events, string[] Tags)> ContentAsync(ApiFactory api, params JsonNode[] leads)
    {
        await using var db = await api.OpenDbAsync();
        var ids = leads.Select(l => l.Uuid()).ToArray();
        var events = await Invariants.TimelineEventsAsync(api, ids);
        var tags = (await db.QueryAsync<string>("SELECT DISTINCT t.name FROM tags.lead_tags lt JOIN tags.tags t ON t.id = lt.tag_id WHERE lt.lead_id = ANY(@Ids) ORDER BY 1", new { Ids = ids })).ToArray();
        return (events, tags);
    }

    private static async Task<string> NotesAsync(ApiFactory api, JsonNode lead)
    {
        await using var db = await api.OpenDbAsync();
        return await db.ExecuteScalarAsync<string?>("SELECT notes FROM leads.leads WHERE id = @Id", new { Id = lead.Uuid() }) ?? "";
    }

    private static async Task<bool> LiveAsync(ApiFactory api, JsonNode lead)
    {
        await using var db = await api.OpenDbAsync();
        return await db.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM leads.leads WHERE id = @Id)", new { Id = lead.Uuid() });
    }

    [Fact]
    public async Task A_into_B_racing_B_into_A_has_one_winner_and_loses_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        for (var round = 0; round < Rounds; round++)
        {
            var a = await RichLeadAsync(ws, "A", round);
            var b = await RichLeadAsync(ws, "B", round);
            var before = await ContentAsync(api, a, b);
            var results = await Task.WhenAll(
                ws.Full.PostJsonAsync($"/api/leads/{a.Id()}/merge", new { duplicateId = b.Id() }),
                ws.Full.PostJsonAsync($"/api/leads/{b.Id()}/merge", new { duplicateId = a.Id() }));
            var codes = results.Select(r => (int)r.StatusCode).OrderBy(c => c).ToArray();
            codes[0].ShouldBe(200, $"round {round}: {await results[0].Content.ReadAsStringAsync()} {await results[1].Content.ReadAsStringAsync()}");
            codes[1].ShouldBeOneOf(404, 409); // 409 when it raced; 404 lead_merged when it started after the winner committed
            foreach (var r in results.Where(r => !r.IsSuccessStatusCode))
                (await r.BodyAsync())["code"]!.GetValue<string>().ShouldBeOneOf("merge_conflict", "lead_merged");

            var (aLive, bLive) = (await LiveAsync(api, a), await LiveAsync(api, b));
            (aLive ^ bLive).ShouldBeTrue($"round {round}: exactly one survives");
            var survivor = aLive ? a : b;
            var notes = await NotesAsync(api, survivor);
            notes.ShouldContain($"note-A-{round}");
            notes.ShouldContain($"note-B-{round}");
            var after = await ContentAsync(api, survivor);
            after.Tags.ShouldBe(before.Tags);
            // Every event of both is on the survivor's timeline, plus what the merge itself wrote.
            before.Events.Keys.Where(id => !after.Events.ContainsKey(id)).ShouldBeEmpty($"round {round}: events lost");
            var added = after.Events.Where(e => !before.Events.ContainsKey(e.Key)).Select(e => e.Value).ToArray();
            added.Count(t => t == "merged").ShouldBe(1, $"round {round}");
            added.ShouldAllBe(t => t == "merged" || t == "score_changed", $"round {round}");
        }
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task Merge_racing_delete_has_one_winner_and_never_resurrects()
    {
        var ws = await api.CreateWorkspaceAsync();
        for (var round = 0; round < Rounds; round++)
        {
            var a = await RichLeadAsync(ws, "A", round);
            var b = await RichLeadAsync(ws, "B", round);
            // Alternate which lead the delete targets: the duplicate, or the survivor.
            var victim = round % 2 == 0 ? b : a;
            var before = await ContentAsync(api, a, b);
            var results = await Task.WhenAll(
                ws.Full.PostJsonAsync($"/api/leads/{a.Id()}/merge", new { duplicateId = b.Id() }),
                ws.Full.DeleteAsync($"/api/leads/{victim.Id()}"));
            var (merge, delete) = (results[0], results[1]);
            ((int)merge.StatusCode).ShouldBeOneOf(200, 404, 409);
            ((int)delete.StatusCode).ShouldBeOneOf(204, 404, 409);
            var (aLive, bLive) = (await LiveAsync(api, a), await LiveAsync(api, b));
            var context = $"round {round}: merge {(int)merge.StatusCode}, delete {(int)delete.StatusCode}, a live {aLive}, b live {bLive}";
            if (victim == b)
            {
                // Deleting the duplicate and merging it exclude each other: exactly one wins; b is gone either way.
                (merge.IsSuccessStatusCode ^ delete.IsSuccessStatusCode).ShouldBeTrue(context);
                bLive.ShouldBeFalse(context);
                aLive.ShouldBeTrue(context);
                if (merge.IsSuccessStatusCode)
                {
                    (await NotesAsync(api, a)).ShouldContain($"note-B-{round}");
                    var after = await ContentAsync(api, a);
                    before.Events.Keys.Where(id => !after.Events.ContainsKey(id)).ShouldBeEmpty(context);
                }
            }
            else
            {
                // Deleting the survivor: either the delete came first (the merge loses, b stays) or the merge did
                // (a absorbed b, then a was deleted — both succeed and both are gone). Never a resurrected lead.
                delete.IsSuccessStatusCode.ShouldBeTrue(context);
                aLive.ShouldBeFalse(context);
                bLive.ShouldBe(!merge.IsSuccessStatusCode, context);
                // A deleted survivor takes the events of the lead merged into it: none of either lead's events remain.
                if (!bLive)
                {
                    await using var db = await api.OpenDbAsync();
                    (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.events WHERE lead_id = ANY(@Ids)", new { Ids = new[] { a.Uuid(), b.Uuid() } }))
                        .ShouldBe(0, context);
                }
            }
        }
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task A_into_B_racing_B_into_C_ends_consistent()
    {
        var ws = await api.CreateWorkspaceAsync();
        for (var round = 0; round < Rounds; round++)
        {
            var a = await RichLeadAsync(ws, "A", round);
            var b = await RichLeadAsync(ws, "B", round);
            var c = await RichLeadAsync(ws, "C", round);
            var before = await ContentAsync(api, a, b, c);
            var results = await Task.WhenAll(
                ws.Full.PostJsonAsync($"/api/leads/{a.Id()}/merge", new { duplicateId = b.Id() }),
                ws.Full.PostJsonAsync($"/api/leads/{b.Id()}/merge", new { duplicateId = c.Id() }));
            var (ab, bc) = (results[0], results[1]);
            ab.StatusCode.ShouldBe(HttpStatusCode.OK, $"round {round}: {await ab.Content.ReadAsStringAsync()}");
            ((int)bc.StatusCode).ShouldBeOneOf(200, 404, 409);

            (await LiveAsync(api, a)).ShouldBeTrue();
            (await LiveAsync(api, b)).ShouldBeFalse();
            var notes = await NotesAsync(api, a);
            notes.ShouldContain($"note-A-{round}");
            notes.ShouldContain($"note-B-{round}");
            if (bc.IsSuccessStatusCode)
            {
                // B absorbed C first, then A absorbed B: A holds everything, and C's tombstone follows to A.
                (await LiveAsync(api, c)).ShouldBeFalse();
                notes.ShouldContain($"note-C-{round}");
                var after = await ContentAsync(api, a);
                after.Tags.ShouldBe(before.Tags);
                // C's events, folded into B and then with B into A, are on A's timeline with everyone else's.
                before.Events.Keys.Where(id => !after.Events.ContainsKey(id)).ShouldBeEmpty($"round {round}: events lost");
                (await (await ws.Read.GetAsync($"/api/leads/{c.Id()}")).BodyAsync())["mergedIntoId"]!.GetValue<string>().ShouldBe(a.Id());
            }
            else
            {
                (await LiveAsync(api, c)).ShouldBeTrue();
                (await NotesAsync(api, c)).ShouldBe($"note-C-{round}");
                var after = await ContentAsync(api, a, c);
                before.Events.Keys.Where(id => !after.Events.ContainsKey(id)).ShouldBeEmpty($"round {round}: events lost");
            }
        }
        await Invariants.AssertAsync(api, ws);
    }
}
