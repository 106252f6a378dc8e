using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Security;

/// <summary>
/// Every text field through the API and the webhook with a committed corpus of hostile strings (control
/// characters, RTL, emoji, very long, SQL/HTML/CSV-formula payloads, NUL): an exact round trip (after the
/// documented trimming) or a clean 400 naming the field — never a 5xx. Plus malformed requests of every kind.
/// </summary>
public sealed class HostileInputTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    public static readonly string[] Corpus = JsonSerializer.Deserialize<string[]>(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Security", "naughty-strings.json")))!;

    [Fact]
    public void The_corpus_is_the_committed_one() => Corpus.Length.ShouldBeGreaterThan(80);

    private static string? Trimmed(string s) => s.Trim() is { Length: > 0 } t ? t : null;

    [Theory]
    [InlineData("firstName")]
    [InlineData("lastName")]
    [InlineData("company")]
    [InlineData("phone")]
    [InlineData("notes")]
    [InlineData("metadata")]
    public async Task Lead_fields_round_trip_exactly_or_are_a_400_naming_the_field(string field)
    {
        var ws = await api.CreateWorkspaceAsync();
        var (created, rejected) = (0, 0);
        var stored = new List<JsonObject>();
        foreach (var s in Corpus)
        {
            var body = new JsonObject { [field == "lastName" ? "firstName" : "lastName"] = "Anchor" };
            if (field == "metadata") body["metadata"] = new JsonObject { ["custom"] = s };
            else body[field] = s;
            var r = await ws.Full.PostAsync("/api/leads", Http.Json(body.ToJsonString()));
            var text = await r.Content.ReadAsStringAsync();
            ((int)r.StatusCode).ShouldBeLessThan(500, $"{field} {JsonSerializer.Serialize(s)}: {text}");
            if (field == "phone")
            {
                // §8: a phone's format never costs a lead — only its length (40), line breaks and the one text rule
                // (NUL, controls, invisible format characters) may refuse it.
                var mustFail = Kernel.Http.TextRule.Violation(s, "phone") is not null
                    || (Trimmed(s) is { } t && (t.Length > 40 || t.IndexOfAny(['\r', '\n']) >= 0));
                (r.StatusCode == HttpStatusCode.BadRequest).ShouldBe(mustFail, $"phone {JsonSerializer.Serialize(s)}: {text}");
            }
            if (r.StatusCode == HttpStatusCode.BadRequest)
            {
                JsonNode.Parse(text)!["errors"]![field].ShouldNotBeNull($"{field} {JsonSerializer.Serialize(s)}: {text}");
                rejected++;
                continue;
            }
            r.StatusCode.ShouldBe(HttpStatusCode.Created, text);
            var lead = await ws.Read.GetObjectAsync(r.Headers.Location!.ToString());
            var expected = field switch
            {
                "metadata" => s,
                "notes" => s.Length == 0 ? null : s,
                _ => Trimmed(s),
            };
            var actual = field == "metadata" ? lead["metadata"]!["custom"]?.GetValue<string>() : lead[field]?.GetValue<string>();
            actual.ShouldBe(expected, $"{field} {JsonSerializer.Serialize(s)}");
            stored.Add(lead);
            created++;
        }
        // Every created lead is in the CSV export once, each text cell exactly as stored but for the documented
        // formula neutralisation (notes and metadata are not exported; their leads still are).
        var export = await ws.Read.GetAsync("/api/leads/export");
        var csv = await export.Content.ReadAsStringAsync();
        export.StatusCode.ShouldBe(HttpStatusCode.OK, csv);
        HostileCsvTests.AssertExportMatches(csv, stored);
        // Both outcomes really happen: most strings are stored as sent, NUL (and for names, line breaks and length) is refused.
        created.ShouldBeGreaterThan(60);
        rejected.ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Search_with_every_string_is_200_or_400_in_bounded_time_and_finds_ascii_names()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { firstName = "comma,separated", lastName = "quote\"inside" });
        foreach (var s in Corpus.Append(new string('%', 5000)).Append(new string('x', 10 * 1024)))
        {
            var sw = Stopwatch.StartNew();
            var r = await ws.Read.GetAsync($"/api/leads?search={Uri.EscapeDataString(s)}");
            sw.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(5));
            ((int)r.StatusCode).ShouldBeOneOf([200, 400], JsonSerializer.Serialize(s));
            if (r.StatusCode == HttpStatusCode.BadRequest) (await r.BodyAsync())["errors"]!["search"].ShouldNotBeNull();
        }
        (await ws.Read.GetObjectAsync("/api/leads?search=comma%2Cseparated"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(1);
        (await ws.Read.GetObjectAsync("/api/leads?search=quote%22inside"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(1);
    }

    [Theory]
    [InlineData("İstanbul", "İstanbul")] // .NET's invariant lower-casing leaves U+0130 as it is; PostgreSQL's lower() does not
    [InlineData("İstanbul", "istanbul")]
    [InlineData("Ünïcödé Çàfé", "üNÏCÖDÉ çÀfé")]
    [InlineData("ΣΊΣΥΦΟΣ", "σίσυφ")]
    public async Task Search_is_case_insensitive_for_non_ascii_letters_as_postgresql_lower_cases_them(string stored, string query)
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Anchor", company = stored });
        await ws.CreateLeadAsync(new { firstName = "Other" });
        var page = await ws.Read.GetObjectAsync($"/api/leads?search={Uri.EscapeDataString(query)}");
        page.Ids().ShouldBe([lead.Id()]);
        page["pagination"]!["total"]!.GetValue<long>().ShouldBe(1);
    }

    [Fact]
    public async Task Tag_names_round_trip_trimmed_or_are_a_400_naming_name()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Tagged" });
        foreach (var s in Corpus)
        {
            var r = await ws.Full.PostAsync($"/api/leads/{lead.Id()}/tags", Http.Json(new JsonObject { ["name"] = s }.ToJsonString()));
            var text = await r.Content.ReadAsStringAsync();
            ((int)r.StatusCode).ShouldBeOneOf([200, 201, 400], $"{JsonSerializer.Serialize(s)}: {text}");
            if (r.StatusCode == HttpStatusCode.BadRequest) JsonNode.Parse(text)!["errors"]!["name"].ShouldNotBeNull(text);
            else JsonNode.Parse(text)!["name"]!.GetValue<string>().ShouldBe(s.Trim(), StringCompareShould.IgnoreCase);
        }
    }

    [Fact]
    public async Task Webhook_payloads_are_200_or_a_clean_4xx_and_metadata_round_trips()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await (await ws.Full.PostJsonAsync("/api/sources", new { name = "Hostile" })).BodyAsync();
        var token = source["webhookToken"]!.GetValue<string>();
        var client = api.Client();
        foreach (var s in Corpus.Take(90))
        {
            var payload = new JsonObject { ["firstName"] = s, ["lastName"] = "Anchor", ["company"] = s, ["custom"] = s };
            var r = await client.PostAsync($"/api/webhooks/{token}", Http.Json(payload.ToJsonString()));
            var text = await r.Content.ReadAsStringAsync();
            ((int)r.StatusCode).ShouldBeOneOf([200, 400], $"{JsonSerializer.Serialize(s)}: {text}");
        }
        var leads = await ws.Read.GetObjectAsync("/api/leads?limit=100");
        leads["data"]!.AsArray().Count.ShouldBeGreaterThan(50);
    }

    public static TheoryData<string, string, string, string?> MalformedRequests => new()
    {
        { "POST", "/api/leads", "{\"firstName\": ", "application/json" },
        { "POST", "/api/leads", "[1,2,3]", "application/json" },
        { "POST", "/api/leads", "\"just a string\"", "application/json" },
        { "POST", "/api/leads", "{\"firstName\":\"\\ud800\"}", "application/json" },
        { "POST", "/api/leads", "firstName=x", "application/x-www-form-urlencoded" },
        { "POST", "/api/leads", "{\"firstName\":\"x\"}", "text/plain" },
        { "POST", "/api/leads", "{\"firstName\":\"x\",\"firstName\":\"y\",\"extra\":1}", "application/json" },
        { "PUT", "/api/leads/lead_00000000000000000000000000/status", "{\"status\":1}", "application/json" },
        { "GET", "/api/leads?limit=1e9", "", null },
        { "GET", "/api/leads?limit=1000000000", "", null },
        { "GET", "/api/leads?page=-1", "", null },
        { "GET", "/api/leads?page=99999999999999999999", "", null },
        { "GET", "/api/leads?startDate=2026-02-30", "", null },
        { "GET", "/api/leads?endDate=not-a-date", "", null },
        { "GET", "/api/leads?status=%00", "", null },
        { "GET", "/api/leads/stats?assignedTo=%27%20OR%201%3D1", "", null },
    };

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public async Task Malformed_requests_are_4xx_problems(string method, string url, string body, string? contentType)
    {
        var ws = await api.CreateWorkspaceAsync();
        var m = new HttpRequestMessage(new HttpMethod(method), url);
        if (contentType is not null) m.Content = new StringContent(body, Encoding.UTF8, contentType);
        var r = await ws.Full.SendAsync(m);
        var text = await r.Content.ReadAsStringAsync();
        ((int)r.StatusCode).ShouldBeInRange(400, 499, text);
        r.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json", text);
        text.ShouldNotContain("   at ");
    }

    [Fact]
    public async Task A_one_megabyte_body_and_a_16_KB_header_are_handled_without_5xx()
    {
        var ws = await api.CreateWorkspaceAsync();
        var big = new JsonObject { ["firstName"] = "Big", ["notes"] = new string('n', 1024 * 1024) };
        var r = await ws.Full.PostAsync("/api/leads", Http.Json(big.ToJsonString()));
        await r.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var m = new HttpRequestMessage(HttpMethod.Get, "/api/leads");
        m.Headers.Add("X-Padding", new string('p', 16 * 1024));
        (await ws.Read.SendAsync(m)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Lead_data_is_never_cacheable_and_there_is_no_wildcard_cors()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "C" });
        foreach (var url in new[] { "/api/leads", $"/api/leads/{lead.Id()}", "/api/leads/stats", $"/api/leads/{lead.Id()}/events" })
        {
            var m = new HttpRequestMessage(HttpMethod.Get, url);
            m.Headers.Add("Origin", "https://evil.example");
            var r = await ws.Read.SendAsync(m);
            r.Headers.CacheControl!.NoStore.ShouldBeTrue(url);
            r.Headers.Contains("Access-Control-Allow-Origin").ShouldBeFalse(url);
        }
        var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/leads");
        preflight.Headers.Add("Origin", "https://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        (await api.Client().SendAsync(preflight)).Headers.Contains("Access-Control-Allow-Origin").ShouldBeFalse();
    }
}
