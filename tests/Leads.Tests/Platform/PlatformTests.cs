using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Leads.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Leads.Tests.Platform;

/// <summary>Lets a test choose the socket's remote address (TestServer has none) via a test-only header.</summary>
public class RemoteAddressApiFactory : ApiFactory
{
    public const string Header = "X-Test-Remote-Address";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(s => s.AddSingleton<IStartupFilter>(new RemoteAddressFilter()));
    }

    private sealed class RemoteAddressFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((ctx, n) =>
            {
                if (ctx.Request.Headers.TryGetValue(Header, out var v)) ctx.Connection.RemoteIpAddress = IPAddress.Parse(v!);
                return n(ctx);
            });
            next(app);
        };
    }
}

public sealed class PlatformTests(RemoteAddressApiFactory api) : IClassFixture<RemoteAddressApiFactory>
{
    [Fact]
    public async Task Unknown_route_is_a_404_problem()
    {
        var ws = await api.CreateWorkspaceAsync();
        await (await ws.Full.GetAsync("/api/does-not-exist")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "route_not_found");
        await (await api.Client().GetAsync("/nothing/here")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "route_not_found");
    }

    [Fact]
    public async Task Bodyless_requests_with_a_json_content_type_are_served()
    {
        var ws = await api.CreateWorkspaceAsync();
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Delete })
        {
            var url = method == HttpMethod.Get ? "/api/users" : "/api/api-keys/key_00000000000000000000000000";
            var m = new HttpRequestMessage(method, url) { Content = new ByteArrayContent([]) };
            m.Content.Headers.ContentType = new("application/json");
            var r = await ws.Full.SendAsync(m);
            r.StatusCode.ShouldBe(method == HttpMethod.Get ? HttpStatusCode.OK : HttpStatusCode.NotFound, await r.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_write_without_any_body_or_content_type_is_validated_like_an_empty_object()
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await ws.Full.PostAsync("/api/users", null);
        (await r.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed"))["errors"]!["name"].ShouldNotBeNull();
        await (await ws.Full.PutAsync("/api/leads/lead_00000000000000000000000000/status", null)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Wrong_method_is_a_405_problem()
    {
        var ws = await api.CreateWorkspaceAsync();
        await (await ws.Full.PutAsync("/api/users", Http.Json("{}"))).ShouldBeProblemAsync(HttpStatusCode.MethodNotAllowed, "method_not_allowed");
    }

    [Fact]
    public async Task Malformed_json_is_400_invalid_json_without_internals()
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Full.PostAsync("/api/users", Http.Json("{\"name\": "))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_json");
        p.ToJsonString().ShouldNotContain("Modules.");
        p["errors"].ShouldNotBeNull();
    }

    [Fact]
    public async Task Wrong_json_type_is_400_naming_no_dotnet_type()
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Full.PatchAsync("/api/api-keys/key_01m8brdj0efn9aftk3j67h2v9c", Http.Json("""{"active":"yes"}""")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_json");
        p.ToJsonString().ShouldNotContain("System.");
    }

    [Fact]
    public async Task Unknown_json_properties_are_rejected_with_the_property_named()
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Full.PostAsync("/api/users", Http.Json("""{"name":"A","email":"a@b.io","role":"member","isAdmin":true}""")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "unknown_property");
        p["errors"]!["isAdmin"]!.AsArray().Single()!.GetValue<string>().ShouldBe("Unknown property 'isAdmin'.");
        p.ToJsonString().ShouldNotContain("Modules.");
        (await api.ScalarAsync<int>("SELECT count(*) FROM access.members WHERE email = 'a@b.io'")).ShouldBe(0);
    }

    [Fact]
    public async Task Problem_shape_has_every_rfc9457_member_and_a_trace_id()
    {
        var r = await api.Client().GetAsync("/api/users");
        var p = await r.ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "missing_api_key");
        p.Select(x => x.Key).ShouldBe(["type", "title", "status", "detail", "code", "traceId"], ignoreOrder: true);
    }

    [Fact]
    public async Task Health_live_and_ready_answer_without_a_key()
    {
        (await api.Client().GetAsync("/health/live")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var ready = await api.Client().GetAsync("/health/ready");
        ready.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ready.Content.ReadAsStringAsync()).ShouldBe("Healthy");
    }

    [Fact]
    public async Task OpenApi_document_lists_every_registered_endpoint_with_schemas_and_the_api_key_scheme()
    {
        var doc = (await (await api.Client().GetAsync("/openapi/v1.json")).BodyAsync()).AsObject();
        var paths = doc["paths"]!.AsObject();
        var documented = paths.SelectMany(p => p.Value!.AsObject().Select(m => $"{m.Key.ToUpperInvariant()} {p.Key}")).ToHashSet();

        // Every API route the app actually serves, read from its route table: a new route is covered automatically.
        var registered = api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api") || e.RoutePattern.RawText!.StartsWith("api"))
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? []).Select(m => $"{m} /{e.RoutePattern.RawText!.TrimStart('/')}"))
            .ToHashSet();
        registered.Count.ShouldBeGreaterThan(10);
        registered.Except(documented).ShouldBeEmpty();
        documented.ShouldContain("GET /api/leads");
        documented.ShouldContain("POST /api/users");

        var scheme = doc["components"]!["securitySchemes"]!["ApiKey"]!;
        scheme["type"]!.GetValue<string>().ShouldBe("apiKey");
        scheme["name"]!.GetValue<string>().ShouldBe("X-API-Key");
        scheme["in"]!.GetValue<string>().ShouldBe("header");
        paths["/api/users"]!["post"]!["requestBody"].ShouldNotBeNull();
        paths["/api/users"]!["post"]!["responses"]!["201"].ShouldNotBeNull();
        paths["/api/leads"]!["post"]!["responses"]!["201"].ShouldNotBeNull();
        paths["/api/leads"]!["get"]!["responses"]!["200"].ShouldNotBeNull();
        doc["components"]!["schemas"]!.AsObject().Count.ShouldBeGreaterThan(3);
        (await api.Client().GetAsync("/swagger/index.html")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Hangfire_dashboard_is_open_to_loopback_only_and_never_to_forwarded_requests()
    {
        HttpRequestMessage Req(string remote, string? forwardedFor = null)
        {
            var m = new HttpRequestMessage(HttpMethod.Get, "/hangfire");
            m.Headers.Add(RemoteAddressApiFactory.Header, remote);
            if (forwardedFor is not null) m.Headers.Add("X-Forwarded-For", forwardedFor);
            return m;
        }
        var c = api.Client();
        (await c.SendAsync(Req("127.0.0.1"))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await c.SendAsync(Req("::1"))).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await c.SendAsync(Req("203.0.113.9"))).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await c.SendAsync(Req("127.0.0.1", forwardedFor: "203.0.113.9"))).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await c.SendAsync(Req("203.0.113.9", forwardedFor: "127.0.0.1"))).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_dashboard_lists_imports_with_file_rows_and_progress_for_loopback_only()
    {
        var ws = await api.CreateWorkspaceAsync();
        var content = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes("email\na@acme.io\nb@acme.io\n"));
        file.Headers.ContentType = new("text/csv");
        content.Add(file, "file", "spring-fair.csv");
        (await ws.Full.PostAsync("/api/leads/import", content)).StatusCode.ShouldBe(HttpStatusCode.Accepted);

        var page = new HttpRequestMessage(HttpMethod.Get, "/hangfire/bulk-jobs");
        page.Headers.Add(RemoteAddressApiFactory.Header, "127.0.0.1");
        var r = await api.Client().SendAsync(page);
        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        var html = await r.Content.ReadAsStringAsync();
        html.ShouldContain("spring-fair.csv");
        html.ShouldContain("Progress");
        html.ShouldContain(ws.Name);

        var remote = new HttpRequestMessage(HttpMethod.Get, "/hangfire/bulk-jobs");
        remote.Headers.Add(RemoteAddressApiFactory.Header, "203.0.113.9");
        (await api.Client().SendAsync(remote)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_dashboard_lists_bulk_actions_with_their_action_and_progress_next_to_imports_and_exports()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { email = "bulk@acme.io" });
        var started = await ws.Full.PostAsync("/api/leads/bulk", Http.Json(new { all = true, action = "set_status", status = "closed" }));
        started.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var id = (await started.BodyAsync())["id"]!.GetValue<string>();

        var page = new HttpRequestMessage(HttpMethod.Get, $"/hangfire/bulk-jobs?workspace={ws.Name}");
        page.Headers.Add(RemoteAddressApiFactory.Header, "127.0.0.1");
        var html = await (await api.Client().SendAsync(page)).Content.ReadAsStringAsync();
        html.ShouldContain(id);
        html.ShouldContain("bulk set_status");
        html.ShouldContain("0 / 1");
    }

    [Fact]
    public async Task The_dashboard_links_each_import_to_its_job_by_typeid_and_filters_by_workspace_and_status()
    {
        var ws = await api.CreateWorkspaceAsync();
        var other = await api.CreateWorkspaceAsync();
        var content = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes("email\na@acme.io\n"));
        file.Headers.ContentType = new("text/csv");
        content.Add(file, "file", "linked.csv");
        var started = await ws.Full.PostAsync("/api/leads/import", content);
        var id = (await started.BodyAsync())["id"]!.GetValue<string>();

        async Task<string> PageAsync(string query)
        {
            var page = new HttpRequestMessage(HttpMethod.Get, "/hangfire/bulk-jobs" + query);
            page.Headers.Add(RemoteAddressApiFactory.Header, "127.0.0.1");
            var r = await api.Client().SendAsync(page);
            r.StatusCode.ShouldBe(HttpStatusCode.OK);
            return await r.Content.ReadAsStringAsync();
        }

        var mine = await PageAsync($"?workspace={ws.Name}&status=queued");
        var job = await api.ScalarAsync<long>("SELECT max(id) FROM hangfire.job");
        mine.ShouldContain($"<a href=\"/hangfire/jobs/details/{job}\">{id}</a>");
        (await PageAsync($"?workspace={other.Name}")).ShouldNotContain(id);
        (await PageAsync($"?workspace={ws.Name}&status=failed")).ShouldNotContain(id);
        (await PageAsync($"?workspace={ws.Name}&status=queued")).ShouldContain("<option selected>queued</option>");
    }

    [Fact]
    public async Task Responses_never_carry_a_stack_trace_even_for_bodies_the_framework_rejects()
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await ws.Full.PostAsync("/api/users", new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded"));
        ((int)r.StatusCode).ShouldBeInRange(400, 499);
        var text = await r.Content.ReadAsStringAsync();
        text.ShouldNotContain("   at ");
        JsonNode.Parse(text)!["code"].ShouldNotBeNull();
    }
}

