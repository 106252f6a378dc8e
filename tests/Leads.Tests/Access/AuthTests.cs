using System.Net;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Access;

public sealed class AuthTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task No_key_is_401_problem_with_WWW_Authenticate()
    {
        var r = await api.Client().GetAsync("/api/users");
        await r.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "missing_api_key");
        r.Headers.WwwAuthenticate.ToString().ShouldStartWith("ApiKey");
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("5l_live_")]
    [InlineData("5l_test_abcdefghijklmnopqrstuvwxyzABCDEF123456")]
    [InlineData("5l_live_abcdefghijklmnopqrstuvwxyzABCDEF!23456")]
    public async Task Malformed_key_is_401_invalid_api_key(string key)
    {
        var r = await api.Client(key).GetAsync("/api/users");
        await r.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
        r.Headers.WwwAuthenticate.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Bad_checksum_is_401_without_touching_a_valid_key()
    {
        var ws = await api.CreateWorkspaceAsync();
        var last = ws.FullKey[^1];
        var tampered = ws.FullKey[..^1] + (last == 'a' ? 'b' : 'a');
        await (await api.Client(tampered).GetAsync("/api/users")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
        (await ws.Full.GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Well_formed_unknown_key_is_401()
    {
        var ws = await api.CreateWorkspaceAsync();
        // Same format and a valid checksum, but never issued: delete it, then use it.
        var key = await api.CreateKeyAsync(ws.Name, "full", "owner");
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("DELETE FROM access.api_keys WHERE prefix = @P", new { P = key[..12] });
        await (await api.Client(key).GetAsync("/api/users")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
    }

    [Fact]
    public async Task Authorization_ApiKey_header_is_accepted()
    {
        var ws = await api.CreateWorkspaceAsync();
        (await api.ClientWithAuthorization(ws.ReadKey).GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Both_headers_with_the_same_key_work_with_different_keys_are_401()
    {
        var ws = await api.CreateWorkspaceAsync();
        var same = api.ClientWithAuthorization(ws.FullKey);
        same.DefaultRequestHeaders.Add("X-API-Key", ws.FullKey);
        (await same.GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var different = api.ClientWithAuthorization(ws.FullKey);
        different.DefaultRequestHeaders.Add("X-API-Key", ws.ReadKey);
        await (await different.GetAsync("/api/users")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "ambiguous_credentials");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_Authorization_ApiKey_headers_are_401_ambiguous_whichever_keys_they_carry(bool sameKey)
    {
        var ws = await api.CreateWorkspaceAsync();
        var req = new HttpRequestMessage(HttpMethod.Get, "/api/users");
        req.Headers.TryAddWithoutValidation("Authorization", $"ApiKey {ws.ReadKey}");
        req.Headers.TryAddWithoutValidation("Authorization", $"ApiKey {(sameKey ? ws.ReadKey : ws.FullKey)}");
        await (await api.Client().SendAsync(req)).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "ambiguous_credentials");
    }

    [Theory]
    [InlineData("api_key")]
    [InlineData("apiKey")]
    [InlineData("key")]
    [InlineData("X-API-Key")]
    public async Task Key_in_query_string_is_never_accepted(string param)
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await api.Client().GetAsync($"/api/users?{param}={ws.FullKey}");
        await r.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "missing_api_key");
    }

    [Fact]
    public async Task Deactivated_key_is_refused_on_its_very_next_request_and_works_again_when_reactivated()
    {
        var ws = await api.CreateWorkspaceAsync();
        var created = await (await ws.Full.PostJsonAsync("/api/api-keys", new { label = "temp", scope = "read" })).BodyAsync();
        var key = created["key"]!.GetValue<string>();
        var id = created["id"]!.GetValue<string>();
        (await api.Client(key).GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);

        (await ws.Full.PatchJsonAsync($"/api/api-keys/{id}", new { active = false })).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await api.Client(key).GetAsync("/api/users")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key_inactive");

        (await ws.Full.PatchJsonAsync($"/api/api-keys/{id}", new { active = true })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await api.Client(key).GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Deleted_key_is_refused_on_its_very_next_request()
    {
        var ws = await api.CreateWorkspaceAsync();
        var created = await (await ws.Full.PostJsonAsync("/api/api-keys", new { label = "temp", scope = "full" })).BodyAsync();
        var key = created["key"]!.GetValue<string>();
        (await api.Client(key).GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.DeleteAsync($"/api/api-keys/{created["id"]}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await (await api.Client(key).GetAsync("/api/users")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
    }

    [Fact]
    public async Task Expired_key_is_401_api_key_expired()
    {
        var ws = await api.CreateWorkspaceAsync();
        var created = await (await ws.Full.PostJsonAsync("/api/api-keys",
            new { label = "short", scope = "read", expiresAt = DateTime.UtcNow.AddHours(1) })).BodyAsync();
        var key = created["key"]!.GetValue<string>();
        // Expired by SQL before its first use (a use would keep its row for up to Auth:KeyCacheSeconds: ApiKeyCacheTests).
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("UPDATE access.api_keys SET expires_at = now() - interval '1 second' WHERE prefix = @P", new { P = key[..12] });
        await (await api.Client(key).GetAsync("/api/users")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "api_key_expired");
    }

    [Fact]
    public async Task Keys_of_a_removed_member_stop_working()
    {
        var ws = await api.CreateWorkspaceAsync();
        var adminKey = await api.CreateKeyAsync(ws.Name, "full", "admin");
        (await api.Client(adminKey).GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var users = await (await ws.Full.GetAsync("/api/users")).BodyAsync();
        var admin = users.AsArray().Single(u => u!["role"]!.GetValue<string>() == "admin")!;
        (await ws.Full.DeleteAsync($"/api/users/{admin["id"]}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await (await api.Client(adminKey).GetAsync("/api/users")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "invalid_api_key");
    }

    [Fact]
    public async Task Read_key_may_GET_but_gets_403_insufficient_scope_on_writes()
    {
        var ws = await api.CreateWorkspaceAsync();
        (await ws.Read.GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await ws.Read.PostJsonAsync("/api/users", new { name = "X", email = "x@y.io", role = "member" }))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        await (await ws.Read.PostJsonAsync("/api/api-keys", new { label = "x", scope = "read" }))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        await using var db = await api.OpenDbAsync();
        (await db.ExecuteScalarAsync<int>("SELECT count(*) FROM access.members WHERE email = 'x@y.io'")).ShouldBe(0);
    }

    [Fact]
    public async Task Member_role_key_gets_403_insufficient_role_on_admin_endpoints()
    {
        var ws = await api.CreateWorkspaceAsync();
        var memberFull = api.Client(await api.CreateKeyAsync(ws.Name, "full", "member"));
        (await memberFull.GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await memberFull.GetAsync("/api/api-keys")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_role");
        await (await memberFull.PostJsonAsync("/api/users", new { name = "X", email = "m@y.io", role = "member" }))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_role");
        await (await memberFull.PostJsonAsync("/api/api-keys", new { label = "x", scope = "read" }))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_role");

        // A read key of a member: scope is reported first.
        var memberRead = api.Client(await api.CreateKeyAsync(ws.Name, "read", "member"));
        await (await memberRead.PostJsonAsync("/api/users", new { name = "X", email = "m@y.io", role = "member" }))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
    }

    [Fact]
    public async Task Admin_read_key_may_list_keys()
    {
        var ws = await api.CreateWorkspaceAsync();
        (await ws.Read.GetAsync("/api/api-keys")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Last_used_at_is_recorded_at_most_once_a_minute()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.Read.GetAsync("/api/users");
        await using var db = await api.OpenDbAsync();
        var first = await db.ExecuteScalarAsync<DateTime?>("SELECT last_used_at FROM access.api_keys WHERE prefix = @P", new { P = ws.ReadKey[..12] });
        first.ShouldNotBeNull();
        await ws.Read.GetAsync("/api/users");
        var second = await db.ExecuteScalarAsync<DateTime?>("SELECT last_used_at FROM access.api_keys WHERE prefix = @P", new { P = ws.ReadKey[..12] });
        second.ShouldBe(first);
    }
}
