using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Kernel.Security;
using Leads.Tests.Duplicates;
using Leads.Tests.Infrastructure;
using Leads.Tests.Sources;
using Microsoft.Extensions.DependencyInjection;
using Modules.Leads.Intake;
using Modules.Leads.Public;

namespace Leads.Tests.Leads;

/// <summary>One writer loop, so that a test can hold it on one batch while the next one queues up whole.</summary>
public sealed class OneIntakeWriterFactory : ApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Intake:Writers"] = "1", ["Intake:BatchMax"] = "64" };
}

/// <summary>
/// Single intake's group commit (IntakeBatcher): the new people pending on a node are written in one statement and one
/// transaction. Each test holds the only writer on a first batch, queues the leads it is about, then lets go, so that
/// those leads form one batch — and checks what went in, what each request answered, and the counters.
/// </summary>
public sealed class IntakeBatchTests(OneIntakeWriterFactory api) : IClassFixture<OneIntakeWriterFactory>, IDisposable
{
    private readonly IntakeBatcher _batcher = api.Services.GetRequiredService<IntakeBatcher>();
    private readonly ConcurrentQueue<int> _batches = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose()
    {
        _release.TrySetResult();
        _batcher.BeforeWrite = null;
        _batcher.Batched -= Count;
    }

    private void Count(int leads) => _batches.Enqueue(leads);

    // Holds the writer on its next batch (a lead of a workspace of its own) until Release; the test then queues its leads.
    private async Task HoldWriterAsync()
    {
        var held = 0;
        _batcher.Batched += Count;
        _batcher.BeforeWrite = _ => Interlocked.Exchange(ref held, 1) == 0 ? _release.Task : Task.CompletedTask;
        var holder = await api.CreateWorkspaceAsync();
        await holder.CreateLeadAsync(new { email = "warm@holder.io" }); // the ordinary path: now its region is known
        _ = holder.Full.PostJsonAsync("/api/leads", new { email = "held@holder.io" });
        await Until(() => Volatile.Read(ref held) == 1);
    }

    private async Task<HttpResponseMessage[]> ReleaseAsync(IReadOnlyList<Task<HttpResponseMessage>> queued)
    {
        await Until(() => _batcher.PendingCount >= queued.Count);
        _release.SetResult();
        return await Task.WhenAll(queued);
    }

    private static async Task Until(Func<bool> condition)
    {
        for (var i = 0; i < 1200 && !condition(); i++) await Task.Delay(50);
        condition().ShouldBeTrue("the intake batcher never reached the state the test waits for");
    }

    // The workspace's region becomes known to the node (the ordinary path reads it), so its next leads go the fast way.
    private static async Task WarmAsync(TestWorkspace ws) =>
        await ws.CreateLeadAsync(new { firstName = "Warm", email = $"warm.{Guid.NewGuid():N}@warm.io" });

    [Fact]
    public async Task One_person_many_times_and_many_people_in_one_batch_give_one_primary_each()
    {
        var ws = await api.CreateWorkspaceAsync();
        await WarmAsync(ws);
        await HoldWriterAsync();
        var queued = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < 40; i++)
            queued.Add(i % 2 == 0
                ? ws.Full.PostJsonAsync("/api/leads", i % 4 == 0
                    ? new { email = (string?)"Same@Person.io", phone = (string?)null }
                    : new { email = (string?)"same@person.io", phone = (string?)"+1 415 555 0142" })
                : ws.Full.PostJsonAsync("/api/leads", new { email = (string?)$"p{i}@people.io", phone = (string?)$"+1 415 555 {1000 + i}" }));
        var responses = await ReleaseAsync(queued);

