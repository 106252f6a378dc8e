using System.Net;
using Dapper;
using Leads.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Leads.Tests.Access;

/// <summary>The host with a clock the test moves: how long a changed key row may still be answered from the key cache.</summary>
public sealed class ManualClockApiFactory : ApiFactory
{
    /// <summary>
    /// Starts at the real time and moves only when a test advances it: a cached row's age is exactly what the test says,
    /// however slowly the machine runs (it used to follow the real time too, and a request delayed 0.1 s on a loaded
    /// machine found the row of "1.9 s ago" already 2 s old). SQL that sets a time uses the clock's (@Now), never now().
    /// </summary>
    public sealed class ManualClock : TimeProvider
    {
        private long _ticks = DateTimeOffset.UtcNow.UtcTicks;
        public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);
        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }

    public ManualClock Clock { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(Clock));
    }
}

/// <summary>
/// Auth:KeyCacheSeconds (2 s): a key changed where this node cannot see it (another node, SQL, the CLI) is refused once
/// the bound has passed, and not before only because its row was cached; a change through this node's API is immediate
/// (AuthTests: deactivated, deleted, member removed — each after the key was used, so cached).
/// </summary>
public sealed class ApiKeyCacheTests(ManualClockApiFactory api) : IClassFixture<ManualClockApiFactory>
{
    private async Task<string> UsedKeyAsync(TestWorkspace ws)
    {
        var created = await (await ws.Full.PostJsonAsync("/api/api-keys",
            new { label = "cached", scope = "read", expiresAt = api.Clock.GetUtcNow().UtcDateTime.AddHours(1) })).BodyAsync();
        var key = created["key"]!.GetValue<string>();
        (await api.Client(key).GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);
        return key;
    }

    private async Task ChangeBySqlAsync(string sql, string key)
    {
        await using var db = await api.OpenDbAsync();
        (await db.ExecuteAsync(sql, new { P = key[..12], Now = api.Clock.GetUtcNow().UtcDateTime })).ShouldBe(1);
    }

    [Theory]
    [InlineData("UPDATE access.api_keys SET active = false WHERE prefix = @P", "api_key_inactive")]
    [InlineData("DELETE FROM access.api_keys WHERE prefix = @P", "invalid_api_key")]
    [InlineData("UPDATE access.api_keys SET expires_at = @Now - interval '1 second' WHERE prefix = @P", "api_key_expired")]
    [InlineData("UPDATE access.members SET deleted_at = now() WHERE id = (SELECT member_id FROM access.api_keys WHERE prefix = @P)", "invalid_api_key")]
    public async Task A_key_changed_elsewhere_is_refused_once_the_bound_has_passed(string change, string code)
    {
        var ws = await api.CreateWorkspaceAsync();
        var key = await UsedKeyAsync(ws);
        await ChangeBySqlAsync(change, key);

        api.Clock.Advance(TimeSpan.FromSeconds(1.9)); // within the bound: the row read 1.9 s ago still answers
        (await api.Client(key).GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);
        api.Clock.Advance(TimeSpan.FromSeconds(0.1)); // 2 s after it was read: looked up again
        await (await api.Client(key).GetAsync("/api/users")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, code);
    }

    [Fact]
    public async Task An_expiry_date_takes_effect_while_the_row_is_cached()
    {
        var ws = await api.CreateWorkspaceAsync();
        var key = await UsedKeyAsync(ws);
        var expiresAt = await api.ScalarAsync<DateTime>("SELECT expires_at FROM access.api_keys WHERE prefix = @P", new { P = key[..12] });
        api.Clock.Advance(expiresAt - api.Clock.GetUtcNow().UtcDateTime - TimeSpan.FromSeconds(0.5));
        (await api.Client(key).GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK); // read again and cached
        api.Clock.Advance(TimeSpan.FromSeconds(1)); // well within the bound, past the expiry
        await (await api.Client(key).GetAsync("/api/users")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key_expired");
    }

    [Fact]
    public async Task Refused_keys_are_not_cached_and_a_reactivated_key_works_at_once()
    {
        var ws = await api.CreateWorkspaceAsync();
        var key = await UsedKeyAsync(ws);
        await ChangeBySqlAsync("UPDATE access.api_keys SET active = false WHERE prefix = @P", key);
        api.Clock.Advance(TimeSpan.FromSeconds(2));
        await (await api.Client(key).GetAsync("/api/users")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key_inactive");
        await ChangeBySqlAsync("UPDATE access.api_keys SET active = true WHERE prefix = @P", key);
        (await api.Client(key).GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
