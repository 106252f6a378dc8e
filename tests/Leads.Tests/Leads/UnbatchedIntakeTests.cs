using System.Net;
using Dapper;
using Leads.Tests.Duplicates;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Modules.Leads.Intake;

namespace Leads.Tests.Leads;

/// <summary>Single intake with the group commit switched off (<c>Intake:BatchMax=1</c>).</summary>
public sealed class UnbatchedIntakeFactory : ApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Intake:BatchMax"] = "1" };
}

/// <summary>
/// Without batching, each request writes its new person with the fast path's statement for that lead alone, on its own
/// connection (<see cref="IntakeBatcher"/>): the same guard, so the same outcomes as the ordinary path.
/// </summary>
public sealed class UnbatchedIntakeTests(UnbatchedIntakeFactory api) : IClassFixture<UnbatchedIntakeFactory>
{
    [Fact]
    public async Task Concurrent_intakes_of_one_person_and_of_many_give_one_primary_each_without_batches()
    {
        var batches = 0;
        var batcher = api.Services.GetRequiredService<IntakeBatcher>();
        void Count(int _) => Interlocked.Increment(ref batches);
        batcher.Batched += Count;
        try
        {
            var ws = await api.CreateWorkspaceAsync();
            await ws.CreateLeadAsync(new { firstName = "Warm", email = "warm@alone.io" }); // its region is known: the fast path
            var sent = Enumerable.Range(0, 20).Select(i => ws.Full.PostJsonAsync("/api/leads", new { firstName = $"Same{i}", email = "same@alone.io" }))
                .Concat(Enumerable.Range(0, 20).Select(i => ws.Full.PostJsonAsync("/api/leads", new { email = $"p{i}@alone.io", phone = $"+1415555{i:D4}" })))
                .ToList();
            var answers = await Task.WhenAll(sent);
            answers.ShouldAllBe(r => r.StatusCode == HttpStatusCode.Created);
            var flags = new List<bool>();
            foreach (var r in answers.Take(20)) flags.Add((await r.BodyAsync())["isDuplicate"]!.GetValue<bool>());
            flags.Count(f => !f).ShouldBe(1); // one primary, nineteen flagged
            foreach (var r in answers.Skip(20)) (await r.BodyAsync())["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();

            await using var db = await api.OpenDbAsync();
            (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id AND email_norm = 'same@alone.io' AND duplicate_of IS NULL",
                new { ws.Id })).ShouldBe(1);
            (await db.ExecuteScalarAsync<long>("SELECT count(DISTINCT email_norm) FROM leads.leads WHERE workspace_id = @Id AND email_norm LIKE 'p%@alone.io' AND duplicate_of IS NULL",
                new { ws.Id })).ShouldBe(20);
            (await ws.Read.GetObjectAsync("/api/leads?limit=1"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(41);
            (await ConcurrentWritesTests.CounterKeysDifferingFromRowsAsync(db, ws.Id)).ShouldBe(0);
            await Invariants.AssertAsync(api, ws);
            batches.ShouldBe(0); // no writer loop ran: every lead went alone
        }
        finally
        {
            batcher.Batched -= Count;
        }
    }

    [Fact]
    public async Task A_lead_waits_for_an_import_holding_its_workspaces_intake_lock_and_is_then_flagged_against_it()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { firstName = "Warm", email = "warm@held.io" });
        // An import chunk holds the workspace's intake lock exclusively (BulkDuplicateDetector) and writes the person.
        await using var import = await api.OpenDbAsync();
        await using var chunk = await import.BeginTransactionAsync();
        await import.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtextextended(@Key, 0))", new { Key = $"dup:{ws.Id:N}" }, chunk);
        var sent = ws.Full.PostJsonAsync("/api/leads", new { email = "imported@held.io" });
        // The lone write only tried the lock and wrote nothing; the ordinary path then waits for the chunk, on the lock.
        await Wait.UntilAsync(async () => await api.ScalarAsync<bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory')"),
            "the lead's ordinary path waited on the intake lock");
        sent.IsCompleted.ShouldBeFalse();
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id AND email_norm = 'imported@held.io'", new { ws.Id })).ShouldBe(0);
        await import.ExecuteAsync("""
            INSERT INTO leads.leads (id, workspace_id, email, email_norm, channel, created_actor_type)
            VALUES (gen_random_uuid(), @Id, 'imported@held.io', 'imported@held.io', 'import', 'system')
            """, new { ws.Id }, chunk);
        await chunk.CommitAsync();

        var answer = await sent.WaitAsync(TimeSpan.FromMinutes(2));
        answer.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await answer.BodyAsync())["isDuplicate"]!.GetValue<bool>().ShouldBeTrue();
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id AND email_norm = 'imported@held.io' AND duplicate_of IS NULL",
            new { ws.Id })).ShouldBe(1);
    }
}
