using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Leads;

/// <summary>Spec §11: sort orders, updatedSince/updatedBefore, keyset cursors (also under concurrent writes).</summary>
public sealed class ListSortTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    public static readonly TheoryData<string> Sorts = new()
    {
        "createdAt", "-createdAt", "updatedAt", "-updatedAt", "score", "-score", "lastName", "-lastName", "company", "-company",
    };

    /// <summary>The sort key as the database orders it (text, comparable ordinally for this ASCII data).</summary>
    private static string KeySql(string sort) => sort.TrimStart('-') switch
    {
        "createdAt" => "to_char(l.created_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS')",
        "updatedAt" => "to_char(l.updated_at AT TIME ZONE 'UTC', 'YYYYMMDDHH24MISSUS')",
        "score" => "lpad(l.score::text, 3, '0')",
        "lastName" => "lower(coalesce(l.last_name, ''))",
        _ => "lower(coalesce(l.company, ''))",
    };

    private sealed record Keyed(string Id, string Key);

    private static async Task<Dictionary<string, string>> KeysAsync(ApiFactory api, TestWorkspace ws, string sort)
    {
        await using var db = await api.OpenDbAsync();
        var rows = await db.QueryAsync<(Guid Id, string Key)>(
            $"SELECT l.id, {KeySql(sort)} FROM leads.leads l WHERE l.workspace_id = @Ws", new { Ws = ws.Id });
        return rows.ToDictionary(r => Kernel.Ids.TypeId.Format(Kernel.Ids.IdPrefix.Lead, r.Id), r => r.Key);
    }

    /// <summary>Expected order: key, then ID, both in the sort's direction (TypeIDs order like their UUIDs).</summary>
    private static string[] Ordered(Dictionary<string, string> keys, string sort)
    {
        var asc = keys.OrderBy(k => k.Value, StringComparer.Ordinal).ThenBy(k => k.Key, StringComparer.Ordinal).Select(k => k.Key);
        return (sort.StartsWith('-') ? asc.Reverse() : asc).ToArray();
    }

    /// <summary>24 leads with tied and missing names, companies, scores and update times, in mixed case.</summary>
    private async Task<TestWorkspace> SeedAsync()
    {
        var ws = await api.CreateWorkspaceAsync();
        string?[] last = ["Smith", "adams", null, "Baker", "smith", "Zed", "baker", null];
        string?[] company = ["Acme", "acme", "Globex", null, "initech", "Zeta", "globex", "beta"];
        var ids = new List<Guid>();
        for (var i = 0; i < 24; i++)
            ids.Add((await ws.CreateLeadAsync(new { firstName = $"F{i}", lastName = last[i % 8], company = company[(i * 3) % 8], email = $"s{i}@x.io" })).Uuid());
        await using var db = await api.OpenDbAsync();
        for (var i = 0; i < ids.Count; i++)
            await db.ExecuteAsync("UPDATE leads.leads SET score = @Score, updated_at = '2026-05-01T00:00:00Z'::timestamptz + @Minutes * interval '1 minute' WHERE id = @Id",
                new { Score = (short)(i % 5 * 20), Minutes = i % 6, Id = ids[i] });
        return ws;
    }

    private static async Task<List<string>> WalkAsync(TestWorkspace ws, string query, Func<Task>? between = null)
    {
        var seen = new List<string>();
        var page = await ws.Read.GetObjectAsync($"/api/leads?{query}");
        while (true)
        {
            seen.AddRange(page.Ids());
            var next = page["pagination"]!["nextCursor"]?.GetValue<string>();
            if (next is null) return seen;
            if (between is not null) await between();
            page = await ws.Read.GetObjectAsync($"/api/leads?{query}&cursor={Uri.EscapeDataString(next)}");
            page["pagination"]!["page"].ShouldBeNull();
        }
    }

    [Theory]
    [MemberData(nameof(Sorts))]
    public async Task Every_sort_orders_by_its_key_then_id_by_page_and_by_cursor_with_an_exact_total(string sort)
    {
        var ws = await SeedAsync();
        var expected = Ordered(await KeysAsync(api, ws, sort), sort);

        var byPage = new List<string>();
        for (var p = 1; p <= 4; p++)
        {
            var body = await ws.Read.GetObjectAsync($"/api/leads?sort={sort}&limit=7&page={p}");
            body["pagination"]!["total"]!.GetValue<long>().ShouldBe(24);
            body["pagination"]!["pages"]!.GetValue<long>().ShouldBe(4);
            body["pagination"]!["page"]!.GetValue<int>().ShouldBe(p);
            (body["pagination"]!["nextCursor"] is null).ShouldBe(p == 4);
            byPage.AddRange(body.Ids());
        }
        byPage.ShouldBe(expected);
        (await WalkAsync(ws, $"sort={sort}&limit=7")).ShouldBe(expected);
        // A page's cursor continues where that page ended, whichever way the page was asked for.
        var p2 = await ws.Read.GetObjectAsync($"/api/leads?sort={sort}&limit=7&page=2");
        var cursor = p2["pagination"]!["nextCursor"]!.GetValue<string>();
        (await ws.Read.GetObjectAsync($"/api/leads?limit=7&cursor={Uri.EscapeDataString(cursor)}")).Ids().ShouldBe(expected[14..21]);
    }

    [Theory]
    [MemberData(nameof(Sorts))]
    public async Task Export_follows_the_sort(string sort)
    {
        var ws = await SeedAsync();
        var expected = Ordered(await KeysAsync(api, ws, sort), sort);
        var r = await ws.Read.GetAsync($"/api/leads/export?sort={sort}");
        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        var lines = (await r.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        lines.Skip(1).Select(l => l.Split(',')[0]).ShouldBe(expected);
    }

    [Fact]
    public async Task UpdatedSince_and_updatedBefore_filter_list_stats_and_export_and_combine_with_the_cache_free_total()
    {
        var ws = await SeedAsync(); // update times 00:00–00:05 on 2026-05-01, four leads each
        var keys = await KeysAsync(api, ws, "updatedAt");
        const string window = "updatedSince=2026-05-01T00:02:00Z&updatedBefore=2026-05-01T00:04:00Z";
        var expected = Ordered(keys.Where(k => string.CompareOrdinal(k.Value, "20260501000200") >= 0
                                                && string.CompareOrdinal(k.Value, "20260501000400") < 0).ToDictionary(), "-updatedAt");
        expected.Length.ShouldBe(8);

        var list = await ws.Read.GetObjectAsync($"/api/leads?sort=-updatedAt&{window}");
        list.Ids().ShouldBe(expected);
        list["pagination"]!["total"]!.GetValue<long>().ShouldBe(8);
        (await ws.Read.GetObjectAsync($"/api/leads/stats?{window}"))["total"]!.GetValue<long>().ShouldBe(8);
        var csv = await (await ws.Read.GetAsync($"/api/leads/export?sort=-updatedAt&{window}")).Content.ReadAsStringAsync();
        csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')[0]).ShouldBe(expected);

        // A write that changes nothing a filter reads still moves updated_at: the next read sees it (no stale total).
        var other = keys.First(k => k.Value.StartsWith("20260501000000", StringComparison.Ordinal)).Key;
        (await ws.Full.PutAsync($"/api/leads/{other}/notes", Http.Json(new { notes = "called" }))).StatusCode.ShouldBe(HttpStatusCode.OK);
        var since = await ws.Read.GetObjectAsync("/api/leads?updatedSince=2026-05-01T00:02:00Z&sort=-updatedAt&limit=100");
        since["pagination"]!["total"]!.GetValue<long>().ShouldBe(17);
        since.Ids()[0].ShouldBe(other);
        (await ws.Read.GetObjectAsync("/api/leads?updatedBefore=2026-05-01T00:01:00Z"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(3);
        // Default order with a search, sorted: the cached total and the sorted page agree.
        (await ws.Read.GetObjectAsync("/api/leads?search=smith&sort=score"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(6);
    }

    [Theory]
    [InlineData("sort=name", "sort")]
    [InlineData("sort=--score", "sort")]
    [InlineData("sort=Score", "sort")]
    [InlineData("updatedSince=yesterday", "updatedSince")]
    [InlineData("updatedBefore=2026-02-30", "updatedBefore")]
    [InlineData("updatedSince=2026-03-02&updatedBefore=2026-03-01", "updatedBefore")]
    [InlineData("cursor=not-a-cursor", "cursor")]
    [InlineData("cursor=", "cursor")]
    [InlineData("cursor=AQEB", "cursor")]
    public async Task Invalid_sort_dates_and_cursors_are_400_naming_the_parameter(string query, string field)
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Read.GetAsync($"/api/leads?{query}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]![field].ShouldNotBeNull(p.ToJsonString());
        if (field != "cursor")
        {
            var e = await (await ws.Read.GetAsync($"/api/leads/export?{query}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
            e["errors"]![field].ShouldNotBeNull(e.ToJsonString());
        }
    }

    [Fact]
    public async Task Page_with_cursor_and_a_cursor_with_another_sort_are_400()
    {
        var ws = await SeedAsync();
        var cursor = (await ws.Read.GetObjectAsync("/api/leads?sort=-score&limit=5"))["pagination"]!["nextCursor"]!.GetValue<string>();
        var both = await (await ws.Read.GetAsync($"/api/leads?page=2&cursor={Uri.EscapeDataString(cursor)}"))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        both["errors"]!["cursor"].ShouldNotBeNull();
        var other = await (await ws.Read.GetAsync($"/api/leads?sort=score&cursor={Uri.EscapeDataString(cursor)}"))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        other["errors"]!["cursor"]![0]!.GetValue<string>().ShouldContain("sort=-score");
        // The same sort, or none, continues the walk.
        (await ws.Read.GetObjectAsync($"/api/leads?sort=-score&limit=5&cursor={Uri.EscapeDataString(cursor)}")).Ids()
            .ShouldBe((await ws.Read.GetObjectAsync($"/api/leads?limit=5&cursor={Uri.EscapeDataString(cursor)}")).Ids());
    }

    /// <summary>
    /// The §11 promise, for every sort: while another task keeps creating, deleting and changing leads (status, notes and
    /// names — which moves updatedAt, score and lastName keys), a cursor walk returns every lead that existed before and
    /// after it with an unchanged sort key exactly once, in order. Between two pages the walk waits until the writer has
    /// done at least one more round (12 rounds in all), so the writes interleave with the walk.
    /// </summary>
    [Theory]
    [MemberData(nameof(Sorts))]
    public async Task A_cursor_walk_under_concurrent_writes_returns_each_surviving_unchanged_lead_exactly_once(string sort)
    {
        var ws = await api.CreateWorkspaceAsync();
        var initial = new List<string>();
        for (var i = 0; i < 80; i++)
            initial.Add((await ws.CreateLeadAsync(new { firstName = $"W{i}", lastName = $"Name{i % 13}", company = $"Co{i % 7}", email = $"w{i}@x.io" })).Id());
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("UPDATE leads.leads SET score = (abs(hashtext(id::text)) % 100)::smallint WHERE workspace_id = @Ws", new { Ws = ws.Id });
        var before = await KeysAsync(api, ws, sort);

        using var rounds = new SemaphoreSlim(0);
        using var stop = new CancellationTokenSource();
        var rnd = new Random(sort.GetHashCode());
        var writer = Task.Run(async () =>
        {
            // Bounded: under sort=updatedAt every write moves a lead to the end, so an endless writer would outrun the walk.
            for (var n = 1; n <= 12 && !stop.IsCancellationRequested; n++)
            {
                await ws.CreateLeadAsync(new { firstName = $"New{n}", lastName = $"Name{rnd.Next(13)}", company = $"Co{rnd.Next(7)}" });
                var victim = initial[rnd.Next(initial.Count)];
                await ws.Full.DeleteAsync($"/api/leads/{victim}");
                var touched = initial[rnd.Next(initial.Count)];
                await ws.Full.PutJsonAsync($"/api/leads/{touched}/status", new { status = n % 2 == 0 ? "contacted" : "qualified" });
                await ws.Full.PutJsonAsync($"/api/leads/{initial[rnd.Next(initial.Count)]}/notes", new { notes = $"round {n}" });
                await ws.Full.PatchJsonAsync($"/api/leads/{initial[rnd.Next(initial.Count)]}", new { lastName = $"Renamed{n}" });
                rounds.Release();
            }
            rounds.Release(10_000); // the walk goes on alone
        });

        List<string> walked;
        try { walked = await WalkAsync(ws, $"sort={sort}&limit=4", () => rounds.WaitAsync()); }
        finally
        {
            await stop.CancelAsync();
            await writer;
        }

        var after = await KeysAsync(api, ws, sort);
        var survivors = before.Where(k => after.TryGetValue(k.Key, out var now) && now == k.Value).ToDictionary();
        survivors.Count.ShouldBeGreaterThan(10);
        foreach (var id in survivors.Keys) walked.Count(w => w == id).ShouldBe(1, $"{id} under sort={sort}");
        walked.Where(survivors.ContainsKey).ShouldBe(Ordered(survivors, sort));
    }
}
