using System.Net;
using Dapper;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Modules.Leads.Features.ExportLeads;
using Modules.Leads.Public;
using Npgsql;

namespace Leads.Tests.Export;

/// <summary>The synchronous export's spool in a directory of this class's own, bounded at 1 MiB.</summary>
public sealed class ExportSpoolApiFactory : ApiFactory, IAsyncLifetime
{
    public string SpoolDirectory { get; } = Path.Combine(Path.GetTempPath(), "leads-spool-test-" + Guid.NewGuid().ToString("N")[..8]);

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Exports:SpoolDirectory"] = SpoolDirectory,
        ["Exports:SpoolMaxBytes"] = (1024 * 1024).ToString(),
    };

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(SpoolDirectory)) Directory.Delete(SpoolDirectory, recursive: true);
    }
}

/// <summary>
/// Issue 16 item 6 for <c>GET /api/leads/export</c>: the database side runs at its own pace into a spool and lets go of
/// its connection and snapshot; a slow reader is served from the spool and holds nothing in the database.
/// </summary>
public sealed class ExportSpoolTests(ExportSpoolApiFactory api) : IClassFixture<ExportSpoolApiFactory>
{
    private const string ExportQueryLike = "%tags.v_lead_tags t WHERE t.lead_id = l.id%";

    private async Task SeedAsync(TestWorkspace ws, int count, int companyLength = 10)
    {
        await using var db = await api.OpenDbAsync();
        await db.ExecuteAsync("""
            INSERT INTO leads.leads (id, workspace_id, first_name, email, company, channel, created_actor_type, created_at)
            SELECT gen_random_uuid(), @Ws, 'Spool ' || i, 'spool' || i || '@x.io', rpad('Co ' || i, @Len, 'x'), 'import', 'import',
                   timestamptz '2026-01-01' + i * interval '1 second'
            FROM generate_series(1, @Count) AS i
            """, new { Ws = ws.Id, Count = count, Len = companyLength });
    }

    /// <summary>Backends of the test database running the export statement or idle inside a transaction.</summary>
    private Task<long> ExportBackendsAsync() => api.ScalarAsync<long>("""
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND (state LIKE 'idle in transaction%' OR (state = 'active' AND query LIKE @Like))
        """, new { Like = ExportQueryLike });

    /// <summary>Spool files this process holds open (unlinked at once, so only /proc still shows them).</summary>
    private int OpenSpoolFiles() => new DirectoryInfo("/proc/self/fd").EnumerateFileSystemInfos()
        .Select(f => f.LinkTarget ?? "")
        .Count(t => t.StartsWith(api.SpoolDirectory + "/", StringComparison.Ordinal));

    private async Task<byte[]> DirectExportAsync(TestWorkspace ws)
    {
        var db = api.Services.GetRequiredService<NpgsqlDataSource>();
        await using var export = await LeadCsvExport.OpenAsync(db, ws.Id, new LeadExportFilters(), CancellationToken.None);
        var bytes = new MemoryStream();
        await export.WriteAsync(bytes, CancellationToken.None);
        return bytes.ToArray();
    }

    [Fact]
    public async Task A_slow_reader_holds_no_connection_and_gets_the_same_bytes_as_the_unspooled_export()
    {
        var ws = await api.CreateWorkspaceAsync();
        await SeedAsync(ws, 5000);
        using var slow = await ws.Read.GetAsync("/api/leads/export", HttpCompletionOption.ResponseHeadersRead);
        slow.StatusCode.ShouldBe(HttpStatusCode.OK);
        slow.Content.Headers.ContentType!.ToString().ShouldBe("text/csv; charset=utf-8");
        await using var stream = await slow.Content.ReadAsStreamAsync();
        var first = new byte[1024];
        (await stream.ReadAtLeastAsync(first, first.Length)).ShouldBe(first.Length);

        // Before: one REPEATABLE READ transaction and its statement stayed open until the reader had every row.
        await Wait.UntilAsync(async () => await ExportBackendsAsync() == 0, "the export released its connection");
        OpenSpoolFiles().ShouldBe(1, "the backlog past the memory ring is on disk, unlinked");
        Directory.EnumerateFiles(api.SpoolDirectory).ShouldBeEmpty();

        var rest = new MemoryStream();
        await stream.CopyToAsync(rest);
        first.Concat(rest.ToArray()).ToArray().ShouldBe(await DirectExportAsync(ws));
        await Wait.UntilAsync(() => Task.FromResult(OpenSpoolFiles() == 0), "the spool was closed");
    }