        foreach (var r in responses) r.StatusCode.ShouldBe(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        _batches.ShouldContain(n => n >= 21, $"batches: {string.Join(",", _batches)}"); // the 20 people and the first of the same person
        await using var db = await api.OpenDbAsync();
        var same = (await db.QueryAsync<(Guid Id, Guid? DuplicateOf)>(
            "SELECT id, duplicate_of FROM leads.leads WHERE workspace_id = @Id AND email_norm = 'same@person.io'", new { ws.Id })).ToList();
        same.Count.ShouldBe(20);
        var primary = same.Single(l => l.DuplicateOf is null).Id;
        same.Where(l => l.Id != primary).ShouldAllBe(l => l.DuplicateOf == primary);
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.events WHERE workspace_id = @Id AND type = 'duplicate_flagged'", new { ws.Id }))
            .ShouldBe(19);
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id AND email_norm LIKE '%@people.io' AND duplicate_of IS NULL",
            new { ws.Id })).ShouldBe(20);
        // Each answer is its own lead as stored.
        var answered = new List<Guid>();
        foreach (var r in responses) answered.Add((await r.BodyAsync()).Uuid());
        answered.Distinct().Count().ShouldBe(40);
        await AssertExactAsync(ws, 41);
    }

    [Fact]
    public async Task A_lead_whose_source_was_deleted_or_whose_region_changed_goes_the_ordinary_way_and_the_others_are_written_once()
    {
        var ws = await api.CreateWorkspaceAsync();
        var gb = await api.CreateWorkspaceAsync();
        await WarmAsync(ws);
        await WarmAsync(gb);
        var source = (await ws.CreateSourceAsync()).Str("id");
        await HoldWriterAsync();
        var queued = new List<Task<HttpResponseMessage>>
        {
            ws.Full.PostJsonAsync("/api/leads", new { email = "gone.source@batch.io", sourceId = source }),
            gb.Full.PostJsonAsync("/api/leads", new { email = "local@batch.io", phone = "020 7946 0958" }),
            ws.Full.PostJsonAsync("/api/leads", new { email = "a@batch.io" }),
            gb.Full.PostJsonAsync("/api/leads", new { email = "b@batch.io" }),
        };
        await Until(() => _batcher.PendingCount >= queued.Count);
        // Meanwhile the source is deleted and the other workspace's region changes.
        (await ws.Full.DeleteAsync($"/api/sources/{source}")).IsSuccessStatusCode.ShouldBeTrue();
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("UPDATE access.workspaces SET default_region = 'GB' WHERE id = @Id", new { gb.Id });
        var responses = await ReleaseAsync(queued);

        (await responses[0].ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed"))["errors"]!["sourceId"].ShouldNotBeNull();
        responses[1].StatusCode.ShouldBe(HttpStatusCode.Created);
        (await responses[1].BodyAsync()).Str("phoneE164").ShouldBe("+442079460958"); // prepared again with the new region
        responses[2].StatusCode.ShouldBe(HttpStatusCode.Created);
        responses[3].StatusCode.ShouldBe(HttpStatusCode.Created);
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE email_norm = 'gone.source@batch.io'")).ShouldBe(0);
        (await api.ScalarAsync<string>("SELECT phone_e164 FROM leads.leads WHERE email_norm = 'local@batch.io'")).ShouldBe("+442079460958");
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE email_norm IN ('local@batch.io', 'a@batch.io', 'b@batch.io')")).ShouldBe(3);
        await AssertExactAsync(ws, 2);
        await AssertExactAsync(gb, 3);
    }

    [Fact]
    public async Task A_batch_whose_statement_fails_loses_and_doubles_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        await WarmAsync(ws);
        // A rule the intake rules do not know: the database refuses one lead, which fails its batch's statement.
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync($"""
                CREATE FUNCTION leads.test_refuse_{ws.Id:N}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.email_norm = 'refused@batch.io' THEN RAISE EXCEPTION 'refused by a test'; END IF; RETURN NEW; END $$;
                CREATE TRIGGER test_refuse_{ws.Id:N} BEFORE INSERT ON leads.leads FOR EACH ROW EXECUTE FUNCTION leads.test_refuse_{ws.Id:N}();
                """);
        try
        {
            await HoldWriterAsync();
            var queued = new List<Task<HttpResponseMessage>>();
            for (var i = 0; i < 6; i++) queued.Add(ws.Full.PostJsonAsync("/api/leads", new { email = $"kept{i}@batch.io" }));
            // The refused lead's 500 is no part of the API's contract: sent past the test clients' contract check.
            var raw = api.Server.CreateClient();
            raw.DefaultRequestHeaders.Add("X-API-Key", ws.FullKey);
            queued.Insert(3, raw.PostJsonAsync("/api/leads", new { email = "refused@batch.io" }));
            var responses = await ReleaseAsync(queued);

            responses[3].StatusCode.ShouldBe(HttpStatusCode.InternalServerError); // written alone, refused alone: as without batching
            foreach (var r in responses.Where((_, i) => i != 3)) r.StatusCode.ShouldBe(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
            _batches.ShouldContain(n => n >= 7, $"batches: {string.Join(",", _batches)}");
        }
        finally
        {
            await using var db = await api.OpenDbAsync();
            await db.ExecuteAsync($"DROP TRIGGER test_refuse_{ws.Id:N} ON leads.leads; DROP FUNCTION leads.test_refuse_{ws.Id:N}();");
        }
        List<(string Email, long N)> kept;
        await using (var db = await api.OpenDbAsync())
            kept = (await db.QueryAsync<(string Email, long N)>(
                "SELECT email_norm, count(*) FROM leads.leads WHERE workspace_id = @Id AND email_norm LIKE '%@batch.io' GROUP BY 1", new { ws.Id })).ToList();
        kept.Select(k => k.Email).Order().ShouldBe(Enumerable.Range(0, 6).Select(i => $"kept{i}@batch.io"));
        kept.ShouldAllBe(k => k.N == 1);
        await AssertExactAsync(ws, 7);
    }

    [Fact]
    public async Task A_batch_that_fails_before_the_database_answers_is_written_lead_by_lead_once()
    {
        var ws = await api.CreateWorkspaceAsync();
        await WarmAsync(ws);
        await HoldWriterAsync();
        var failed = 0;
        var hold = _batcher.BeforeWrite!;
        // After the held batch, the next one breaks as a lost connection would, before its statement ran.
        _batcher.BeforeWrite = async rows =>
        {
            await hold(rows);
            if (rows.Any(r => r.Lead.EmailNorm!.EndsWith("@lost.io")) && Interlocked.Exchange(ref failed, 1) == 0)
                throw new IOException("connection lost (test)");
        };
        var queued = Enumerable.Range(0, 8).Select(i => ws.Full.PostJsonAsync("/api/leads", new { email = $"l{i}@lost.io" })).ToList();
        var responses = await ReleaseAsync(queued);

        foreach (var r in responses) r.StatusCode.ShouldBe(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        failed.ShouldBe(1);
        (await api.ScalarAsync<long>("SELECT count(DISTINCT email_norm) FROM leads.leads WHERE workspace_id = @Id AND email_norm LIKE '%@lost.io'", new { ws.Id }))
            .ShouldBe(8);
        await AssertExactAsync(ws, 9);
    }

    [Fact]
    public async Task Leads_of_several_workspaces_and_a_webhook_in_one_batch_each_count_in_their_own_workspace()
    {
        var workspaces = new List<TestWorkspace>();
        for (var w = 0; w < 4; w++)
        {
            var ws = await api.CreateWorkspaceAsync();
            await WarmAsync(ws);
            workspaces.Add(ws);
        }
        var hook = await workspaces[0].CreateSourceAsync("Form");
        using var anonymous = api.CreateClient();
        await anonymous.PostJsonAsync($"/api/webhooks/{hook.Str("webhookToken")}", new { email = "first@hook.io" }); // the webhook's region known
        await HoldWriterAsync();
        var queued = new List<Task<HttpResponseMessage>>();
        for (var i = 0; i < 5; i++)
            for (var w = 0; w < 4; w++)
                queued.Add(workspaces[w].Full.PostJsonAsync("/api/leads", new { email = $"same{i}@mixed.io", firstName = $"W{w}" }));
        queued.Add(anonymous.PostJsonAsync($"/api/webhooks/{hook.Str("webhookToken")}", new { email = "second@hook.io" }));
        var responses = await ReleaseAsync(queued);

        foreach (var r in responses) r.IsSuccessStatusCode.ShouldBeTrue(await r.Content.ReadAsStringAsync());
        _batches.ShouldContain(n => n >= 21, $"batches: {string.Join(",", _batches)}");
        // The same emails in other workspaces are other people: none is flagged.
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE email_norm LIKE '%@mixed.io' AND duplicate_of IS NULL")).ShouldBe(20);
        await using (var db = await api.OpenDbAsync())
            (await db.QuerySingleAsync<(string Channel, string ActorType, Guid? SourceId)>(
                "SELECT channel, created_actor_type, source_id FROM leads.leads WHERE email_norm = 'second@hook.io'")).ShouldBe(("webhook", ActorTypes.Webhook, hook.Uuid("src")));
        await AssertExactAsync(workspaces[0], 1 + 1 + 5 + 1);
        for (var w = 1; w < 4; w++) await AssertExactAsync(workspaces[w], 1 + 5);
    }

    [Fact]
    public async Task A_workspace_whose_import_holds_its_intake_lock_does_not_hold_up_the_other_leads_of_the_batch()
    {
        var busy = await api.CreateWorkspaceAsync();
        var other = await api.CreateWorkspaceAsync();
        await WarmAsync(busy);
        await WarmAsync(other);
        await busy.CreateLeadAsync(new { email = "known@import.io" });
        await HoldWriterAsync();
        // An import chunk of `busy` holds its intake lock exclusively (BulkDuplicateDetector) until its transaction ends.
        await using var import = await api.OpenDbAsync();
        await using var chunk = await import.BeginTransactionAsync();
        await import.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtextextended(@Key, 0))", new { Key = $"dup:{busy.Id:N}" }, chunk);
        var waiting = new List<Task<HttpResponseMessage>>
        {
            busy.Full.PostJsonAsync("/api/leads", new { email = "new@import.io" }),
            busy.Full.PostJsonAsync("/api/leads", new { email = "KNOWN@import.io" }),
        };
        var others = Enumerable.Range(0, 4).Select(i => other.Full.PostJsonAsync("/api/leads", new { email = $"o{i}@free.io" })).ToList();
        await Until(() => _batcher.PendingCount >= waiting.Count + others.Count);
        _release.SetResult();

        // The other workspace's leads are written while the chunk still holds the lock (a bounded wait: a hang fails).
        foreach (var r in await Task.WhenAll(others).WaitAsync(TimeSpan.FromMinutes(2))) r.StatusCode.ShouldBe(HttpStatusCode.Created);
        waiting.ShouldAllBe(t => !t.IsCompleted);
        await chunk.CommitAsync();
        var answers = await Task.WhenAll(waiting);
        answers.ShouldAllBe(r => r.StatusCode == HttpStatusCode.Created);
        (await answers[0].BodyAsync())["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();
        (await answers[1].BodyAsync())["isDuplicate"]!.GetValue<bool>().ShouldBeTrue();
        await AssertExactAsync(busy, 4);
        await AssertExactAsync(other, 5);
    }

    [Fact]
    public async Task A_caller_that_goes_before_its_lead_is_taken_leaves_it_unwritten_and_one_taken_gets_its_lead()
    {
        var ws = await api.CreateWorkspaceAsync();
        await HoldWriterAsync();
        var target = new IntakeTarget(ws.Id, null, "api", Actor.System);
        using var gone = new CancellationTokenSource();
        var abandoned = _batcher.TryWriteNewAsync(target, new NormalizedLead { Email = "gone@cancel.io", EmailNorm = "gone@cancel.io", MetadataJson = "{}" }, 0, "US", gone.Token);
        await Until(() => _batcher.PendingCount >= 1);
        await gone.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(abandoned);
        var stays = _batcher.TryWriteNewAsync(target, new NormalizedLead { Email = "stays@cancel.io", EmailNorm = "stays@cancel.io", MetadataJson = "{}" }, 0, "US", CancellationToken.None);
        _release.SetResult();
        (await stays)!.Email.ShouldBe("stays@cancel.io");
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE email_norm = 'gone@cancel.io'")).ShouldBe(0);

        // Taken by a writer, then the caller goes: the request still waits for, and answers, what committed.
        using var late = new CancellationTokenSource();
        var taken = 0;
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _batcher.BeforeWrite = rows => rows.Any(r => r.Lead.EmailNorm == "late@cancel.io") && Interlocked.Exchange(ref taken, 1) == 0 ? hold.Task : Task.CompletedTask;
        var lateWrite = _batcher.TryWriteNewAsync(target, new NormalizedLead { Email = "late@cancel.io", EmailNorm = "late@cancel.io", MetadataJson = "{}" }, 0, "US", late.Token);
        await Until(() => Volatile.Read(ref taken) == 1);
        await late.CancelAsync();
        hold.SetResult();
        (await lateWrite)!.Email.ShouldBe("late@cancel.io");
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE email_norm = 'late@cancel.io'")).ShouldBe(1);
    }

    // Total, stats, every counter key and the duplicate invariants against the rows.
    private async Task AssertExactAsync(TestWorkspace ws, long leads)
    {
        await using var db = await api.OpenDbAsync();
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(leads);
        (await ws.Read.GetObjectAsync("/api/leads?limit=1"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(leads);
        var stats = await ws.Read.GetObjectAsync("/api/leads/stats");
        stats["total"]!.GetValue<long>().ShouldBe(leads);
        stats["duplicates"]!.GetValue<long>().ShouldBe(await db.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM leads.leads WHERE workspace_id = @Id AND duplicate_of IS NOT NULL", new { ws.Id }));
        (await ConcurrentWritesTests.CounterKeysDifferingFromRowsAsync(db, ws.Id)).ShouldBe(0);
        await Invariants.AssertAsync(api, ws);
    }
}
