using System.Net;
using Dapper;
using Kernel.Ids;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Modules.Leads.Data;
using Shouldly;

namespace Leads.Tests.Leads;

/// <summary>A small anchor stride, so deep-page positions are exercised with a few hundred leads.</summary>
public sealed class ListCacheApiFactory : ApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Leads:ListCache:AnchorStride"] = "7",
    };
}

/// <summary>
/// Search totals and deep-page positions remembered between requests (ListCache) must never make a response differ
/// from what the database says at that moment: every page and total is compared with an independent SQL query after
/// each kind of write, with and without a cache entry in place.
/// </summary>
public sealed class ListCacheTests(ListCacheApiFactory api) : IClassFixture<ListCacheApiFactory>
{
    private ListCache Cache => api.Services.GetRequiredService<ListCache>();

    [Fact]
    public async Task Deep_pages_and_search_totals_match_the_database_before_and_after_every_kind_of_write()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.SeedAsync(240);
        await ws.AllPagesShouldMatchAsync();   // computes and remembers entries
        Cache.Count.ShouldBeGreaterThan(0);
        await ws.AllPagesShouldMatchAsync();   // served from them

        // Insert (newest first: shifts every position by one).
        var created = await ws.CreateLeadAsync(new { firstName = "Zebulon", lastName = "New", email = "zeb.new@x.io" });
        await ws.AllPagesShouldMatchAsync();

