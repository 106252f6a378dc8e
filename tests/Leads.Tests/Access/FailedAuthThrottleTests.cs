using System.Net;
using Leads.Tests.Infrastructure;
using Leads.Tests.Platform;

namespace Leads.Tests.Access;

public sealed class LowFailedAuthLimitFactory : RemoteAddressApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Auth:FailuresPerIpPerMinute"] = "3" };
}

/// <summary>Issue 16 item 8: failed authentication was never throttled, so keys could be guessed at full request speed.</summary>
public sealed class FailedAuthThrottleTests(LowFailedAuthLimitFactory api) : IClassFixture<LowFailedAuthLimitFactory>
{
    private Task<HttpResponseMessage> GetAsync(string ip, string? key)
    {
        var m = new HttpRequestMessage(HttpMethod.Get, "/api/users");
        m.Headers.Add(RemoteAddressApiFactory.Header, ip);
        if (key is not null) m.Headers.Add("X-API-Key", key);
        return api.Client().SendAsync(m);
    }

    [Fact]
    public async Task Past_the_failure_budget_an_address_gets_429_with_retry_after_for_any_key_and_other_addresses_do_not()
    {
        var ws = await api.CreateWorkspaceAsync();
        // Windows are clock minutes; start early in one so every call of the test shares it.
        if (DateTime.UtcNow.Second > 50) await Task.Delay(TimeSpan.FromSeconds(61 - DateTime.UtcNow.Second));
        var wrong = "5l_live_" + new string('A', 43);

        // Requests without a key guess nothing and are not counted.
        for (var i = 0; i < 5; i++) await (await GetAsync("203.0.113.7", null)).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "missing_api_key");
        await (await GetAsync("203.0.113.7", wrong)).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
        await (await GetAsync("203.0.113.7", "not-a-key")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
        (await GetAsync("203.0.113.7", ws.ReadKey)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await GetAsync("203.0.113.7", wrong)).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");

        var limited = await GetAsync("203.0.113.7", wrong);
        var problem = await limited.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
        problem["detail"]!.GetValue<string>().ShouldContain("failed API keys");
        int.Parse(limited.Headers.GetValues("Retry-After").Single()).ShouldBeInRange(1, 60);
        // While throttled, no key from the address is looked up, a valid one included.
        await (await GetAsync("203.0.113.7", ws.ReadKey)).ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
        await (await GetAsync("::ffff:203.0.113.7", ws.ReadKey)).ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");

        (await GetAsync("198.51.100.9", ws.ReadKey)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await GetAsync("198.51.100.9", wrong)).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
    }
}
