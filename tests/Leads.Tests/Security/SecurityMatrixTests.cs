using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Leads.Tests.Security;

/// <summary>Keeps every log line the host writes, to prove no plaintext key ever reaches a log.</summary>
public sealed class LogCapturingFactory : ApiFactory
{
    public ConcurrentQueue<string> Lines { get; } = new();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Debug" };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(l => l.AddProvider(new Provider(Lines)));
    }

    private sealed class Provider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string category) => new Logger(category, lines);
        public void Dispose() { }
    }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        // Scopes are written with every line by the JSON console logger (IncludeScopes), so they count as logged.
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            lines.Enqueue($"{category} scope: {state}");
            return null;
        }
        public bool IsEnabled(LogLevel level) => true;
        public void Log<TState>(LogLevel level, EventId id, TState state, Exception? ex, Func<TState, Exception?, string> format) =>
            lines.Enqueue($"{category}: {format(state, ex)} {ex}");
    }
}

/// <summary>
/// Security tests generated from the route table: every registered /api route must have an entry in
/// <see cref="Matrix"/> (a new route fails the first test until it is covered), and every entry is then
/// called without a key, with a read key, and with another workspace's IDs.
/// </summary>
public sealed partial class SecurityMatrixTests(LogCapturingFactory api) : IClassFixture<LogCapturingFactory>
{
    [System.Text.RegularExpressions.GeneratedRegex("5l_live_[0-9A-Za-z]{38}")]
    private static partial System.Text.RegularExpressions.Regex FullKeyPattern();
    private static readonly System.Text.RegularExpressions.Regex FullKey = FullKeyPattern();

    /// <summary>Objects of one workspace that routes can point at, plus a marker string only its data contains.</summary>
    public sealed record World(TestWorkspace Ws, string Lead, string Lead2, string Source, string Token, string Tag, string User, string Key,
        string? Import, string? Export, string Marker, string? Bulk = null, string Subscription = "", string Delivery = "");

    private delegate HttpRequestMessage Call(World w);

    private static HttpRequestMessage R(HttpMethod m, string url, object? body = null) =>
        new(m, url) { Content = body is null ? null : Http.Json(body) };

    private static HttpRequestMessage Csv(string url) =>
        new(HttpMethod.Post, url) { Content = new StringContent("email,firstName\nm@x.io,M\n", Encoding.UTF8, "text/csv") };