        // Status change: moves a lead in and out of the status filters.
        (await ws.Full.PutJsonAsync($"/api/leads/{created.Id()}/status", new { status = "qualified" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        await ws.AllPagesShouldMatchAsync();

        // Delete from the middle of the list.
        var middle = (await ws.Read.GetObjectAsync("/api/leads?page=12&limit=10")).Ids()[3];
        (await ws.Full.DeleteAsync($"/api/leads/{middle}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await ws.AllPagesShouldMatchAsync();

        // A write that touches no listed column (notes) keeps the entries: answers still match.
        (await ws.Full.PutJsonAsync($"/api/leads/{created.Id()}/notes", new { notes = "called" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        await ws.AllPagesShouldMatchAsync();
    }

    [Fact]
    public async Task Tag_pages_match_the_database_after_tags_are_attached_detached_and_deleted()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.SeedAsync(60);
        var all = (await ws.ExpectedAsync("true", 1, 60)).Ids;
        string? tagId = null;
        foreach (var lead in all.Where((_, i) => i % 2 == 0).Take(25))
        {
            var r = await ws.Full.PostJsonAsync($"/api/leads/{lead}/tags", new { name = "vip" });
            r.StatusCode.ShouldBe(HttpStatusCode.Created);
            tagId = (await r.BodyAsync())["id"]!.GetValue<string>();
        }
        const string tagged = "EXISTS (SELECT 1 FROM tags.lead_tags t JOIN tags.tags g ON g.id = t.tag_id WHERE t.lead_id = l.id AND g.name = 'vip')";
        async Task AllMatchAsync()
        {
            foreach (var (query, where) in new[] { ("tag=vip", tagged), ($"tag={tagId}", tagged), ("tag=VIP&status=qualified", $"{tagged} AND l.status = 'qualified'") })
                foreach (var (page, limit) in new[] { (1, 5), (2, 5), (3, 7), (4, 7), (5, 5), (2, 10), (3, 10), (4, 8) })
                    await ws.ShouldMatchAsync(query, where, page, limit);
        }
        await AllMatchAsync();   // remembers deep-page positions
        await AllMatchAsync();   // served from them

        // Attached to a lead in the middle of the tagged ones: every later position moves by one.
        (await ws.Full.PostJsonAsync($"/api/leads/{all[21]}/tags", new { name = "vip" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        await AllMatchAsync();
        // Detached from another.
        (await ws.Full.DeleteAsync($"/api/leads/{all[10]}/tags/{tagId}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await AllMatchAsync();
        // The tag deleted with all its links.
        (await ws.Full.DeleteAsync($"/api/tags/{tagId}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await AllMatchAsync();
    }

    [Fact]
    public async Task A_first_page_from_remembered_ids_shows_each_lead_as_it_is_now()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.SeedAsync(40);
        var before = await ws.Read.GetObjectAsync("/api/leads?search=zebu&limit=5");
        var key = new LeadFilter { WorkspaceId = ws.Id, Search = "%zebu%" };
        var entry = Cache.Get(key).ShouldNotBeNull();
        entry.Head.Length.ShouldBe(8); // every 5th of 40: all of them fit in the head
        entry.Head.Take(5).Select(i => TypeId.Format("lead", i)).ShouldBe(before.Ids());

        // Columns no filter, search or order reads change without a log row; the remembered IDs stay valid and the rows
        // behind them are read as they are now.
        await using var db = await api.OpenDbAsync();
        var logged = await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.workspace_changes WHERE workspace_id = @Ws", new { Ws = ws.Id });
        await db.ExecuteAsync("UPDATE leads.leads SET score = 77 WHERE workspace_id = @Ws AND first_name = 'Zebulon'", new { Ws = ws.Id });
        await db.ExecuteAsync("UPDATE access.members SET name = 'Renamed Owner' WHERE id = @Owner", new { Owner = ws.OwnerId });
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.workspace_changes WHERE workspace_id = @Ws", new { Ws = ws.Id })).ShouldBe(logged);

        var after = await ws.Read.GetObjectAsync("/api/leads?search=zebu&limit=5");
        Cache.Get(key).ShouldBeSameAs(entry); // served from the entry, not recomputed
        after.Ids().ShouldBe(before.Ids());
        var items = after["data"]!.AsArray();
        items.ShouldAllBe(i => i!["score"]!.GetValue<int>() == 77);
        var assigned = items.Where(i => i!["assignedTo"] != null).ToList();
        assigned.ShouldNotBeEmpty();
        assigned.ShouldAllBe(i => i!["assignedTo"]!["name"]!.GetValue<string>() == "Renamed Owner");
        await ws.ShouldMatchAsync("search=zebu", "l.first_name = 'Zebulon'", 2, 5);
    }

    [Fact]
    public async Task A_stale_total_is_brought_up_to_date_from_the_changed_leads_alone()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.SeedAsync(60);
        (string Query, string Where)[] filters =
        [
            ("search=zebu", "l.first_name = 'Zebulon'"),
            ("search=zebu&status=qualified", "l.first_name = 'Zebulon' AND l.status = 'qualified'"),
            ("startDate=2000-01-01", "true"),
        ];
        async Task AllMatchAsync()
        {
            foreach (var (query, where) in filters)
                foreach (var page in new[] { 1, 2 })
                    await ws.ShouldMatchAsync(query, where, page, 5);
        }
        await AllMatchAsync();
        var (recounts, adjustments) = (Cache.Recounts, Cache.Adjustments);
        await using var db = await api.OpenDbAsync();
        var p = new { Ws = ws.Id };
        // Adjusting needs the change log to vouch for the remembered snapshots: no compaction horizon above them. Only
        // compaction moves it in this database, never past a transaction still running since its previous run
        // (ListCacheCompactionTests moves it by hand, in a database of its own).
        var snapshot = Cache.Get(new LeadFilter { WorkspaceId = ws.Id, Search = "%zebu%" }).ShouldNotBeNull().Snapshot;
        (await db.ExecuteScalarAsync<bool>("SELECT pg_snapshot_xmin(@S::pg_snapshot) >= horizon FROM leads.workspace_changes_horizon",
            new { S = snapshot })).ShouldBeTrue("the compaction horizon is above the remembered snapshot");

        // A matching lead created.
        var z = await ws.CreateLeadAsync(new { firstName = "Zebulon", email = "zeb.created@x.io" });
        await AllMatchAsync();
        // A matching lead renamed away, a non-matching one renamed in (two transactions).
        await db.ExecuteAsync("UPDATE leads.leads SET first_name = 'Other' WHERE id = (SELECT id FROM leads.leads WHERE workspace_id = @Ws AND first_name = 'Zebulon' ORDER BY created_at LIMIT 1)", p);
        await db.ExecuteAsync("UPDATE leads.leads SET first_name = 'Zebulon' WHERE id = (SELECT id FROM leads.leads WHERE workspace_id = @Ws AND first_name = 'Bulk' ORDER BY created_at LIMIT 1)", p);
        await AllMatchAsync();
        // One lead changed twice in one transaction (out of the search, then its status), and back in by the next one.
        await using (var tx = await db.BeginTransactionAsync())
        {
            await db.ExecuteAsync("UPDATE leads.leads SET first_name = 'Zed' WHERE id = @Id", new { Id = z.Uuid("lead") }, tx);
            await db.ExecuteAsync("UPDATE leads.leads SET status = 'qualified' WHERE id = @Id", new { Id = z.Uuid("lead") }, tx);
            await tx.CommitAsync();
        }
        await db.ExecuteAsync("UPDATE leads.leads SET first_name = 'Zebulon' WHERE id = @Id", new { Id = z.Uuid("lead") });
        await AllMatchAsync();
        // A matching lead inserted and deleted in one transaction; another deleted through the API.
        await using (var tx = await db.BeginTransactionAsync())
        {
            var id = await db.ExecuteScalarAsync<Guid>("""
                INSERT INTO leads.leads (id, workspace_id, first_name, email, channel, created_actor_type)
                VALUES (gen_random_uuid(), @Ws, 'Zebulon', 'fleeting@x.io', 'api', 'system') RETURNING id
                """, p, tx);
            await db.ExecuteAsync("DELETE FROM leads.leads WHERE id = @Id", new { Id = id }, tx);
            await tx.CommitAsync();
        }
        (await ws.Full.DeleteAsync($"/api/leads/{z.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await AllMatchAsync();

        (Cache.Recounts - recounts).ShouldBe(0);
        (Cache.Adjustments - adjustments).ShouldBe(4 * filters.Length); // one per stale filter per round, none counted in full

        // A statement that changes more than 1,000 leads does not list them: the next totals are counted in full.
        await ws.SeedAsync(1_001, "More");
        await AllMatchAsync();
        (Cache.Recounts - recounts).ShouldBe(filters.Length);
        await db.ExecuteAsync("UPDATE leads.leads SET first_name = 'Zebulon' WHERE id = (SELECT id FROM leads.leads WHERE workspace_id = @Ws AND first_name = 'More' ORDER BY created_at LIMIT 1)", p);
        await AllMatchAsync();
        (Cache.Adjustments - adjustments).ShouldBe(5 * filters.Length);
    }

    [Fact]
    public async Task A_change_committed_after_the_count_was_taken_is_seen_and_an_uncommitted_one_is_not()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.SeedAsync(30);
        await ws.ShouldMatchAsync("search=zebu", "l.first_name = 'Zebulon'", 1, 5);

        // A transaction that inserts a matching lead and is still open while the list is read (and re-counted).
        await using var writer = await api.OpenDbAsync();
        await using var tx = await writer.BeginTransactionAsync();
        await writer.ExecuteAsync("""
            INSERT INTO leads.leads (id, workspace_id, first_name, email, channel, created_actor_type)
            VALUES (gen_random_uuid(), @Ws, 'Zebulon', 'late@x.io', 'api', 'system')
            """, new { Ws = ws.Id }, tx);
        var before = await ws.Read.GetObjectAsync("/api/leads?search=zebu&limit=5");
        before["pagination"]!["total"]!.GetValue<long>().ShouldBe(6);
        // Another workspace's change does not disturb this one's totals either way.
        var other = await api.CreateWorkspaceAsync();
        await other.CreateLeadAsync(new { firstName = "Zebulon", email = "z@other.io" });
        (await ws.Read.GetObjectAsync("/api/leads?search=zebu&limit=5"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(6);

        await tx.CommitAsync();
        var after = await ws.Read.GetObjectAsync("/api/leads?search=zebu&limit=5");
        after["pagination"]!["total"]!.GetValue<long>().ShouldBe(7);
        await ws.ShouldMatchAsync("search=zebu", "l.first_name = 'Zebulon'", 2, 5);
    }

    [Fact]
    public async Task Concurrent_requests_after_a_write_all_answer_exactly()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.SeedAsync(120);
        for (var round = 0; round < 5; round++)
        {
            await ws.CreateLeadAsync(new { firstName = "Zebulon", email = $"round{round}@x.io" });
            var (total, ids) = await ws.ExpectedAsync("l.first_name = 'Zebulon'", 3, 4);
            var (deepTotal, deepIds) = await ws.ExpectedAsync("true", 20, 5);
            var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => ws.Read.GetObjectAsync(
                i % 2 == 0 ? "/api/leads?search=zebu&page=3&limit=4" : "/api/leads?page=20&limit=5")));
            for (var i = 0; i < answers.Length; i++)
            {
                answers[i]["pagination"]!["total"]!.GetValue<long>().ShouldBe(i % 2 == 0 ? total : deepTotal);
                answers[i].Ids().ShouldBe(i % 2 == 0 ? ids : deepIds);
            }
        }
    }

    [Fact]
    public async Task Concurrent_misses_compute_an_entry_once_and_a_failed_computation_is_retried_by_the_waiters()
    {
        var cache = new ListCache(capacity: 10, stride: 5, maxAnchors: 100);
        var f = new LeadFilter { WorkspaceId = Guid.NewGuid(), Search = "%x%" };
        var calls = 0;
        var gate = new TaskCompletionSource();
        async Task<ListCache.Entry> Compute() { Interlocked.Increment(ref calls); await gate.Task; return new ListCache.Entry("1:1:", 3, 10, [], []); }
        var all = Enumerable.Range(0, 8).Select(_ => cache.ComputeOnceAsync(f, Compute)).ToArray();
        gate.SetResult();
        (await Task.WhenAll(all)).ShouldAllBe(e => e.Total == 3);
        calls.ShouldBe(1);
        cache.Get(f)!.Total.ShouldBe(3);

        var failing = new TaskCompletionSource<ListCache.Entry>();
        var first = cache.ComputeOnceAsync(f, () => failing.Task);
        var waiter = cache.ComputeOnceAsync(f, () => Task.FromResult(new ListCache.Entry("2:2:", 4, 10, [], [])));
        failing.SetException(new TimeoutException());
        await Should.ThrowAsync<TimeoutException>(first);
        (await waiter).Total.ShouldBe(4);
    }

    [Fact]
    public async Task The_cache_stays_within_its_bounds()
    {
        var cache = new ListCache(capacity: 10, stride: 5, maxAnchors: 100);
        var anchors = Enumerable.Range(0, 30).Select(i => new ListCache.Anchor(DateTime.UtcNow, Guid.NewGuid())).ToArray();
        for (var i = 0; i < 50; i++)
            cache.Set(new LeadFilter { WorkspaceId = Guid.NewGuid() }, new ListCache.Entry("1:1:", i, 100, anchors, []));
        cache.Count.ShouldBeLessThanOrEqualTo(10);
        cache.Count.ShouldBeGreaterThan(0);
        var big = new LeadFilter { WorkspaceId = Guid.NewGuid() };
        cache.Set(big, new ListCache.Entry("1:1:", 1, 100, [.. Enumerable.Repeat(anchors[0], 500)], []));
        // One workspace keeps at most half of the positions; the others keep what still fits.
        cache.Get(big)!.Anchors.Length.ShouldBe(50);
        cache.Count.ShouldBe(2);
    }

    [Fact]
    public void One_workspace_s_deep_pages_and_endless_distinct_searches_forget_its_own_entries_not_other_tenants()
    {
        var cache = new ListCache(capacity: 100, stride: 10, maxAnchors: 10_000);
        var quiet = Enumerable.Range(0, 5).Select(i => new LeadFilter { WorkspaceId = Guid.NewGuid(), Search = $"%q{i}%" }).ToArray();
        foreach (var f in quiet) cache.Set(f, new ListCache.Entry("1:1:", 1, 10, [], [Guid.NewGuid()]));

        var noisy = Guid.NewGuid();
        for (var i = 0; i < 1000; i++)
            cache.Set(new LeadFilter { WorkspaceId = noisy, Search = $"%n{i}%" }, new ListCache.Entry("1:1:", 1, 10, [], [Guid.NewGuid()]));
        // page=1000000 of a huge list: more positions than the whole node may hold.
        var deep = new LeadFilter { WorkspaceId = noisy };
        cache.Set(deep, new ListCache.Entry("1:1:", null, 10_000_000, [.. Enumerable.Repeat(new ListCache.Anchor(DateTime.UtcNow, Guid.NewGuid()), 50_000)], []));

        foreach (var f in quiet) cache.Get(f).ShouldNotBeNull();
        cache.Get(deep)!.Anchors.Length.ShouldBe(5_000);
        cache.Count.ShouldBeLessThanOrEqualTo(100);
    }
}
