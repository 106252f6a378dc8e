using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Kernel.Ids;
using Leads.Tests.Infrastructure;
using Leads.Tests.Sources;
using Leads.Tests.Tags;
using Microsoft.Extensions.DependencyInjection;
using Modules.Leads.Public;
using Npgsql;

namespace Leads.Tests.Export;

public sealed class ExportLeadsTests(ExportApiFactory api) : IClassFixture<ExportApiFactory>
{
    [Fact]
    public async Task Whole_file_with_source_assignee_tags_duplicate_flag_and_the_download_headers()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync("Website Form");
        var chidi = await ws.CreateMemberAsync("Chidi Anagonye");
        var jane = await ws.CreateLeadAsync(new
        {
            email = "jane@acme.com", firstName = "Jane", lastName = "Smith", phone = "+1 (415) 555-2671", company = "Acme, Inc.", sourceId = source.Id(),
        });
        var dup = await ws.CreateLeadAsync(new { email = "JANE@acme.com", firstName = "Janet" });
        var obrien = await ws.CreateLeadAsync(new { lastName = "O'Brien", phone = "+1 650 253 0000" });
        await ws.AssignAsync(jane, chidi);
        await ws.SetStatusAsync(jane, "qualified");
        await ws.TagAsync(jane.Id(), "vip");
        await ws.TagAsync(jane.Id(), "Alpha");
        await api.SetCreatedAsync(jane, "2026-03-01T12:00:00.123456Z");
        await api.SetCreatedAsync(dup, "2026-03-01T12:00:01.999999Z");
        await api.SetCreatedAsync(obrien, "2026-03-02T00:00:00Z");
        jane = await ws.ReloadAsync(jane);
        dup = await ws.ReloadAsync(dup);
        obrien = await ws.ReloadAsync(obrien);
        dup["isDuplicate"]!.GetValue<bool>().ShouldBeTrue();

        var before = DateTime.UtcNow;
        var (r, body) = await ws.Read.ExportAsync();
        var after = DateTime.UtcNow;

