using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;
using Modules.Access.Public;

namespace Leads.Tests.Platform;

/// <summary>
/// Spec §8–§14 "every rule of §1 holds for them": the Part-two POSTs honour <c>Idempotency-Key</c>, and an answer that
/// shows a webhook subscription's signing secret is replayed whole but stored sealed, never in plaintext.
/// </summary>
public sealed class IdempotencyPartTwoTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static HttpRequestMessage Post(string url, object? body, string key)
    {
        var m = new HttpRequestMessage(HttpMethod.Post, url) { Content = body is null ? null : Http.Json(body) };
        m.Headers.Add("Idempotency-Key", key);
        return m;
    }

    /// <summary>Sends the request twice with one key; asserts the second is the first's answer, replayed.</summary>
    private static async Task<(HttpResponseMessage First, string Body)> TwiceAsync(HttpClient c, string url, object? body, string key)
    {
        var first = await c.SendAsync(Post(url, body, key));
        var text = await first.Content.ReadAsStringAsync();
        ((int)first.StatusCode).ShouldBeInRange(200, 299, text);
        first.Headers.Contains("Idempotent-Replayed").ShouldBeFalse();
        var again = await c.SendAsync(Post(url, body, key));
        again.StatusCode.ShouldBe(first.StatusCode);
        (await again.Content.ReadAsStringAsync()).ShouldBe(text);
        again.Headers.GetValues("Idempotent-Replayed").Single().ShouldBe("true");
        return (first, text);
    }

    private Task<byte[]> StoredBodyAsync(TestWorkspace ws, string key) =>
        api.ScalarAsync<byte[]>("SELECT response_body FROM access.idempotency_requests WHERE workspace_id = @Id AND key = @key", new { ws.Id, key });

    [Fact]
    public void Every_part_two_post_is_in_the_route_set()
    {
        string[] partTwo = [
            "POST /api/leads/{id}/not-duplicate", "POST /api/leads/{id}/unmerge", "POST /api/webhook-subscriptions",
            "POST /api/webhook-subscriptions/{id}/rotate-secret", "POST /api/webhook-subscriptions/{id}/test",
            "POST /api/webhook-subscriptions/{id}/deliveries/{deliveryId}/redeliver",
        ];
        partTwo.Where(r => !IdempotencyExtensions.IdempotentRoutes.Contains(r)).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_replayed_subscription_create_shows_the_same_secret_creates_one_and_stores_it_sealed()
    {
        var ws = await api.CreateWorkspaceAsync();
        var (_, text) = await TwiceAsync(ws.Full, "/api/webhook-subscriptions", new { url = "https://hooks.example.com/in", events = new[] { "lead.created" } }, "sub-1");
        var secret = JsonNode.Parse(text)!["secret"]!.GetValue<string>();
        secret.ShouldStartWith("whsec_");

        (await api.ScalarAsync<long>("SELECT count(*) FROM webhooks.subscriptions WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(1);
        var stored = await StoredBodyAsync(ws, "sub-1");
        Encoding.UTF8.GetString(stored).ShouldNotContain(secret);
        Encoding.UTF8.GetString(stored).ShouldNotContain(secret["whsec_".Length..]);
        (await api.ScalarAsync<bool>("SELECT response_sealed FROM access.idempotency_requests WHERE workspace_id = @Id AND key = 'sub-1'", new { ws.Id })).ShouldBeTrue();
    }

    [Fact]
    public async Task A_replayed_rotation_rotates_once_and_shows_the_same_new_secret()
    {
        var ws = await api.CreateWorkspaceAsync();
        var sub = JsonNode.Parse(await (await ws.Full.PostJsonAsync("/api/webhook-subscriptions",
            new { url = "https://hooks.example.com/in", events = new[] { "lead.created" } })).Content.ReadAsStringAsync())!;
        var before = await api.ScalarAsync<byte[]>("SELECT secret FROM webhooks.subscriptions WHERE workspace_id = @Id", new { ws.Id });

        var (_, text) = await TwiceAsync(ws.Full, $"/api/webhook-subscriptions/{sub["id"]}/rotate-secret", null, "rot-1");

        var secret = JsonNode.Parse(text)!["secret"]!.GetValue<string>();
        secret.ShouldNotBe(sub["secret"]!.GetValue<string>());
        Encoding.UTF8.GetString(await StoredBodyAsync(ws, "rot-1")).ShouldNotContain(secret["whsec_".Length..]);
        (await api.ScalarAsync<byte[]>("SELECT secret FROM webhooks.subscriptions WHERE workspace_id = @Id", new { ws.Id })).ShouldNotBe(before);
    }

    [Fact]
    public async Task A_replayed_not_duplicate_and_unmerge_run_once()
    {
        var ws = await api.CreateWorkspaceAsync();
        var pat = await ws.CreateLeadAsync(new { email = "pat@home.io", phone = "+1 415 555 0142" });
        var dana = await ws.CreateLeadAsync(new { email = "dana@home.io", phone = "+1 415 555 0142" });
        await TwiceAsync(ws.Full, $"/api/leads/{dana.Id()}/not-duplicate", null, "nd-1");
        (await api.ScalarAsync<long>("SELECT count(*) FROM duplicates.dismissed_pairs WHERE lead_a = @Id OR lead_b = @Id", new { Id = dana.Uuid() })).ShouldBe(1);

        var merged = await ws.CreateLeadAsync(new { email = "dee@initech.io", firstName = "Dee" });
        (await ws.Full.PostJsonAsync($"/api/leads/{pat.Id()}/merge", new { duplicateId = merged.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        await TwiceAsync(ws.Full, $"/api/leads/{pat.Id()}/unmerge", new { mergedLeadId = merged.Id() }, "um-1");
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.events WHERE lead_id = @Id AND type = 'unmerged'", new { Id = merged.Uuid() })).ShouldBe(1);
    }
}