public sealed class PasswordDashboardFactory : RemoteAddressApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Hangfire:DashboardPassword"] = "s3cret" };
}

public sealed class DashboardPasswordTests(PasswordDashboardFactory api) : IClassFixture<PasswordDashboardFactory>
{
    [Fact]
    public async Task With_a_password_set_the_dashboard_needs_basic_auth_from_anywhere()
    {
        HttpRequestMessage Req(string? basic)
        {
            var m = new HttpRequestMessage(HttpMethod.Get, "/hangfire");
            m.Headers.Add(RemoteAddressApiFactory.Header, "198.51.100.7");
            if (basic is not null) m.Headers.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(basic)));
            return m;
        }
        var c = api.Client();
        var denied = await c.SendAsync(Req(null));
        denied.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        denied.Headers.WwwAuthenticate.ToString().ShouldStartWith("Basic");
        (await c.SendAsync(Req("admin:wrong"))).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await c.SendAsync(Req("admin:s3cret"))).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}

public sealed class OpenApiSchemaTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Schemas_are_named_after_their_slice_and_ids_are_documented_as_typeids()
    {
        var doc = (await (await api.Client().GetAsync("/openapi/v1.json")).BodyAsync()).AsObject();
        var schemas = doc["components"]!["schemas"]!.AsObject();
        schemas.Select(s => s.Key).ShouldNotContain(k => System.Text.RegularExpressions.Regex.IsMatch(k, @"^(Request|Response)\d*$"));
        schemas.ContainsKey("CreateLeadRequest").ShouldBeTrue(string.Join(", ", schemas.Select(s => s.Key)));
        var id = schemas["LeadListItem"]!["properties"]!["id"]!;   // LeadDetail extends it (allOf)
        id["pattern"]!.GetValue<string>().ShouldStartWith("^lead_");
        id["format"].ShouldBeNull();
    }
}

