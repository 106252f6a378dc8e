using System.Net;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Platform;

public sealed class IdempotencyTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static HttpRequestMessage Post(string url, object body, string key)
    {
        var m = new HttpRequestMessage(HttpMethod.Post, url) { Content = Http.Json(body) };
        m.Headers.Add("Idempotency-Key", key);
        return m;
    }

    private async Task<long> LeadCountAsync(TestWorkspace ws) =>
        await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id });

    [Fact]
    public async Task Same_key_and_body_replays_the_stored_answer_without_running_again()
    {
        var ws = await api.CreateWorkspaceAsync();
        var first = await ws.Full.SendAsync(Post("/api/leads", new { email = "once@acme.io" }, "k-1"));
        first.StatusCode.ShouldBe(HttpStatusCode.Created);
        var firstBody = await first.Content.ReadAsStringAsync();
        var again = await ws.Full.SendAsync(Post("/api/leads", new { email = "once@acme.io" }, "k-1"));
        again.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await again.Content.ReadAsStringAsync()).ShouldBe(firstBody);
        again.Headers.Location.ShouldBe(first.Headers.Location);
        again.Headers.GetValues("Idempotent-Replayed").Single().ShouldBe("true");
        (await LeadCountAsync(ws)).ShouldBe(1);
    }

    [Fact]
    public async Task A_key_whose_first_request_still_beats_is_never_reclaimed_however_old_its_claim()
    {
        var ws = await api.CreateWorkspaceAsync();
        await using (var db = await api.OpenDbAsync())
        {
            // Claimed an hour ago (a long upload) and still running: its heartbeat is fresh.
            await Dapper.SqlMapper.ExecuteAsync(db, """
                INSERT INTO access.idempotency_requests (workspace_id, key, created_at, heartbeat_at)
                VALUES (@Id, 'long-1', now() - interval '1 hour', now())
                """, new { ws.Id });
            // Claimed an hour ago and silent for 11 minutes: its process died.
            await Dapper.SqlMapper.ExecuteAsync(db, """
                INSERT INTO access.idempotency_requests (workspace_id, key, created_at, heartbeat_at)
                VALUES (@Id, 'dead-1', now() - interval '1 hour', now() - interval '11 minutes')
                """, new { ws.Id });
        }
        await (await ws.Full.SendAsync(Post("/api/leads", new { email = "twice@acme.io" }, "long-1")))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict, "idempotency_key_in_flight");
        (await ws.Full.SendAsync(Post("/api/leads", new { email = "again@acme.io" }, "dead-1"))).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await LeadCountAsync(ws)).ShouldBe(1);
    }

    [Fact]
    public async Task Same_key_with_another_body_or_endpoint_is_422()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "T" });
        (await ws.Full.SendAsync(Post("/api/leads", new { email = "a@acme.io" }, "k-2"))).StatusCode.ShouldBe(HttpStatusCode.Created);
        await (await ws.Full.SendAsync(Post("/api/leads", new { email = "b@acme.io" }, "k-2"))).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        await (await ws.Full.SendAsync(Post($"/api/leads/{lead.Id()}/tags", new { name = "x" }, "k-2"))).ShouldBeProblemAsync(HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");
        (await LeadCountAsync(ws)).ShouldBe(2);
        (await api.ScalarAsync<long>("SELECT count(*) FROM tags.lead_tags WHERE lead_id = @Id", new { Id = lead.Uuid() })).ShouldBe(0);
    }

    [Fact]
    public async Task Keys_are_scoped_per_workspace()
    {
        var a = await api.CreateWorkspaceAsync();
        var b = await api.CreateWorkspaceAsync();
        (await a.Full.SendAsync(Post("/api/leads", new { email = "x@acme.io" }, "shared"))).StatusCode.ShouldBe(HttpStatusCode.Created);
        var other = await b.Full.SendAsync(Post("/api/leads", new { email = "x@acme.io" }, "shared"));
        other.StatusCode.ShouldBe(HttpStatusCode.Created);
        other.Headers.Contains("Idempotent-Replayed").ShouldBeFalse();
        (await LeadCountAsync(b)).ShouldBe(1);
    }

    [Fact]
    public async Task Concurrent_requests_with_one_key_execute_exactly_once()
    {
        var ws = await api.CreateWorkspaceAsync();
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => ws.Full.SendAsync(Post("/api/leads", new { email = "race@acme.io" }, "k-race"))));
        foreach (var r in responses)
        {
            if (r.StatusCode == HttpStatusCode.Conflict) await r.ShouldBeProblemAsync(HttpStatusCode.Conflict, "idempotency_key_in_flight");
            else r.StatusCode.ShouldBe(HttpStatusCode.Created);
        }
        responses.Count(r => r.StatusCode == HttpStatusCode.Created && !r.Headers.Contains("Idempotent-Replayed")).ShouldBe(1);
        (await LeadCountAsync(ws)).ShouldBe(1);
    }

    [Fact]
    public async Task A_replayed_merge_answers_the_survivor_again_and_a_replayed_tag_attach_stays_201()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.CreateLeadAsync(new { firstName = "S" });
        var d = await ws.CreateLeadAsync(new { firstName = "D" });
        var m1 = await ws.Full.SendAsync(Post($"/api/leads/{s.Id()}/merge", new { duplicateId = d.Id() }, "m-1"));
        var m2 = await ws.Full.SendAsync(Post($"/api/leads/{s.Id()}/merge", new { duplicateId = d.Id() }, "m-1"));
        m1.StatusCode.ShouldBe(HttpStatusCode.OK);
        m2.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await m2.Content.ReadAsStringAsync()).ShouldBe(await m1.Content.ReadAsStringAsync());

        var t1 = await ws.Full.SendAsync(Post($"/api/leads/{s.Id()}/tags", new { name = "vip" }, "t-1"));
        var t2 = await ws.Full.SendAsync(Post($"/api/leads/{s.Id()}/tags", new { name = "vip" }, "t-1"));
        t1.StatusCode.ShouldBe(HttpStatusCode.Created);
        t2.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.events WHERE lead_id = @Id AND type = 'tag_added'", new { Id = s.Uuid() })).ShouldBe(1);
    }

    [Fact]
    public async Task Refused_requests_do_not_claim_the_key_and_malformed_keys_are_400()
    {
        var ws = await api.CreateWorkspaceAsync();
        await (await ws.Read.SendAsync(Post("/api/leads", new { email = "r@acme.io" }, "k-3"))).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        var r = await ws.Full.SendAsync(Post("/api/leads", new { email = "r@acme.io" }, "k-3"));
        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        r.Headers.Contains("Idempotent-Replayed").ShouldBeFalse();
        (await (await ws.Full.SendAsync(Post("/api/leads", new { email = "r2@acme.io" }, new string('k', 256))))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed"))["errors"]!["Idempotency-Key"].ShouldNotBeNull();
        await (await ws.Full.SendAsync(Post("/api/leads", new { email = "r3@acme.io" }, "has space"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Validation_failures_are_replayed_too_but_server_errors_are_not_stored()
    {
        var ws = await api.CreateWorkspaceAsync();
        await (await ws.Full.SendAsync(Post("/api/leads", new { email = "bad" }, "k-4"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var replay = await ws.Full.SendAsync(Post("/api/leads", new { email = "bad" }, "k-4"));
        replay.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        replay.Headers.Contains("Idempotent-Replayed").ShouldBeTrue();
        (await api.ScalarAsync<long>("SELECT count(*) FROM access.idempotency_requests WHERE workspace_id = @Id AND key = 'k-4' AND completed_at IS NOT NULL", new { ws.Id })).ShouldBe(1);
    }
}
