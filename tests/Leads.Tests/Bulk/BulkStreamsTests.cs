using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Kernel.Data;
using Kernel.Ids;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Modules.Import.Bulk;
using Modules.Import.Jobs;
using Npgsql;

namespace Leads.Tests.Bulk;

/// <summary>
/// <c>Bulk:Streams</c>: one action's chunks applied by several streams at once (and by two runs of the same action at
/// once), crash and resume in the middle; <c>Bulk:BackendNice</c>: the streams' backends, and only theirs, reniced.
/// </summary>
public sealed class BulkStreamsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private BulkActionJob Job(int streams, int chunkSize, BackgroundDataSource? connections = null)
    {
        var settings = new BulkSettings(chunkSize, 1, streams, 0);
        return connections is null
            ? ActivatorUtilities.CreateInstance<BulkActionJob>(api.Services, settings)
            : ActivatorUtilities.CreateInstance<BulkActionJob>(api.Services, settings, connections);
    }

    private async Task<(TestWorkspace Ws, Guid Bulk, string StatusUrl)> StartAsync(int leads)
    {
        var ws = await api.CreateWorkspaceAsync();
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("""
                INSERT INTO leads.leads (id, workspace_id, email, channel, created_actor_type)
                SELECT leads.uuid_v7(), @Ws, 's' || i || '@x.io', 'api', 'api_key' FROM generate_series(1, @N) i
                """, new { Ws = ws.Id, N = leads });
        var r = await ws.Full.PostJsonAsync("/api/leads/bulk", new { all = true, action = "set_status", status = "contacted" });
        r.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var b = await r.BodyAsync();
        b["matched"]!.GetValue<long>().ShouldBe(leads);
        TypeId.TryParse(b.Id(), IdPrefix.Bulk, out var id).ShouldBeTrue();
        return (ws, id, b["statusUrl"]!.GetValue<string>());
    }

    /// <summary>Every lead contacted exactly once with exactly one status_changed event carrying the bulkId; the action completed once.</summary>
    private async Task ShouldBeExactlyOnceAsync(TestWorkspace ws, Guid bulk, string statusUrl, int leads)
    {
        var done = await ws.Read.GetObjectAsync(statusUrl);
        (done["status"]!.GetValue<string>(), done["processed"]!.GetValue<long>(), done["changed"]!.GetValue<long>(), done["failed"]!.GetValue<long>())
            .ShouldBe(("completed", (long)leads, (long)leads, 0L));
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Ws AND status = 'contacted'", new { Ws = ws.Id })).ShouldBe(leads);
        var perLead = (await (await api.OpenDbAsync()).QueryAsync<(long Events, long Leads)>("""
            SELECT n, count(*) FROM (SELECT lead_id, count(*) AS n FROM leads.events
                                     WHERE workspace_id = @Ws AND type = 'status_changed' AND data->>'bulkId' = @BulkId GROUP BY lead_id) x
            GROUP BY n
            """, new { Ws = ws.Id, BulkId = TypeId.Format(IdPrefix.Bulk, bulk) })).ToList();
        perLead.ShouldBe([(1L, (long)leads)]);
        (await api.ScalarAsync<long>("SELECT count(*) FROM webhooks.feed_events WHERE workspace_id = @Ws AND type = 'bulk.completed'", new { Ws = ws.Id }))
            .ShouldBe(1);
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.bulk_chunks WHERE bulk_id = @Id", new { Id = bulk })).ShouldBe(0);
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.bulk_chunking WHERE bulk_id = @Id", new { Id = bulk })).ShouldBe(0);
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.selections WHERE selection_id = @Id", new { Id = bulk })).ShouldBe(0);
    }

    /// <summary>The action's counters and its leads in one snapshot: processed, leads contacted, chunks done (-1 once completed).</summary>
    private async Task<(long Processed, long Contacted, long DoneChunks)> SnapshotAsync(Guid ws, Guid bulk)
    {
        await using var db = await api.OpenDbAsync();
        return await db.QuerySingleAsync<(long, long, long)>("""
            SELECT b.processed,
                   (SELECT count(*) FROM leads.leads WHERE workspace_id = @Ws AND status = 'contacted'),
                   -- completed: its chunk rows are gone (-1)
                   CASE WHEN b.status = 'completed' THEN -1 ELSE (SELECT count(*) FROM import.bulk_chunks WHERE bulk_id = @Id) END
            FROM import.bulk_actions b WHERE b.id = @Id
            """, new { Ws = ws, Id = bulk });
    }

    [Fact]
    public async Task Three_streams_apply_chunks_at_once_and_change_every_lead_once_with_exact_monotone_progress()
    {
        const int leads = 1000, size = 7; // 143 chunks, the last one of 6
        var (ws, bulk, url) = await StartAsync(leads);
        var job = Job(streams: 3, chunkSize: size);
        // The first three chunks wait inside their transactions until all three are open: proof the streams overlap.
        var open = 0;
        var allOpen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        job.BeforeProgress = async (_, ct) =>
        {
            var n = Interlocked.Increment(ref open);
            if (n == 3) allOpen.TrySetResult();
            if (n <= 3) await allOpen.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
        };
        var running = job.RunAsync(bulk, CancellationToken.None);
        var seen = new List<(long Processed, long Contacted, long DoneChunks)>();
        for (var i = 0; !running.IsCompleted; i++)
        {
            seen.Add(await SnapshotAsync(ws.Id, bulk));
            if (i % 5 == 0) // the API's view too, within the key's rate limit
                seen.Add(((await ws.Read.GetObjectAsync(url))["processed"]!.GetValue<long>(), -1, -1));
            await Task.Delay(10);
        }
        await running;

        await ShouldBeExactlyOnceAsync(ws, bulk, url, leads);
        seen.ShouldNotBeEmpty();
        seen.Select(s => s.Processed).ShouldBeInOrder(SortDirection.Ascending);
        foreach (var s in seen.Where(s => s.Contacted >= 0))
        {
            s.Contacted.ShouldBe(s.Processed, $"progress {s}");
            // Every chunk is 7 leads but the last (6): chunks done and leads processed agree in the same snapshot.
            if (s.DoneChunks >= 0) s.Processed.ShouldBeInRange(s.DoneChunks * size - 1, s.DoneChunks * size, $"progress {s}");
        }
    }

    [Theory]
    [InlineData("crash")]
    [InlineData("cancel")]
    public async Task A_stop_with_several_streams_in_flight_loses_and_doubles_nothing_and_the_next_run_finishes(string how)
    {
        const int leads = 600, size = 10;
        var (ws, bulk, url) = await StartAsync(leads);
        var job = Job(streams: 3, chunkSize: size);
        using var cancel = new CancellationTokenSource();
        var stopped = 0;
        job.AfterChunk = async (processed, ct) =>
        {
            if (processed < 300) return;
            if (Interlocked.Exchange(ref stopped, 1) == 0)
            {
                if (how == "crash") throw new IOException("simulated crash");
                await cancel.CancelAsync();
                ct.ThrowIfCancellationRequested();
            }
        };
        Exception? thrown = null;
        try { await job.RunAsync(bulk, cancel.Token); }
        catch (Exception e) { thrown = e; }
        thrown.ShouldNotBeNull();
        if (how == "crash") thrown.ShouldBeOfType<IOException>();
        else thrown.ShouldBeAssignableTo<OperationCanceledException>();

        var mid = await ws.Read.GetObjectAsync(url);
        mid["status"]!.GetValue<string>().ShouldBe("queued");
        var (processed, contacted, doneChunks) = await SnapshotAsync(ws.Id, bulk);
        processed.ShouldBeInRange(290, 590); // the stopping chunk and those the other streams had open rolled back
        contacted.ShouldBe(processed);
        (doneChunks * size).ShouldBe(processed);
        mid["processed"]!.GetValue<long>().ShouldBe(processed);

        await Job(streams: 3, chunkSize: size).RunAsync(bulk, CancellationToken.None);
        await ShouldBeExactlyOnceAsync(ws, bulk, url, leads);
        (await api.ScalarAsync<int>("SELECT attempts FROM import.bulk_actions WHERE id = @Id", new { Id = bulk })).ShouldBe(2);
    }

    [Fact]
    public async Task Two_runs_of_the_same_action_at_once_share_its_chunks_and_change_nothing_twice()
    {
        const int leads = 800, size = 5;
        var (ws, bulk, url) = await StartAsync(leads);
        var applied = new int[2];
        var a = Job(streams: 3, chunkSize: size);
        var b = Job(streams: 3, chunkSize: 50); // another Bulk:ChunkSize: the cut the first run fixed holds for both
        // Run a holds its first chunk open until run b has applied one of its own: b meets a chunk another run holds
        // (and must wait for it to be done before the action can complete).
        var aHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bApplied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = 0;
        a.BeforeProgress = async (_, ct) =>
        {
            if (Interlocked.Exchange(ref held, 1) != 0) return;
            aHolds.TrySetResult();
            await bApplied.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);
        };
        a.AfterChunk = (_, _) => { Interlocked.Increment(ref applied[0]); return Task.CompletedTask; };
        b.AfterChunk = (_, _) => { Interlocked.Increment(ref applied[1]); bApplied.TrySetResult(); return Task.CompletedTask; };
        var runA = a.RunAsync(bulk, CancellationToken.None);
        await aHolds.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await Task.WhenAll(runA, b.RunAsync(bulk, CancellationToken.None));

        await ShouldBeExactlyOnceAsync(ws, bulk, url, leads);
        (applied[0] + applied[1]).ShouldBe(leads / size); // 160 chunks of 5, each applied by one run
        applied[1].ShouldBeGreaterThan(0);
        // A spare run afterwards finds it completed and changes nothing.
        await Job(streams: 2, chunkSize: size).RunAsync(bulk, CancellationToken.None);
        await ShouldBeExactlyOnceAsync(ws, bulk, url, leads);
    }

    [Fact]
    public async Task Add_tag_creating_the_tag_and_delete_run_on_three_streams_once_per_lead()
    {
        var ws = await api.CreateWorkspaceAsync();
        for (var i = 0; i < 30; i++) await ws.CreateLeadAsync(new { email = $"t{i}@x.io" });
        async Task<Guid> Start(object body)
        {
            var b = await (await ws.Full.PostJsonAsync("/api/leads/bulk", body)).BodyAsync();
            TypeId.TryParse(b.Id(), IdPrefix.Bulk, out var id).ShouldBeTrue(b.ToJsonString());
            return id;
        }
        // The tag does not exist yet: several streams' first chunks create it at once (one wins, the others find it).
        var tag = await Start(new { all = true, action = "add_tag", tag = "Brand new" });
        await Job(streams: 3, chunkSize: 4).RunAsync(tag, CancellationToken.None);
        (await api.ScalarAsync<long>("SELECT changed FROM import.bulk_actions WHERE id = @Id AND status = 'completed'", new { Id = tag })).ShouldBe(30);
        (await api.ScalarAsync<long>("SELECT count(*) FROM tags.tags WHERE workspace_id = @Ws", new { Ws = ws.Id })).ShouldBe(1);
        (await api.ScalarAsync<long>("SELECT count(DISTINCT lead_id) FROM leads.events WHERE workspace_id = @Ws AND type = 'tag_added'", new { Ws = ws.Id })).ShouldBe(30);
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.events WHERE workspace_id = @Ws AND type = 'tag_added'", new { Ws = ws.Id })).ShouldBe(30);

        var delete = await Start(new { filter = new { tag = "brand new" }, action = "delete" });
        await Job(streams: 3, chunkSize: 4).RunAsync(delete, CancellationToken.None);
        (await api.ScalarAsync<long>("SELECT changed FROM import.bulk_actions WHERE id = @Id AND status = 'completed'", new { Id = delete })).ShouldBe(30);
        (await ws.Read.GetObjectAsync("/api/leads"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(0);
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Ws", new { Ws = ws.Id })).ShouldBe(0);
    }

    [Fact]
    public async Task One_stream_applies_the_chunks_in_order_like_the_sequential_job()
    {
        const int leads = 95, size = 10;
        var (ws, bulk, url) = await StartAsync(leads);
        var job = Job(streams: 1, chunkSize: size);
        var order = new List<long>();
        job.AfterChunk = (processed, _) => { order.Add(processed); return Task.CompletedTask; };
        await job.RunAsync(bulk, CancellationToken.None);
        order.ShouldBe([10, 20, 30, 40, 50, 60, 70, 80, 90, 95]);
        await ShouldBeExactlyOnceAsync(ws, bulk, url, leads);
    }

    [Fact]
    public async Task An_action_the_sequential_job_left_half_done_resumes_after_its_processed_prefix()
    {
        const int leads = 40;
        var (ws, bulk, _) = await StartAsync(leads);
        // What a run of the previous job left: the first 15 positions done (here: counted, not changed, so that the
        // test can see which leads this run changes).
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("UPDATE import.bulk_actions SET processed = 15, status = 'running', attempts = 1 WHERE id = @Id", new { Id = bulk });
        await Job(streams: 3, chunkSize: 4).RunAsync(bulk, CancellationToken.None);

        (await api.ScalarAsync<long>("SELECT processed FROM import.bulk_actions WHERE id = @Id AND status = 'completed'", new { Id = bulk })).ShouldBe(leads);
        var untouched = (await (await api.OpenDbAsync()).QueryAsync<Guid>(
            "SELECT id FROM leads.leads WHERE workspace_id = @Ws AND status = 'new' ORDER BY id", new { Ws = ws.Id })).ToList();
        var first15 = (await (await api.OpenDbAsync()).QueryAsync<Guid>(
            "SELECT id FROM leads.leads WHERE workspace_id = @Ws ORDER BY id LIMIT 15", new { Ws = ws.Id })).ToList();
        untouched.ShouldBe(first15);
    }

    [Fact]
    public async Task The_streams_backends_run_at_the_configured_niceness_and_the_apis_do_not()
    {
        if (!OperatingSystem.IsLinux()) return;
        // The test cluster is embedded (same machine), as the host's own is; the host itself sees ConnectionStrings:Leads
        // here, so it renices nothing (an external server's processes are not its to renice).
        api.Services.GetRequiredService<BackgroundDataSource>().Nice.ShouldBe(0);
        var csb = new NpgsqlConnectionStringBuilder(api.ConnectionString) { Pooling = false, ApplicationName = "leads-bulk-nice-test" };
        await using var connections = new BackgroundDataSource(NpgsqlDataSource.Create(csb.ConnectionString), 10, NullLogger<BackgroundDataSource>.Instance);
        var (ws, bulk, url) = await StartAsync(60);
        var job = Job(streams: 2, chunkSize: 10, connections);
        var bulkNice = new List<int>();
        var apiNice = new List<int>();
        job.AfterChunk = async (_, _) =>
        {
            (await ws.Read.GetAsync("/api/leads?limit=5")).StatusCode.ShouldBe(HttpStatusCode.OK); // an API request meanwhile
            await using var db = await api.OpenDbAsync();
            var backends = await db.QueryAsync<(int Pid, string App)>("""
                SELECT pid, coalesce(application_name, '') FROM pg_stat_activity
                WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
                """);
            foreach (var (pid, app) in backends)
                if (NiceOf(pid) is { } n) (app == csb.ApplicationName ? bulkNice : apiNice).Add(n);
        };
        await job.RunAsync(bulk, CancellationToken.None);
        await ShouldBeExactlyOnceAsync(ws, bulk, url, 60);

        bulkNice.ShouldNotBeEmpty();
        bulkNice.ShouldAllBe(n => n == 10);
        apiNice.ShouldNotBeEmpty(); // the host's own pools (the API request, the job's claim) are there
        apiNice.ShouldAllBe(n => n == 0);
    }

    /// <summary>Field 19 of /proc/&lt;pid&gt;/stat (after the parenthesised command name: the 17th), or null when the process ended.</summary>
    private static int? NiceOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}