    private static readonly Dictionary<string, Call> Matrix = new()
    {
        ["GET /api/api-keys"] = _ => R(HttpMethod.Get, "/api/api-keys"),
        ["POST /api/api-keys"] = _ => R(HttpMethod.Post, "/api/api-keys", new { label = "m", scope = "read" }),
        ["PATCH /api/api-keys/{id}"] = w => R(HttpMethod.Patch, $"/api/api-keys/{w.Key}", new { label = "renamed" }),
        ["DELETE /api/api-keys/{id}"] = w => R(HttpMethod.Delete, $"/api/api-keys/{w.Key}"),
        ["GET /api/users"] = _ => R(HttpMethod.Get, "/api/users"),
        ["POST /api/users"] = _ => R(HttpMethod.Post, "/api/users", new { name = "M", email = $"m{Guid.NewGuid():N}@x.io", role = "member" }),
        ["DELETE /api/users/{id}"] = w => R(HttpMethod.Delete, $"/api/users/{w.User}"),
        ["GET /api/leads"] = _ => R(HttpMethod.Get, "/api/leads"),
        ["POST /api/leads"] = _ => R(HttpMethod.Post, "/api/leads", new { email = "new@x.io" }),
        ["GET /api/leads/stats"] = _ => R(HttpMethod.Get, "/api/leads/stats"),
        ["GET /api/leads/export"] = _ => R(HttpMethod.Get, "/api/leads/export"),
        ["GET /api/leads/{id}"] = w => R(HttpMethod.Get, $"/api/leads/{w.Lead}"),
        ["DELETE /api/leads/{id}"] = w => R(HttpMethod.Delete, $"/api/leads/{w.Lead}"),
        ["GET /api/leads/{id}/events"] = w => R(HttpMethod.Get, $"/api/leads/{w.Lead}/events"),
        ["GET /api/leads/{id}/duplicates"] = w => R(HttpMethod.Get, $"/api/leads/{w.Lead}/duplicates"),
        ["PUT /api/leads/{id}/status"] = w => R(HttpMethod.Put, $"/api/leads/{w.Lead}/status", new { status = "closed" }),
        ["PUT /api/leads/{id}/notes"] = w => R(HttpMethod.Put, $"/api/leads/{w.Lead}/notes", new { notes = "pwned" }),
        ["PATCH /api/leads/{id}"] = w => R(HttpMethod.Patch, $"/api/leads/{w.Lead}", new { firstName = "pwned" }),
        ["PUT /api/leads/{id}/assign"] = w => R(HttpMethod.Put, $"/api/leads/{w.Lead}/assign", new { userId = (string?)null }),
        ["POST /api/leads/{id}/merge"] = w => R(HttpMethod.Post, $"/api/leads/{w.Lead}/merge", new { duplicateId = w.Lead2 }),
        ["POST /api/leads/{id}/not-duplicate"] = w => R(HttpMethod.Post, $"/api/leads/{w.Lead}/not-duplicate"),
        ["POST /api/leads/{id}/unmerge"] = w => R(HttpMethod.Post, $"/api/leads/{w.Lead}/unmerge", new { mergedLeadId = w.Lead2 }),
        ["GET /api/leads/{id}/merges"] = w => R(HttpMethod.Get, $"/api/leads/{w.Lead}/merges"),
        ["POST /api/leads/{id}/tags"] = w => R(HttpMethod.Post, $"/api/leads/{w.Lead}/tags", new { name = "pwned" }),
        ["DELETE /api/leads/{id}/tags/{tagId}"] = w => R(HttpMethod.Delete, $"/api/leads/{w.Lead}/tags/{w.Tag}"),
        ["GET /api/tags"] = _ => R(HttpMethod.Get, "/api/tags"),
        ["DELETE /api/tags/{id}"] = w => R(HttpMethod.Delete, $"/api/tags/{w.Tag}"),
        ["GET /api/sources"] = _ => R(HttpMethod.Get, "/api/sources"),
        ["POST /api/sources"] = _ => R(HttpMethod.Post, "/api/sources", new { name = "M" }),
        ["GET /api/sources/{id}"] = w => R(HttpMethod.Get, $"/api/sources/{w.Source}"),
        ["PUT /api/sources/{id}"] = w => R(HttpMethod.Put, $"/api/sources/{w.Source}", new { name = "pwned" }),
        ["DELETE /api/sources/{id}"] = w => R(HttpMethod.Delete, $"/api/sources/{w.Source}"),
        ["POST /api/sources/{id}/regenerate-token"] = w => R(HttpMethod.Post, $"/api/sources/{w.Source}/regenerate-token"),
        ["POST /api/webhooks/{token}"] = w => R(HttpMethod.Post, $"/api/webhooks/{w.Token}", new { email = "hook@x.io" }),
        ["POST /api/webhooks/inbound/{token}"] = w => R(HttpMethod.Post, $"/api/webhooks/inbound/{w.Token}", new { email = "hook@x.io" }),
        ["POST /api/leads/import"] = _ => Csv("/api/leads/import"),
        ["GET /api/leads/imports"] = _ => R(HttpMethod.Get, "/api/leads/imports"),
        ["GET /api/leads/imports/{id}"] = w => R(HttpMethod.Get, $"/api/leads/imports/{w.Import}"),
        ["GET /api/leads/imports/{id}/errors"] = w => R(HttpMethod.Get, $"/api/leads/imports/{w.Import}/errors"),
        ["POST /api/leads/exports"] = _ => R(HttpMethod.Post, "/api/leads/exports", new { }),
        ["GET /api/leads/exports/{id}"] = w => R(HttpMethod.Get, $"/api/leads/exports/{w.Export}"),
        ["GET /api/leads/exports/{id}/file"] = w => R(HttpMethod.Get, $"/api/leads/exports/{w.Export}/file"),
        ["POST /api/leads/bulk"] = _ => R(HttpMethod.Post, "/api/leads/bulk", new { filter = new { status = "new" }, action = "set_status", status = "closed" }),
        ["GET /api/leads/bulk"] = _ => R(HttpMethod.Get, "/api/leads/bulk"),
        ["GET /api/leads/bulk/{id}"] = w => R(HttpMethod.Get, $"/api/leads/bulk/{w.Bulk}"),
        ["GET /api/events"] = _ => R(HttpMethod.Get, "/api/events"),
        ["GET /api/webhook-subscriptions"] = _ => R(HttpMethod.Get, "/api/webhook-subscriptions"),
        ["POST /api/webhook-subscriptions"] = _ => R(HttpMethod.Post, "/api/webhook-subscriptions", new { url = "https://hooks.example.com/in", events = new[] { "lead.created" } }),
        ["GET /api/webhook-subscriptions/{id}"] = w => R(HttpMethod.Get, $"/api/webhook-subscriptions/{w.Subscription}"),
        ["PATCH /api/webhook-subscriptions/{id}"] = w => R(HttpMethod.Patch, $"/api/webhook-subscriptions/{w.Subscription}", new { url = "https://pwned.example.com/" }),
        ["DELETE /api/webhook-subscriptions/{id}"] = w => R(HttpMethod.Delete, $"/api/webhook-subscriptions/{w.Subscription}"),
        ["POST /api/webhook-subscriptions/{id}/rotate-secret"] = w => R(HttpMethod.Post, $"/api/webhook-subscriptions/{w.Subscription}/rotate-secret"),
        ["POST /api/webhook-subscriptions/{id}/test"] = w => R(HttpMethod.Post, $"/api/webhook-subscriptions/{w.Subscription}/test"),
        ["GET /api/webhook-subscriptions/{id}/deliveries"] = w => R(HttpMethod.Get, $"/api/webhook-subscriptions/{w.Subscription}/deliveries"),
        ["POST /api/webhook-subscriptions/{id}/deliveries/{deliveryId}/redeliver"] = w =>
            R(HttpMethod.Post, $"/api/webhook-subscriptions/{w.Subscription}/deliveries/{w.Delivery}/redeliver"),
    };

