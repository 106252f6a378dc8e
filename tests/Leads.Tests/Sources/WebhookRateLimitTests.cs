using System.Net;
using Leads.Tests.Infrastructure;
using Leads.Tests.Platform;
using Microsoft.Extensions.Configuration;
using Modules.Leads.Webhooks;

namespace Leads.Tests.Sources;

public sealed class LowWebhookLimitFactory : RemoteAddressApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Webhooks:PerIpPerMinute"] = "3" };
}

public sealed class WebhookRateLimitTests(LowWebhookLimitFactory api) : IClassFixture<LowWebhookLimitFactory>
{
    private Task<HttpResponseMessage> PostAsync(string ip, string token, string json = """{"email":"rl@acme.com"}""")
    {
        var m = new HttpRequestMessage(HttpMethod.Post, $"/api/webhooks/{token}") { Content = Http.Json(json) };
        m.Headers.Add(RemoteAddressApiFactory.Header, ip);
        return api.Client().SendAsync(m);
    }

    private static async Task StartOfAMinuteAsync()
    {
        // Windows are clock minutes; start early in one so every call of a test shares it.
        var second = DateTime.UtcNow.Second;
        if (second > 50) await Task.Delay(TimeSpan.FromSeconds(61 - second));
    }

    [Fact]
    public async Task Beyond_the_per_ip_budget_the_webhook_answers_429_with_retry_after_and_other_addresses_are_unaffected()
    {
        var ws = await api.CreateWorkspaceAsync();
        var token = (await ws.CreateSourceAsync()).Str("webhookToken");
        await StartOfAMinuteAsync();

        (await PostAsync("203.0.113.10", token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        // Unknown tokens spend the budget too, so guessing tokens is throttled.
        await (await PostAsync("203.0.113.10", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "webhook_not_found");
        (await PostAsync("203.0.113.10", token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var limited = await PostAsync("203.0.113.10", token);
        await limited.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
        int.Parse(limited.Headers.GetValues("Retry-After").Single()).ShouldBeInRange(1, 60);
        // The same client over an IPv4-mapped IPv6 socket is the same client.
        await (await PostAsync("::ffff:203.0.113.10", token)).ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
        (await api.ScalarAsync<int>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(2);

        (await PostAsync("198.51.100.20", token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await PostAsync("2001:db8::1", token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        // The authenticated API has its own, per-key budget.
        (await ws.Full.GetAsync("/api/sources")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}

public sealed class WebhookRateLimiterTests
{
    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static IConfiguration Config(string? limit) => new ConfigurationBuilder()
        .AddInMemoryCollection(limit is null ? [] : [new("Webhooks:PerIpPerMinute", limit)]).Build();

    [Fact]
    public void The_default_budget_is_100_a_minute_per_address_and_a_new_minute_starts_afresh()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 3, 1, 12, 0, 15, TimeSpan.Zero));
        var limiter = new WebhookRateLimiter(Config(null), clock);
        limiter.Limit.ShouldBe(100);
        var ip = IPAddress.Parse("203.0.113.1");
        for (var i = 0; i < 100; i++) limiter.TryAcquire(ip, out _).ShouldBeTrue();
        limiter.TryAcquire(ip, out var retryAfter).ShouldBeFalse();
        retryAfter.ShouldBe(45);
        limiter.TryAcquire(IPAddress.Parse("203.0.113.2"), out _).ShouldBeTrue();

        clock.Now = clock.Now.AddSeconds(45);
        limiter.TryAcquire(ip, out _).ShouldBeTrue();
    }

    [Fact]
    public void The_budget_is_configurable_and_clients_without_an_address_share_one()
    {
        var limiter = new WebhookRateLimiter(Config("2"), new ManualClock(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero)));
        limiter.TryAcquire(null, out _).ShouldBeTrue();
        limiter.TryAcquire(null, out _).ShouldBeTrue();
        limiter.TryAcquire(null, out var retryAfter).ShouldBeFalse();
        retryAfter.ShouldBe(60);
    }
}
