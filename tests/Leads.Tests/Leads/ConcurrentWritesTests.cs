using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Duplicates;
using Leads.Tests.Infrastructure;
using Npgsql;

namespace Leads.Tests.Leads;

/// <summary>
/// Many writers in one workspace at once (issue #18): intake, status, assignment and tags move the striped counters
/// (migration 0050); afterwards totals, stats, every counter key and every duplicate flag must equal what independent
/// SQL counts from the rows. And writes of different leads must not wait for each other on a counter row.
/// </summary>
public sealed class ConcurrentWritesTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static readonly string[] Statuses = ["contacted", "qualified", "new", "closed", "converted"];

    [Fact]
    public async Task Thirty_two_concurrent_writers_leave_totals_stats_counters_and_duplicate_flags_exact()
    {
        var ws = await api.CreateWorkspaceAsync();
        var member = await (await ws.Full.PostJsonAsync("/api/users", new { name = "Rep", email = "rep@x.io", role = "member" })).BodyAsync();
        var existing = new List<string>();
        for (var i = 0; i < 16; i++) existing.Add((await ws.CreateLeadAsync(new { firstName = $"E{i}", email = $"e{i}@pre.io" })).Id());

        await Task.WhenAll(Enumerable.Range(0, 32).Select(w => Task.Run(async () =>
        {
            for (var round = 0; round < 5; round++)
            {
                // A new person (email and phone of its own), and the round's shared person, whom all 32 writers send at once.
                await Created(ws.Full.PostJsonAsync("/api/leads", new
                {
                    firstName = $"W{w}", lastName = $"R{round}", email = $"w{w}.r{round}@new.io", phone = $"+33 6 {w:D2}{round:D2}0000",
                }));
                await Created(ws.Full.PostJsonAsync("/api/leads", new { firstName = "Shared", email = $"Shared{round}@same.io" }));
                var lead = existing[(w + round) % existing.Count];
                var r = ((w + round) % 4) switch
                {
                    0 => await ws.Full.PutJsonAsync($"/api/leads/{lead}/status", new { status = Statuses[(w * 7 + round) % Statuses.Length] }),
                    1 => await ws.Full.PutJsonAsync($"/api/leads/{lead}/assign", new { userId = member.Id() }),
                    2 => await ws.Full.PutJsonAsync($"/api/leads/{lead}/assign", new { userId = (string?)null }),
                    _ => await ws.Full.PostJsonAsync($"/api/leads/{lead}/tags", new { name = $"tag{w % 4}" }),
                };
                r.StatusCode.ShouldBeOneOf([HttpStatusCode.OK, HttpStatusCode.Created], await r.Content.ReadAsStringAsync());
            }
        })));

        await using var db = await api.OpenDbAsync();
        var count = await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id });
        count.ShouldBe(16 + 32 * 5 * 2);
        (await ws.Read.GetObjectAsync("/api/leads?limit=1"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(count);

        var stats = await ws.Read.GetObjectAsync("/api/leads/stats");
        var expected = await db.QuerySingleAsync<(long Total, long New, long Contacted, long Qualified, long Converted, long Closed, long Duplicates, long Unassigned)>("""
            SELECT count(*), count(*) FILTER (WHERE status = 'new'), count(*) FILTER (WHERE status = 'contacted'),
                   count(*) FILTER (WHERE status = 'qualified'), count(*) FILTER (WHERE status = 'converted'),
                   count(*) FILTER (WHERE status = 'closed'), count(*) FILTER (WHERE duplicate_of IS NOT NULL),
                   count(*) FILTER (WHERE assigned_to IS NULL)
            FROM leads.leads WHERE workspace_id = @Id
            """, new { ws.Id });
        JsonNode.DeepEquals(stats, JsonNode.Parse($$"""
            {"total":{{expected.Total}},"byStatus":{"new":{{expected.New}},"contacted":{{expected.Contacted}},"qualified":{{expected.Qualified}},
             "converted":{{expected.Converted}},"closed":{{expected.Closed}}},"duplicates":{{expected.Duplicates}},"unassigned":{{expected.Unassigned}}}
            """)).ShouldBeTrue(stats.ToJsonString());
        expected.Duplicates.ShouldBe(5 * 31);

        (await CounterKeysDifferingFromRowsAsync(db, ws.Id)).ShouldBe(0);

        // Every person: exactly one primary, and every other lead of that person flagged against it.
        var people = (await db.QueryAsync<(string Email, long Leads, long Primaries, long Elsewhere)>("""
            SELECT l.email_norm, count(*), count(*) FILTER (WHERE l.duplicate_of IS NULL),
                   count(*) FILTER (WHERE l.duplicate_of IS NOT NULL AND l.duplicate_of NOT IN (
                       SELECT p.id FROM leads.leads p WHERE p.workspace_id = l.workspace_id AND p.email_norm = l.email_norm AND p.duplicate_of IS NULL))
            FROM leads.leads l WHERE l.workspace_id = @Id GROUP BY l.email_norm
            """, new { ws.Id })).ToList();
        people.Count.ShouldBe(16 + 32 * 5 + 5);
        people.ShouldAllBe(p => p.Primaries == 1 && p.Elsewhere == 0);
        people.Where(p => p.Email.EndsWith("@same.io")).ShouldAllBe(p => p.Leads == 32);
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.events WHERE workspace_id = @Id AND type = 'duplicate_flagged'", new { ws.Id }))
            .ShouldBe(5 * 31);
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task Writes_of_other_leads_do_not_wait_for_an_open_transaction_that_changed_the_same_counters()
    {
        var ws = await api.CreateWorkspaceAsync();
        var member = await (await ws.Full.PostJsonAsync("/api/users", new { name = "Rep", email = "rep@x.io", role = "member" })).BodyAsync();
        var a = (await ws.CreateLeadAsync(new { firstName = "A", email = "a@x.io" })).Uuid();
        var b = (await ws.CreateLeadAsync(new { firstName = "B", email = "b@x.io" })).Id();

        // Another writer holds, uncommitted, exactly the counter keys the requests below move: a new unassigned
        // source-less lead, and a lead moved new → contacted.
        await using var other = await api.OpenDbAsync();
        await using var tx = await other.BeginTransactionAsync();
        await other.ExecuteAsync("""
            INSERT INTO leads.leads (id, workspace_id, first_name, email, email_norm, channel, created_actor_type)
            VALUES (gen_random_uuid(), @Id, 'Open', 'open@x.io', 'open@x.io', 'api', 'api_key');
            UPDATE leads.leads SET status = 'contacted' WHERE id = @A;
            """, new { ws.Id, A = a }, tx);

        // Each must finish while that transaction stays open (before migration 0050 each waited for its commit).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        (await ws.Full.PostAsync("/api/leads", Http.Json(new { firstName = "New", email = "new@x.io" }), timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await ws.Full.PutAsync($"/api/leads/{b}/status", Http.Json(new { status = "contacted" }), timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PutAsync($"/api/leads/{b}/assign", Http.Json(new { userId = member.Id() }), timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PostAsync($"/api/leads/{b}/tags", Http.Json(new { name = "vip" }), timeout.Token)).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["total"]!.GetValue<long>().ShouldBe(3);

        await tx.CommitAsync();
        var stats = await ws.Read.GetObjectAsync("/api/leads/stats");
        stats["total"]!.GetValue<long>().ShouldBe(4);
        stats["byStatus"]!["contacted"]!.GetValue<long>().ShouldBe(2);
        (await CounterKeysDifferingFromRowsAsync(other, ws.Id)).ShouldBe(0);
    }

    [Fact]
    public async Task Compaction_folds_upper_counter_slots_into_slot_0_skipping_a_slot_a_writer_holds()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { firstName = "Before", email = "before@x.io" });

        // A writer holds slot 0 of the workspace (uncommitted new lead), so the next intake writes slot 1.
        await using var writer = await api.OpenDbAsync();
        var tx = await writer.BeginTransactionAsync();
        await writer.ExecuteAsync("""
            INSERT INTO leads.leads (id, workspace_id, first_name, email, email_norm, channel, created_actor_type)
            VALUES (gen_random_uuid(), @Id, 'Held', 'held@x.io', 'held@x.io', 'api', 'api_key')
            """, new { ws.Id }, tx);
        await ws.CreateLeadAsync(new { firstName = "During", email = "during@x.io" });
        await using var db = await api.OpenDbAsync();
        (await SlotsAsync(db, ws.Id)).ShouldBe([0, 1]);

        // Slot 1 folds into slot 0, whose holder is still writing: skipped, nothing moves.
        (await db.ExecuteScalarAsync<long>("SELECT leads.fold_lead_counts()")).ShouldBe(0);
        (await SlotsAsync(db, ws.Id)).ShouldBe([0, 1]);

        await tx.CommitAsync();
        (await db.ExecuteScalarAsync<long>("SELECT leads.fold_lead_counts()")).ShouldBeGreaterThan(0);
        (await SlotsAsync(db, ws.Id)).ShouldBe([0]);
        (await CounterKeysDifferingFromRowsAsync(db, ws.Id)).ShouldBe(0);
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["total"]!.GetValue<long>().ShouldBe(3);
    }

    private static async Task<short[]> SlotsAsync(NpgsqlConnection db, Guid workspaceId) =>
        (await db.QueryAsync<short>("SELECT DISTINCT slot FROM leads.lead_counts WHERE workspace_id = @Id ORDER BY 1", new { Id = workspaceId })).ToArray();

    private static async Task Created(Task<HttpResponseMessage> request)
    {
        var r = await request;
        r.StatusCode.ShouldBe(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
    }

    /// <summary>Counter keys (summed over their slots) whose count differs from the rows', either way.</summary>
    internal static Task<long> CounterKeysDifferingFromRowsAsync(NpgsqlConnection db, Guid workspaceId) => db.ExecuteScalarAsync<long>("""
        WITH c AS (SELECT status, assigned_to, source_id, is_duplicate, sum(n) AS n FROM leads.lead_counts
                   WHERE workspace_id = @Id GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0),
             r AS (SELECT status, coalesce(assigned_to, '00000000-0000-0000-0000-000000000000'::uuid) AS assigned_to,
                          coalesce(source_id, '00000000-0000-0000-0000-000000000000'::uuid) AS source_id,
                          duplicate_of IS NOT NULL AS is_duplicate, count(*) AS n
                   FROM leads.leads WHERE workspace_id = @Id GROUP BY 1, 2, 3, 4)
        SELECT count(*) FROM ((TABLE c EXCEPT TABLE r) UNION ALL (TABLE r EXCEPT TABLE c)) x
        """, new { Id = workspaceId });
}
