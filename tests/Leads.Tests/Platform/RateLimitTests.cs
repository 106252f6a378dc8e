using System.Net;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Platform;

public sealed class LowRateLimitFactory : ApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["RateLimit:PerKeyPerMinute"] = "5" };
}

public sealed class RateLimitTests(LowRateLimitFactory api) : IClassFixture<LowRateLimitFactory>
{
    [Fact]
    public async Task Every_authenticated_response_carries_the_headers_and_the_limit_is_per_key()
    {
        var ws = await api.CreateWorkspaceAsync();
        // Windows are per clock minute; start near the start of one so all six calls share it.
        var second = DateTime.UtcNow.Second;
        if (second > 50) await Task.Delay(TimeSpan.FromSeconds(61 - second));

        for (var i = 1; i <= 5; i++)
        {
            var r = await ws.Read.GetAsync("/api/users");
            r.StatusCode.ShouldBe(HttpStatusCode.OK);
            r.Headers.GetValues("RateLimit-Limit").Single().ShouldBe("5");
            r.Headers.GetValues("RateLimit-Remaining").Single().ShouldBe((5 - i).ToString());
            int.Parse(r.Headers.GetValues("RateLimit-Reset").Single()).ShouldBeInRange(1, 60);
        }
        var limited = await ws.Read.GetAsync("/api/users");
        await limited.ShouldBeProblemAsync(HttpStatusCode.TooManyRequests, "rate_limited");
        int.Parse(limited.Headers.GetValues("Retry-After").Single()).ShouldBeInRange(1, 60);
        limited.Headers.GetValues("RateLimit-Remaining").Single().ShouldBe("0");

        // Another key of the same workspace has its own budget.
        (await ws.Full.GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Unauthenticated_requests_do_not_spend_a_key_budget()
    {
        var r = await api.Client().GetAsync("/api/users");
        r.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        r.Headers.Contains("RateLimit-Limit").ShouldBeFalse();
    }
}
