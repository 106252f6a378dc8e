using System.Globalization;
using System.Net;
using Leads.Tests.Import;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Platform;

/// <summary>
/// Runs alone: every host in the test process publishes ASP.NET Core's and Npgsql's meters under the same names, and
/// OpenTelemetry merges same-named instruments into one stream, so another test class disposing its host mid-scrape
/// could end the HTTP series this host exports. In a service process there is one host.
/// </summary>
[CollectionDefinition(nameof(MetricsTests), DisableParallelization = true)]
public sealed class MetricsCollection;

/// <summary><c>/metrics</c> (spec §14): Prometheus text for a scraper on this machine, with the service's own counters moving.</summary>
[Collection(nameof(MetricsTests))]
public sealed class MetricsTests(RemoteAddressApiFactory api) : IClassFixture<RemoteAddressApiFactory>
{
    private async Task<string> ScrapeAsync()
    {
        var r = await api.Client().GetAsync("/metrics");
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        r.Content.Headers.ContentType!.MediaType.ShouldBe("text/plain");
        return text;
    }

    /// <summary>The value of one series (0 when absent: a counter not yet incremented is not exported).</summary>
    private static double Value(string scrape, string name, string labels)
    {
        var line = scrape.Split('\n').FirstOrDefault(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(labels, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Counters_move_with_leads_created_by_api_webhook_and_import_and_with_import_rows()
    {
        var ws = await api.CreateWorkspaceAsync();
        var before = await ScrapeAsync();

        (await ws.Full.PostJsonAsync("/api/leads", new { email = "metrics-api@example.com" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        var source = await Sources.SourceTestExtensions.CreateSourceAsync(ws, "Form");
        var token = source["webhookToken"]!.GetValue<string>();
        (await api.Client().PostJsonAsync($"/api/webhooks/{token}", new { email = "metrics-hook@example.com" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        var status = await ws.ImportAsync("email,firstName\nmetrics-1@example.com,A\nmetrics-2@example.com,B\nnot-an-email,C\nmetrics-1@example.com,D\n");
        status.Long("created").ShouldBe(3);
        status.Long("failed").ShouldBe(1);
        (await ws.Read.GetAsync("/api/leads?search=metrics")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var after = await ScrapeAsync();
        // Other test classes share the process and its counters: assert at least this test's own movement.
        (Value(after, "leads_created_total", "channel=\"api\"") - Value(before, "leads_created_total", "channel=\"api\"")).ShouldBeGreaterThanOrEqualTo(1);
        (Value(after, "leads_created_total", "channel=\"webhook\"") - Value(before, "leads_created_total", "channel=\"webhook\"")).ShouldBeGreaterThanOrEqualTo(1);
        (Value(after, "leads_created_total", "channel=\"import\"") - Value(before, "leads_created_total", "channel=\"import\"")).ShouldBeGreaterThanOrEqualTo(3);
        (Value(after, "leads_import_rows_total", "outcome=\"created\"") - Value(before, "leads_import_rows_total", "outcome=\"created\"")).ShouldBeGreaterThanOrEqualTo(2);
        (Value(after, "leads_import_rows_total", "outcome=\"duplicate\"") - Value(before, "leads_import_rows_total", "outcome=\"duplicate\"")).ShouldBeGreaterThanOrEqualTo(1);
        (Value(after, "leads_import_rows_total", "outcome=\"failed\"") - Value(before, "leads_import_rows_total", "outcome=\"failed\"")).ShouldBeGreaterThanOrEqualTo(1);
        await using (var db = await api.OpenDbAsync())
            (await Dapper.SqlMapper.ExecuteScalarAsync<long>(db, "SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(5);

        after.ShouldContain("leads_list_cache_recounts_total");
        after.ShouldContain("leads_jobs_enqueued{");
        after.ShouldContain("queue=\"import\"");
        after.ShouldContain("http_server_request_duration_seconds_bucket");
        after.ShouldContain("db_client_");
        after.ShouldContain("dotnet_gc_");
    }

    [Fact]
    public async Task Metrics_need_no_api_key_but_only_answer_this_machine()
    {
        (await api.Client().GetAsync("/metrics")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var remote = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        remote.Headers.Add(RemoteAddressApiFactory.Header, "203.0.113.9");
        var r = await api.Client().SendAsync(remote);
        r.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await r.Content.ReadAsStringAsync()).ShouldNotContain("leads_created_total");
    }
}