    private static bool IsWebhook(string route) => route.StartsWith("POST /api/webhooks/", StringComparison.Ordinal);
    private static bool TakesId(string route) => route.Contains('{');

    private HashSet<string> Registered() => api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
        .Where(e => e.RoutePattern.RawText!.TrimStart('/').StartsWith("api/", StringComparison.Ordinal))
        .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IHttpMethodMetadata>()?.HttpMethods ?? [])
            .Select(m => $"{m} /{e.RoutePattern.RawText!.TrimStart('/')}"))
        .ToHashSet();

    private async Task<World> WorldAsync()
    {
        var ws = await api.CreateWorkspaceAsync();
        var marker = "mk" + Guid.NewGuid().ToString("N")[..12];
        var lead = await ws.CreateLeadAsync(new { email = $"{marker}@victim.io", firstName = marker, notes = marker });
        var lead2 = await ws.CreateLeadAsync(new { email = $"{marker}2@victim.io" });
        var source = await (await ws.Full.PostJsonAsync("/api/sources", new { name = marker })).BodyAsync();
        var tag = await (await ws.Full.PostJsonAsync($"/api/leads/{lead.Id()}/tags", new { name = marker })).BodyAsync();
        var user = await (await ws.Full.PostJsonAsync("/api/users", new { name = marker, email = $"{marker}@victim.io", role = "member" })).BodyAsync();
        var key = await (await ws.Full.PostJsonAsync("/api/api-keys", new { label = marker, scope = "read" })).BodyAsync();
        var routes = Registered();
        string? import = null, export = null;
        if (routes.Contains("POST /api/leads/import"))
            import = (await (await ws.Full.SendAsync(Csv("/api/leads/import"))).BodyAsync())["id"]?.GetValue<string>();
        if (routes.Contains("POST /api/leads/exports"))
            export = (await (await ws.Full.PostJsonAsync("/api/leads/exports", new { })).BodyAsync())["id"]?.GetValue<string>();
        string? bulk = null;
        if (routes.Contains("POST /api/leads/bulk"))
            bulk = (await (await ws.Full.PostJsonAsync("/api/leads/bulk", new { filter = new { search = "no such lead" }, action = "delete" })).BodyAsync())["id"]?.GetValue<string>();
        var subscription = (await (await ws.Full.PostJsonAsync("/api/webhook-subscriptions",
            new { url = $"https://{marker}.example.com/in", events = new[] { "lead.created" }, description = marker })).BodyAsync()).Id();
        var delivery = Guid.CreateVersion7();
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync(
                "INSERT INTO webhooks.deliveries (id, subscription_id, workspace_id, kind, event_ids, status) " +
                "SELECT @D, id, workspace_id, 'batch', '{}', 'succeeded' FROM webhooks.subscriptions WHERE workspace_id = @W",
                new { D = delivery, W = ws.Id });
        return new World(ws, lead.Id(), lead2.Id(), source.Id(), source["webhookToken"]!.GetValue<string>(), tag.Id(), user.Id(), key.Id(),
            import, export, marker, bulk, subscription, Kernel.Ids.TypeId.Format("whd", delivery));
    }

    /// <summary>Every row of every table that carries a workspace_id, for this workspace, as one string (last_used_at aside).</summary>
    private async Task<string> FingerprintAsync(Guid workspaceId)
    {
        await using var db = await api.OpenDbAsync();
        var tables = (await db.QueryAsync<string>("""
            SELECT format('%I.%I', table_schema, table_name) FROM information_schema.columns
            WHERE column_name = 'workspace_id' AND table_schema IN ('access', 'leads', 'tags', 'duplicates', 'import', 'webhooks')
              AND table_name NOT LIKE 'v\_%' AND table_name <> 'idempotency_requests'
            ORDER BY 1
            """)).ToList();
        tables.Count.ShouldBeGreaterThan(5);
        var sb = new StringBuilder();
        foreach (var t in tables)
        {
            var rows = await db.QueryAsync<string>($"SELECT ((row_to_json(x)::jsonb) - 'last_used_at')::text FROM {t} x WHERE workspace_id = @W ORDER BY 1", new { W = workspaceId });
            sb.Append(t).Append(':').AppendJoin('\n', rows).Append('\n');
        }
        return sb.ToString();
    }

    [Fact]
    public async Task No_log_line_or_scope_carries_a_webhook_token_query_string_request_body_or_key_even_at_debug_level()
    {
        var w = await WorldAsync();
        var secret = "qs" + Guid.NewGuid().ToString("N")[..12];
        var body = "bd" + Guid.NewGuid().ToString("N")[..12];
        (await api.Client().PostAsync($"/api/webhooks/{w.Token}", Http.Json(new { email = $"{body}@x.io", notes = body }))).IsSuccessStatusCode.ShouldBeTrue();
        (await api.Client().PostAsync($"/api/webhooks/inbound/whk_{secret}", Http.Json(new { email = "x@x.io" }))).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await w.Ws.Read.GetAsync($"/api/leads?search={secret}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await w.Ws.Full.PostJsonAsync("/api/leads", new { email = $"{body}2@x.io", notes = body })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await w.Ws.Full.PostAsync("/api/leads", Http.Json($"{{\"email\": \"{body}\""))).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await api.Client().GetAsync($"/no/such/route/{secret}?{secret}=1")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await api.ClientWithAuthorization(w.Ws.FullKey).GetAsync("/api/leads")).StatusCode.ShouldBe(HttpStatusCode.OK);

        api.Lines.ShouldNotBeEmpty();
        foreach (var line in api.Lines)
        {
            line.ShouldNotContain(w.Token, customMessage: line);
            line.ShouldNotContain(secret, customMessage: line);
            line.ShouldNotContain(body, customMessage: line);
            line.ShouldNotContain(w.Ws.FullKey, customMessage: line);
            line.ShouldNotContain(w.Ws.ReadKey, customMessage: line);
        }
    }

    /// <summary>Bodies that give every optional string field of a write route a value, where the matrix's minimal body has none or few.</summary>
    private static readonly Dictionary<string, Func<World, object>> TextBodies = new()
    {
        ["POST /api/leads"] = _ => new { email = "t@x.io", firstName = "T", lastName = "T", phone = "+14155552671", company = "C", notes = "N", metadata = new { custom = "v" } },
        ["POST /api/sources"] = _ => new { name = "S", fieldMappings = new Dictionary<string, string> { ["email"] = "E-mail" } },
        ["PUT /api/sources/{id}"] = _ => new { name = "S", fieldMappings = new Dictionary<string, string> { ["email"] = "E-mail" } },
        ["PUT /api/leads/{id}/assign"] = w => new { userId = w.User },
        ["POST /api/leads/exports"] = _ => new { status = "new", search = "s", startDate = "2026-01-01", endDate = "2026-12-31", duplicates = "only", tag = "t" },
        ["POST /api/leads/bulk"] = _ => new
        {
            filter = new { status = "new", search = "s", startDate = "2026-01-01", endDate = "2026-12-31", duplicates = "only", tag = "t",
                           updatedSince = "2026-01-01", updatedBefore = "2026-12-31" },
            action = "add_tag", tag = "T",
        },
        ["POST /api/webhooks/{token}"] = _ => new { email = "h@x.io", firstName = "H", lastName = "H", company = "C", custom = "N" },
        ["POST /api/webhooks/inbound/{token}"] = _ => new { email = "h@x.io", firstName = "H", lastName = "H", company = "C", custom = "N" },
        ["POST /api/webhook-subscriptions"] = _ => new { url = "https://hooks.example.com/in", events = new[] { "lead.created" }, description = "D" },
        ["PATCH /api/webhook-subscriptions/{id}"] = _ => new { url = "https://hooks.example.com/in", description = "D" },
    };

    /// <summary>Write routes that take no JSON text at all; any other write route must have string fields to sweep.</summary>
    private static readonly HashSet<string> NoJsonText =
    [
        "DELETE /api/api-keys/{id}", "DELETE /api/users/{id}", "DELETE /api/leads/{id}", "DELETE /api/leads/{id}/tags/{tagId}",
        "DELETE /api/tags/{id}", "DELETE /api/sources/{id}", "POST /api/sources/{id}/regenerate-token",
        "POST /api/leads/{id}/not-duplicate",
        "DELETE /api/webhook-subscriptions/{id}", "POST /api/webhook-subscriptions/{id}/rotate-secret",
        "POST /api/webhook-subscriptions/{id}/test", "POST /api/webhook-subscriptions/{id}/deliveries/{deliveryId}/redeliver",
        "POST /api/leads/import", // a CSV body: every column through the same rules in HostileCsvTests
    ];

    private static readonly string[] Unprintable = ["a\0b", "a\u200Bb", "\u202Eabc", "x\u0007y", "\uFEFFbom", "a\u2028b", "\u2066x\u2069"];

    private static IEnumerable<(string Path, Action<JsonNode, string> Set)> StringLeaves(JsonNode node, string path = "")
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o.ToList())
                {
                    var p = path.Length == 0 ? k : $"{path}.{k}";
                    if (v is JsonValue sv && sv.GetValueKind() == System.Text.Json.JsonValueKind.String)
                    {
                        var key = k;
                        yield return (p, (root, bad) => Find(root, path)![key] = bad);
                        if (path.Length > 0) yield return ($"{p} (key)", (root, bad) => { var parent = Find(root, path)!.AsObject(); var val = parent[key]!.GetValue<string>(); parent.Remove(key); parent[bad] = val; });
                    }
                    else if (v is not null)
                        foreach (var leaf in StringLeaves(v, p)) yield return leaf;
                }
                break;
        }
    }

    private static JsonObject? Find(JsonNode root, string path) =>
        (path.Length == 0 ? root : path.Split('.').Aggregate(root, (n, k) => n[k]!)) as JsonObject;

    [Fact]
    public async Task Every_string_of_every_write_route_refuses_NUL_and_invisible_characters_with_a_400_naming_it()
    {
        var w = await WorldAsync();
        var before = await FingerprintAsync(w.Ws.Id);
        var swept = 0;
        foreach (var route in Registered().Where(r => !r.StartsWith("GET ", StringComparison.Ordinal)).Order())
        {
            var template = Matrix[route](w);
            JsonNode? body = TextBodies.TryGetValue(route, out var tb) ? JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(tb(w)))
                : template.Content is { Headers.ContentType.MediaType: "application/json" } c ? JsonNode.Parse(await c.ReadAsStringAsync()) : null;
            var leaves = body is null ? [] : StringLeaves(body).ToList();
            if (leaves.Count == 0)
            {
                NoJsonText.ShouldContain(route, "a write route with no string field to sweep: give it one in TextBodies or list it in NoJsonText");
                continue;
            }
            foreach (var (path, set) in leaves)
                foreach (var bad in Unprintable)
                {
                    var hostile = body!.DeepClone();
                    set(hostile, bad);
                    var req = new HttpRequestMessage(template.Method, template.RequestUri) { Content = Http.Json(hostile.ToJsonString()) };
                    var r = await (IsWebhook(route) ? api.Client() : w.Ws.Full).SendAsync(req);
                    var what = $"{route} {path} = {System.Text.Json.JsonSerializer.Serialize(bad)}";
                    var text = await r.Content.ReadAsStringAsync();
                    r.StatusCode.ShouldBe(HttpStatusCode.BadRequest, $"{what}: {text}");
                    // Unknown webhook members are the lead's metadata.
                    var field = IsWebhook(route) && path == "custom" ? "metadata" : path.Split('.')[0].Replace(" (key)", "");
                    // A nested object's field is named by its path (filter.status) or by the object (metadata); an unknown
                    // property of a typed nested object (filter) by its own name.
                    var errors = JsonNode.Parse(text)!["errors"];
                    (errors?[field] ?? errors?[path.Replace(" (key)", "")] ?? (path.EndsWith(" (key)", StringComparison.Ordinal) ? errors?[bad] : null))
                        .ShouldNotBeNull($"{what}: {text}");
                    text.ShouldNotContain("System.", customMessage: what);
                    swept++;
                }
        }
        swept.ShouldBeGreaterThan(100);
        (await FingerprintAsync(w.Ws.Id)).ShouldBe(before);
    }

    [Fact]
    public void Every_registered_route_is_in_the_matrix()
    {
        var missing = Registered().Where(r => !Matrix.ContainsKey(r)).ToList();
        missing.ShouldBeEmpty("routes without a security-matrix entry");
        Registered().Count.ShouldBeGreaterThan(25);
    }

    [Fact]
    public async Task Without_a_key_every_route_is_401_except_the_webhook()
    {
        var w = await WorldAsync();
        foreach (var route in Registered().Where(r => !IsWebhook(r)).Order())
        {
            var r = await api.Client().SendAsync(Matrix[route](w));
            r.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, route);
            (await r.Content.ReadAsStringAsync()).ShouldContain("\"code\"", customMessage: route);
        }
    }

    [Fact]
    public async Task A_read_key_gets_403_on_every_write_and_nothing_changes()
    {
        var w = await WorldAsync();
        var before = await FingerprintAsync(w.Ws.Id);
        foreach (var route in Registered().Where(r => !r.StartsWith("GET ", StringComparison.Ordinal) && !IsWebhook(r)).Order())
        {
            var r = await w.Ws.Read.SendAsync(Matrix[route](w));
            await r.ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        }
        (await FingerprintAsync(w.Ws.Id)).ShouldBe(before);
    }

    [Fact]
    public async Task Another_workspaces_ids_are_404_everywhere_and_its_rows_stay_unchanged()
    {
        var victim = await WorldAsync();
        var attacker = await WorldAsync();
        var before = await FingerprintAsync(victim.Ws.Id);
        var bodies = new List<string>();
        foreach (var route in Registered().Where(r => TakesId(r) && !IsWebhook(r)).Order())
        {
            // The attacker's own full key, aimed at the victim's objects (for two-ID routes: both the victim's).
            var r = await attacker.Ws.Full.SendAsync(Matrix[route](victim));
            var body = await r.Content.ReadAsStringAsync();
            r.StatusCode.ShouldBe(HttpStatusCode.NotFound, $"{route}: {body}");
            bodies.Add(body);
            // Mixed: the attacker's lead with the victim's second ID (merge, tag detach).
            if (route is "POST /api/leads/{id}/merge" or "DELETE /api/leads/{id}/tags/{tagId}")
            {
                var mixed = Matrix[route](victim with { Lead = attacker.Lead });
                var m = await attacker.Ws.Full.SendAsync(mixed);
                ((int)m.StatusCode).ShouldBeOneOf([400, 404], route);
            }
        }
        (await FingerprintAsync(victim.Ws.Id)).ShouldBe(before);
        bodies.ShouldAllBe(b => !b.Contains(victim.Marker));
    }

    [Fact]
    public async Task No_response_leaks_key_hashes_other_workspaces_data_or_stack_traces_and_no_log_has_a_plaintext_key()
    {
        var victim = await WorldAsync();
        var attacker = await WorldAsync();
        await using var db = await api.OpenDbAsync();
        var hashes = (await db.QueryAsync<byte[]>("SELECT key_hash FROM access.api_keys")).SelectMany(h => new[]
            { Convert.ToHexString(h), Convert.ToHexString(h).ToLowerInvariant(), Convert.ToBase64String(h) }).ToList();

        foreach (var route in Registered().Order())
        {
            foreach (var client in new[] { attacker.Ws.Full, attacker.Ws.Read, api.Client() })
            {
                var r = await client.SendAsync(Matrix[route](attacker));
                var body = await r.Content.ReadAsStringAsync();
                ((int)r.StatusCode).ShouldBeLessThan(500, $"{route}: {body} {string.Join("\n", api.Lines.Where(l => l.Contains("Exception")).Take(2))}");
                body.ShouldNotContain(victim.Marker, customMessage: route);
                body.ShouldNotContain("   at ", customMessage: route);
                body.ShouldNotContain("Exception", customMessage: route);
                foreach (var h in hashes) body.ShouldNotContain(h, customMessage: route);
                // The 12-character display prefix is public; a whole key only ever appears in its own creation response.
                if (route != "POST /api/api-keys") FullKey.IsMatch(body).ShouldBeFalse(route);
            }
        }
        foreach (var line in api.Lines) FullKey.IsMatch(line).ShouldBeFalse(line);
        api.Lines.ShouldNotBeEmpty();
    }
}