public sealed class ProductionDashboardFactory : RemoteAddressApiFactory
{
    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseEnvironment("Production");
    }
}

/// <summary>Issue 16 item 7: the dashboard trusted any loopback request, with no anti-forgery token, in every environment.</summary>
public sealed class DashboardHardeningTests(ProductionDashboardFactory production) : IClassFixture<ProductionDashboardFactory>
{
    [Fact]
    public async Task Outside_development_the_dashboard_needs_a_password_even_from_loopback()
    {
        var m = new HttpRequestMessage(HttpMethod.Get, "/hangfire/bulk-jobs");
        m.Headers.Add(RemoteAddressApiFactory.Header, "127.0.0.1");
        (await production.Client().SendAsync(m)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_dashboard_post_needs_the_token_of_a_dashboard_page_and_its_own_origin()
    {
        await using var development = new RemoteAddressApiFactory();
        await development.InitializeAsync();
        var c = development.Client();
        var page = new HttpRequestMessage(HttpMethod.Get, "/hangfire/jobs/enqueued");
        page.Headers.Add(RemoteAddressApiFactory.Header, "127.0.0.1");
        var pageResponse = await c.SendAsync(page);
        var html = await pageResponse.Content.ReadAsStringAsync();
        pageResponse.StatusCode.ShouldBe(HttpStatusCode.OK);
        var header = Regex.Match(html, "<meta name=\"csrf-header\" content=\"([^\"]+)\"").Groups[1].Value;
        var token = Regex.Match(html, "<meta name=\"csrf-token\" content=\"([^\"]+)\"").Groups[1].Value;
        header.ShouldNotBeEmpty("the dashboard's pages carry an anti-forgery token");
        token.ShouldNotBeEmpty();
        var cookie = pageResponse.Headers.GetValues("Set-Cookie").Single(v => v.StartsWith("leads.dashboard.af=", StringComparison.Ordinal)).Split(';')[0];

        HttpRequestMessage Post(string? origin, string? fetchSite = null, bool withToken = true)
        {
            var m = new HttpRequestMessage(HttpMethod.Post, "/hangfire/jobs/enqueued/delete")
            {
                Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("jobs[]", "1")]),
            };
            m.Headers.Add(RemoteAddressApiFactory.Header, "127.0.0.1");
            m.Headers.Add("Cookie", cookie);
            if (withToken) m.Headers.Add(header, token);
            if (origin is not null) m.Headers.Add("Origin", origin);
            if (fetchSite is not null) m.Headers.Add("Sec-Fetch-Site", fetchSite);
            return m;
        }
        // Before: any loopback POST ran with no token, whichever page sent it.
        ((int)(await c.SendAsync(Post("http://localhost", withToken: false))).StatusCode).ShouldBe(403);
        var forged = Post("http://localhost", withToken: false);
        forged.Headers.Add(header, "CfDJ8-not-the-token");
        ((int)(await c.SendAsync(forged)).StatusCode).ShouldBe(403);
        // The origin check stays as defence in depth: a token is no licence for another site's page.
        (await c.SendAsync(Post("https://evil.example"))).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await c.SendAsync(Post("http://localhost", fetchSite: "cross-site"))).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        ((int)(await c.SendAsync(Post("http://localhost"))).StatusCode).ShouldBeInRange(200, 299);
        ((int)(await c.SendAsync(Post(null, fetchSite: "same-origin"))).StatusCode).ShouldBeInRange(200, 299);
    }
}