        body.ShouldBe(
            ExportTestKit.Header + "\r\n" +
            $"{obrien.Id()},,,O'Brien,+1 650 253 0000,,new,{obrien["score"]},,,,false,2026-03-02T00:00:00.000Z\r\n" +
            $"{dup.Id()},JANE@acme.com,Janet,,,,new,{dup["score"]},,,,true,2026-03-01T12:00:01.999Z\r\n" +
            $"{jane.Id()},jane@acme.com,Jane,Smith,+1 (415) 555-2671,\"Acme, Inc.\",qualified,{jane["score"]},Website Form,Chidi Anagonye,Alpha;vip,false,2026-03-01T12:00:00.123Z\r\n");
        r.Content.Headers.ContentType!.ToString().ShouldBe("text/csv; charset=utf-8");
        r.Content.Headers.ContentDisposition!.ToString().ShouldBeOneOf(
            $"attachment; filename=\"leads-{before:yyyyMMdd}.csv\"", $"attachment; filename=\"leads-{after:yyyyMMdd}.csv\"");
        r.Headers.CacheControl!.NoStore.ShouldBeTrue();
        (await r.Content.ReadAsByteArrayAsync())[..2].ShouldBe("id"u8.ToArray(), "no byte-order mark");
    }

    [Fact]
    public async Task An_empty_workspace_exports_the_header_row_only()
    {
        var ws = await api.CreateWorkspaceAsync();
        (await ws.Read.ExportAsync()).Body.ShouldBe(ExportTestKit.Header + "\r\n");
    }

    [Fact]
    public async Task Commas_quotes_and_line_breaks_are_quoted_and_parse_back_to_the_stored_text()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Ann", company = "Smith, Jones & \"Partners\"" });
        var hash = await ws.CreateLeadAsync(new { firstName = "#1", company = "a \"b\" c" });
        // Intake refuses line breaks in these fields; older or bulk data may still hold them.
        await api.SetColumnAsync(lead, "last_name", "two\r\nlines");
        await api.SetColumnAsync(lead, "email", "new\nline@x.io");
        var body = (await ws.Read.ExportAsync()).Body;

        body.ShouldContain(",\"new\nline@x.io\",Ann,\"two\r\nlines\",,\"Smith, Jones & \"\"Partners\"\"\",new,");
        // A leading '#' is quoted too, so no reader can mistake the line for a comment.
        body.ShouldContain($"{hash.Id()},,\"#1\",,,\"a \"\"b\"\" c\",new,");
        var rows = ExportTestKit.ParseCsv(body);
        rows.Count.ShouldBe(3);
        rows[2][1..6].ShouldBe(["new\nline@x.io", "Ann", "two\r\nlines", "", "Smith, Jones & \"Partners\""]);
        rows[1][1..6].ShouldBe(["", "#1", "", "", "a \"b\" c"]);
    }

    [Fact]
    public async Task Formula_like_cells_are_neutralised_but_numbers_and_phone_numbers_are_not()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync("=cmd|' /C calc'!A0");
        var member = await ws.CreateMemberAsync("@admin");
        var lead = await ws.CreateLeadAsync(new
        {
            firstName = "=HYPERLINK(\"http://evil.example\",\"click\")", lastName = "-cmd", company = "@x", phone = "+1 (415) 555-2671",
            email = "+attacker@evil.example", sourceId = source.Id(),
        });
        var numeric = await ws.CreateLeadAsync(new { firstName = "-5", lastName = "+10", company = "-(20)" });
        await ws.AssignAsync(lead, member);
        await ws.TagAsync(lead.Id(), "-tag");
        await api.SetColumnAsync(numeric, "email", "\tx@y.io");

        var rows = ExportTestKit.ParseCsv((await ws.Read.ExportAsync()).Body);
        var byId = rows.Skip(1).ToDictionary(r => r[0]);
        var l = byId[lead.Id()];
        l[1].ShouldBe("'+attacker@evil.example");
        l[2].ShouldBe("'=HYPERLINK(\"http://evil.example\",\"click\")");
        l[3].ShouldBe("'-cmd");
        l[4].ShouldBe("+1 (415) 555-2671");
        l[5].ShouldBe("'@x");
        l[8].ShouldBe("'=cmd|' /C calc'!A0");
        l[9].ShouldBe("'@admin");
        l[10].ShouldBe("'-tag");
        var n = byId[numeric.Id()];
        n[1..6].ShouldBe(["'\tx@y.io", "-5", "+10", "", "-(20)"]);
    }

    [Fact]
    public async Task Newest_first_like_the_list_with_ties_broken_by_id()
    {
        var ws = await api.CreateWorkspaceAsync();
        var leads = new List<JsonObject>();
        for (var i = 0; i < 6; i++) leads.Add(await ws.CreateLeadAsync(new { firstName = $"P{i}" }));
        // Two pairs share a timestamp; the oldest-created lead becomes the newest.
        await api.SetCreatedAsync(leads[0], "2026-05-01T00:00:00Z");
        await api.SetCreatedAsync(leads[1], "2026-04-01T00:00:00Z");
        await api.SetCreatedAsync(leads[2], "2026-04-01T00:00:00Z");
        await api.SetCreatedAsync(leads[3], "2026-02-01T00:00:00Z");
        await api.SetCreatedAsync(leads[4], "2026-02-01T00:00:00Z");

        var exported = ExportTestKit.Ids((await ws.Read.ExportAsync()).Body);
        exported.ShouldBe((await ws.Read.ListAllAsync("")).Ids);
        exported[0].ShouldBe(leads[5].Id());
        exported[1].ShouldBe(leads[0].Id());
        exported.Length.ShouldBe(6);
    }

    [Fact]
    public async Task Every_filter_alone_and_combined_matches_the_list_ids_and_total()
    {
        var ws = await api.CreateWorkspaceAsync();
        var web = await ws.CreateSourceAsync("Web");
        var fair = await ws.CreateSourceAsync("Trade fair");
        var rep = await ws.CreateMemberAsync("Eleanor");
        var all = new List<JsonObject>
        {
            await ws.CreateLeadAsync(new { firstName = "Maria", lastName = "Garcia", email = "maria@garcia.io", phone = "+1 415 555 2671", sourceId = web.Id() }),
            await ws.CreateLeadAsync(new { firstName = "Maria", lastName = "Garcia", email = "MARIA@garcia.io", sourceId = fair.Id() }),
            await ws.CreateLeadAsync(new { firstName = "Jason", email = "jason@acme.io", sourceId = web.Id() }),
            await ws.CreateLeadAsync(new { firstName = "Tahani", company = "Al-Jamil Garcia Foundation" }),
            await ws.CreateLeadAsync(new { firstName = "Janet", email = "janet@bad.place", phone = "(650) 253-0000" }),
            await ws.CreateLeadAsync(new { lastName = "Mendoza", email = "jason.m@acme.io", sourceId = fair.Id() }),
        };
        await ws.SetStatusAsync(all[0], "contacted");
        await ws.SetStatusAsync(all[3], "contacted");
        await ws.SetStatusAsync(all[4], "converted");
        await ws.AssignAsync(all[0], rep);
        await ws.AssignAsync(all[2], rep);
        var hot = await ws.TagAsync(all[0].Id(), "hot");
        await ws.TagAsync(all[2].Id(), "HOT");
        await ws.TagAsync(all[2].Id(), "cold");
        await ws.TagAsync(all[5].Id(), "cold");
        await api.SetCreatedAsync(all[0], "2025-01-15T08:00:00Z");
        await api.SetCreatedAsync(all[1], "2025-06-30T23:59:59.5Z");
        await api.SetCreatedAsync(all[2], "2025-12-31T12:00:00Z");
        await api.SetCreatedAsync(all[3], "2026-03-01T00:00:00Z");
        await api.SetCreatedAsync(all[4], "2026-03-01T12:00:00Z");

        string[] queries =
        [
            "", "status=contacted", "status=closed", $"sourceId={web.Id()}", $"sourceId={SourceTestExtensions.Uuid(fair.Id())}",
            "search=garcia", "search=GARCIA%20foundation", "search=555%202671", "search=(650)%20253", "search=maria%20garcia",
            "startDate=2026-03-01", "endDate=2025-06-30", "endDate=2025-12-31T12:00:00Z", "startDate=2025-06-01&endDate=2026-03-01T11:59:59Z",
            $"assignedTo={rep.Id()}", "assignedTo=unassigned", "duplicates=only", "duplicates=exclude",
            "tag=hot", "tag=Hot", $"tag={hot}", "tag=cold", "tag=nope",
            $"status=contacted&tag=hot&assignedTo={rep.Id()}", "search=garcia&duplicates=exclude&startDate=2025-01-01",
        ];
        foreach (var q in queries)
        {
            var (listed, total) = await ws.Read.ListAllAsync(q);
            var exported = ExportTestKit.Ids((await ws.Read.ExportAsync(q)).Body);
            exported.ShouldBe(listed, $"query '{q}'");
            exported.Length.ShouldBe((int)total, $"query '{q}'");
        }
        ExportTestKit.Ids((await ws.Read.ExportAsync("duplicates=only")).Body).ShouldBe([all[1].Id()]);
        ExportTestKit.Ids((await ws.Read.ExportAsync("tag=hot")).Body).ShouldBe([all[2].Id(), all[0].Id()]);
    }

    [Theory]
    [InlineData("status=open", "status")]
    [InlineData("sourceId=xyz", "sourceId")]
    [InlineData("assignedTo=lead_01m8brdj0efn9aftk3j67h2v9c", "assignedTo")]
    [InlineData("duplicates=maybe", "duplicates")]
    [InlineData("startDate=yesterday", "startDate")]
    [InlineData("endDate=2026-13-01", "endDate")]
    [InlineData("startDate=2026-03-02&endDate=2026-03-01", "endDate")]
    [InlineData("tag=", "tag")]
    public async Task Invalid_filters_are_400_naming_the_parameter(string query, string field)
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await ws.Read.GetAsync($"/api/leads/export?{query}");
        var p = await r.ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]![field].ShouldNotBeNull(p.ToJsonString());
        r.Content.Headers.ContentDisposition.ShouldBeNull();
    }

    [Fact]
    public async Task Another_workspace_s_leads_never_appear()
    {
        var mine = await api.CreateWorkspaceAsync();
        var theirs = await api.CreateWorkspaceAsync();
        var shared = await theirs.CreateSourceAsync("Shared name");
        await theirs.CreateLeadAsync(new { firstName = "Theirs", email = "same@acme.io", sourceId = shared.Id() });
        var lead = await mine.CreateLeadAsync(new { firstName = "Mine", email = "same@acme.io" });
        var body = (await mine.Read.ExportAsync()).Body;
        ExportTestKit.Ids(body).ShouldBe([lead.Id()]);
        body.ShouldNotContain("Theirs");
        ExportTestKit.Ids((await mine.Read.ExportAsync($"sourceId={shared.Id()}")).Body).ShouldBeEmpty();
        ExportTestKit.Ids((await mine.Read.ExportAsync("search=theirs")).Body).ShouldBeEmpty();
    }

    [Fact]
    public async Task Needs_an_api_key_and_a_read_key_may_export()
    {
        (await api.Client().GetAsync("/api/leads/export")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var ws = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { firstName = "R" });
        ExportTestKit.Ids((await ws.Read.ExportAsync()).Body).Length.ShouldBe(1);
    }

    [Fact]
    public async Task A_cancelled_export_stops_its_query_on_the_server_and_returns_a_healthy_connection()
    {
        var ws = await api.CreateWorkspaceAsync();
        await using (var db = await api.OpenDbAsync())
        {
            // Enough rows that the result cannot all sit in socket buffers when the reader is abandoned.
            await db.ExecuteAsync("""
                INSERT INTO leads.leads (id, workspace_id, first_name, email, channel, created_actor_type, created_at)
                SELECT gen_random_uuid(), @Ws, 'Bulk ' || i, 'bulk' || i || '@x.io', 'import', 'import', now() - i * interval '1 second'
                FROM generate_series(1, 50000) AS i
                """, new { Ws = ws.Id });
        }
        var dataSource = api.Services.GetRequiredService<NpgsqlDataSource>();
        using var cts = new CancellationTokenSource();
        var sink = new CancelAfterFirstWrite(cts);
        var export = await LeadCsvExport.OpenAsync(dataSource, ws.Id, new LeadExportFilters(), cts.Token);
        await Should.ThrowAsync<OperationCanceledException>(() => export.WriteAsync(sink, cts.Token));
        await export.DisposeAsync();
        sink.Writes.ShouldBeLessThan(10);

        var active = await api.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%tags.v_lead_tags t WHERE t.lead_id = l.id%' AND pid <> pg_backend_pid()");
        active.ShouldBe(0);
        // The pooled connection is usable again, and the next export works.
        ExportTestKit.Ids((await ws.Read.ExportAsync("search=bulk49999@")).Body).Length.ShouldBe(1);
    }

    private sealed class CancelAfterFirstWrite(CancellationTokenSource cts) : MemoryStream
    {
        public int Writes { get; private set; }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            Writes++;
            cts.Cancel();
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) => WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();
    }
}