    [Fact]
    public async Task A_small_export_stays_in_memory_and_matches_the_unspooled_export()
    {
        var ws = await api.CreateWorkspaceAsync();
        await SeedAsync(ws, 20);
        var (_, body) = await ws.Read.ExportAsync();
        System.Text.Encoding.UTF8.GetBytes(body).ShouldBe(await DirectExportAsync(ws));
        ExportTestKit.ParseCsv(body).Count.ShouldBe(21);
        OpenSpoolFiles().ShouldBe(0);
    }

    [Fact]
    public async Task A_reader_that_goes_away_closes_the_spool_and_stops_the_query()
    {
        var ws = await api.CreateWorkspaceAsync();
        await SeedAsync(ws, 5000);
        var slow = await ws.Read.GetAsync("/api/leads/export", HttpCompletionOption.ResponseHeadersRead);
        var stream = await slow.Content.ReadAsStreamAsync();
        (await stream.ReadAtLeastAsync(new byte[1024], 1024)).ShouldBe(1024);
        await Wait.UntilAsync(() => Task.FromResult(OpenSpoolFiles() == 1), "the export spilled to its file");

        await stream.DisposeAsync();
        slow.Dispose();

        await Wait.UntilAsync(() => Task.FromResult(OpenSpoolFiles() == 0), "the aborted download closed its spool");
        (await ExportBackendsAsync()).ShouldBe(0);
        Directory.EnumerateFiles(api.SpoolDirectory).ShouldBeEmpty();
        // The slot is free again.
        (await ws.Read.GetAsync("/api/leads/export")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_export_that_cannot_fit_the_spool_is_refused_up_front_pointing_to_the_async_export()
    {
        var ws = await api.CreateWorkspaceAsync();
        // 1 MiB / the shortest possible row (77 bytes) is 13,617 rows: 14,000 cannot fit whatever their content.
        await SeedAsync(ws, 14000);

        var r = await ws.Read.GetAsync("/api/leads/export");

        var problem = await r.ShouldBeProblemAsync((HttpStatusCode)422, "export_too_large");
        problem["detail"]!.GetValue<string>().ShouldContain("POST /api/leads/exports");
        problem["detail"]!.GetValue<string>().ShouldContain("Exports:SpoolMaxBytes");
        r.Content.Headers.ContentDisposition.ShouldBeNull();
        (await ExportBackendsAsync()).ShouldBe(0);
        // A filter that narrows it under the bound is served.
        ExportTestKit.ParseCsv((await ws.Read.ExportAsync("search=spool1234@")).Body).Count.ShouldBe(2);
    }

    [Fact]
    public async Task Rows_longer_than_the_count_allowed_for_cut_the_download_off_instead_of_ending_it_like_a_whole_file()
    {
        var ws = await api.CreateWorkspaceAsync();
        // 6,000 rows pass the count (under 13,617) but hold ~1.7 MB: past the 1 MiB bound.
        await SeedAsync(ws, 6000, companyLength: 200);

        var r = await ws.Read.GetAsync("/api/leads/export", HttpCompletionOption.ResponseHeadersRead);
        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        var read = new MemoryStream();
        await Should.ThrowAsync<Exception>(async () => await (await r.Content.ReadAsStreamAsync()).CopyToAsync(read));
        read.Length.ShouldBeLessThanOrEqualTo(1024 * 1024);

        await Wait.UntilAsync(() => Task.FromResult(OpenSpoolFiles() == 0), "the cut-off download closed its spool");
        (await ExportBackendsAsync()).ShouldBe(0);
    }

    [Fact]
    public async Task Spool_files_left_by_a_dead_process_are_deleted_at_start()
    {
        var store = api.Services.GetRequiredService<SpoolStore>();
        var leftover = Path.Combine(api.SpoolDirectory, SpoolStore.FilePrefix + "99999-dead" + SpoolStore.FileSuffix);
        var unrelated = Path.Combine(api.SpoolDirectory, "keep.txt");
        await File.WriteAllTextAsync(leftover, "id,email\r\n");
        await File.WriteAllTextAsync(unrelated, "not a spool");

        await store.StartAsync(CancellationToken.None);

        File.Exists(leftover).ShouldBeFalse();
        File.Exists(unrelated).ShouldBeTrue();
        File.Delete(unrelated);
    }
}
