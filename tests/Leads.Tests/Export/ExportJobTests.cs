using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Kernel.Ids;
using Leads.Tests.Infrastructure;
using Leads.Tests.Sources;
using Leads.Tests.Tags;
using Microsoft.Extensions.DependencyInjection;
using Modules.Import.Jobs;

namespace Leads.Tests.Export;

/// <summary>Async exports: POST /api/leads/exports, the ExportLeadsJob (awaited directly), status and file download.</summary>
public sealed class ExportJobTests(ExportApiFactory api) : IClassFixture<ExportApiFactory>
{
    private ExportLeadsJob Job() => api.Services.GetRequiredService<ExportLeadsJob>();

    private static async Task<JsonObject> StartAsync(TestWorkspace ws, object filters)
    {
        var r = await ws.Full.PostJsonAsync("/api/leads/exports", filters);
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.Accepted, text);
        var body = JsonNode.Parse(text)!.AsObject();
        r.Headers.Location!.ToString().ShouldBe(body["statusUrl"]!.GetValue<string>());
        return body;
    }

    private static Guid Uuid(JsonNode export) => TypeId.TryParse(export.Id(), IdPrefix.Export, out var g) ? g : throw new InvalidOperationException(export.Id());

    /// <summary>Twelve leads with long-ish fields (several 1 KiB chunks), a source, an assignee, tags and a duplicate.</summary>
    private static async Task SeedAsync(TestWorkspace ws)
    {
        var source = await ws.CreateSourceAsync("Website Form");
        var rep = await ws.CreateMemberAsync("Chidi Anagonye");
        for (var i = 0; i < 12; i++)
        {
            var lead = await ws.CreateLeadAsync(new
            {
                email = i == 11 ? "lead0@example.com" : $"lead{i}@example.com", firstName = $"First{i}", lastName = $"Last name, number {i}",
                company = $"Company \"{i}\" with a rather long name to fill the chunks up", sourceId = i % 2 == 0 ? source.Id() : null,
            });
            if (i % 3 == 0) await ws.AssignAsync(lead, rep);
            if (i % 4 == 0) await ws.TagAsync(lead.Id(), "vip");
            if (i % 5 == 0) await ws.SetStatusAsync(lead, "contacted");
        }
    }

    private async Task<long> ChunkRowsAsync(Guid exportId) =>
        await api.ScalarAsync<long>("SELECT count(*) FROM import.export_chunks WHERE export_id = @exportId", new { exportId });

    [Fact]
    public async Task End_to_end_the_file_equals_the_synchronous_export_for_the_same_filters()
    {
        var ws = await api.CreateWorkspaceAsync();
        await SeedAsync(ws);
        var started = await StartAsync(ws, new { duplicates = "exclude", search = "example.com" });
        started["status"]!.GetValue<string>().ShouldBe("queued");
        started.Id().ShouldStartWith("exp_");
        started["statusUrl"]!.GetValue<string>().ShouldBe($"/api/leads/exports/{started.Id()}");
        var id = Uuid(started);
        await using (var db = await api.OpenDbAsync())
        {
            var row = await db.QuerySingleAsync("SELECT workspace_id, status, filters::text AS filters, created_by_key FROM import.exports WHERE id = @id", new { id });
            ((Guid)row.workspace_id).ShouldBe(ws.Id);
            ((string)row.status).ShouldBe("queued");
            JsonNode.Parse((string)row.filters)!["duplicates"]!.GetValue<string>().ShouldBe("exclude");
            // Enqueued for Hangfire on the export queue (not the import one: imports must not hold exports back), with
            // the export's ID as the only argument.
            (await db.ExecuteScalarAsync<string>(
                "SELECT q.queue FROM hangfire.job j JOIN hangfire.jobqueue q ON q.jobid = j.id WHERE j.arguments::text LIKE '%' || @id || '%'", new { id = id.ToString() }))
                .ShouldBe("export");
        }
        var queued = await ws.Read.GetObjectAsync(started["statusUrl"]!.GetValue<string>());
        queued["status"]!.GetValue<string>().ShouldBe("queued");
        queued["fileUrl"].ShouldBeNull();
        queued["rowCount"].ShouldBeNull();
        await (await ws.Read.GetAsync($"/api/leads/exports/{started.Id()}/file")).ShouldBeProblemAsync(HttpStatusCode.Conflict, "export_not_ready");

        await Job().RunAsync(id, CancellationToken.None);

        var done = await ws.Read.GetObjectAsync($"/api/leads/exports/{started.Id()}");
        var (syncResponse, syncBody) = await ws.Read.ExportAsync("duplicates=exclude&search=example.com");
        var syncBytes = await syncResponse.Content.ReadAsByteArrayAsync();
        done["status"]!.GetValue<string>().ShouldBe("completed");
        done["rowCount"]!.GetValue<long>().ShouldBe(11);
        done["byteCount"]!.GetValue<long>().ShouldBe(syncBytes.Length);
        done["fileUrl"]!.GetValue<string>().ShouldBe($"/api/leads/exports/{started.Id()}/file");
        done["failureReason"].ShouldBeNull();
        done["startedAt"]!.GetValue<string>().ShouldMatch(SourceTestExtensions.TimestampPattern);
        done["finishedAt"]!.GetValue<string>().ShouldMatch(SourceTestExtensions.TimestampPattern);
        (await ChunkRowsAsync(id)).ShouldBeGreaterThan(2);

        var file = await ws.Read.GetAsync(done["fileUrl"]!.GetValue<string>());
        file.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await file.Content.ReadAsStringAsync()).ShouldBe(syncBody);
        file.Content.Headers.ContentType!.ToString().ShouldBe("text/csv; charset=utf-8");
        file.Content.Headers.ContentLength.ShouldBe(syncBytes.Length);
        file.Content.Headers.ContentDisposition!.ToString().ShouldBe($"attachment; filename=\"leads-{DateTime.Parse(done["createdAt"]!.GetValue<string>()).ToUniversalTime():yyyyMMdd}.csv\"");
        file.Headers.CacheControl!.NoStore.ShouldBeTrue();
        ExportTestKit.Ids(syncBody).Length.ShouldBe(11);
    }

    [Fact]
    public async Task An_empty_body_exports_every_lead()
    {
        var ws = await api.CreateWorkspaceAsync();
        await SeedAsync(ws);
        var started = await StartAsync(ws, new { });
        await Job().RunAsync(Uuid(started), CancellationToken.None);
        var file = await (await ws.Read.GetAsync($"/api/leads/exports/{started.Id()}/file")).Content.ReadAsStringAsync();
        file.ShouldBe((await ws.Read.ExportAsync()).Body);
        ExportTestKit.Ids(file).Length.ShouldBe(12);
    }

    [Fact]
    public async Task Running_the_job_twice_in_a_row_or_at_once_leaves_one_complete_file()
    {
        var ws = await api.CreateWorkspaceAsync();
        await SeedAsync(ws);
        var expected = (await ws.Read.ExportAsync()).Body;

        var first = await StartAsync(ws, new { });
        await Job().RunAsync(Uuid(first), CancellationToken.None);
        var chunks = await ChunkRowsAsync(Uuid(first));
        await Job().RunAsync(Uuid(first), CancellationToken.None);
        (await ChunkRowsAsync(Uuid(first))).ShouldBe(chunks);
        (await api.ScalarAsync<int>("SELECT attempts FROM import.exports WHERE id = @Id", new { Id = Uuid(first) })).ShouldBe(1);
        (await (await ws.Read.GetAsync($"/api/leads/exports/{first.Id()}/file")).Content.ReadAsStringAsync()).ShouldBe(expected);

        // At-least-once delivery can also mean two workers at the same time: the second waits for the first's lock.
        var second = await StartAsync(ws, new { });
        await Task.WhenAll(Job().RunAsync(Uuid(second), CancellationToken.None), Job().RunAsync(Uuid(second), CancellationToken.None));
        (await ChunkRowsAsync(Uuid(second))).ShouldBe(chunks);
        (await (await ws.Read.GetAsync($"/api/leads/exports/{second.Id()}/file")).Content.ReadAsStringAsync()).ShouldBe(expected);
        (await ws.Read.GetObjectAsync($"/api/leads/exports/{second.Id()}"))["rowCount"]!.GetValue<long>().ShouldBe(12);
    }

    [Fact]
    public async Task A_crash_after_the_first_chunk_leaves_no_file_and_the_retry_writes_it_whole()
    {
        var ws = await api.CreateWorkspaceAsync();
        await SeedAsync(ws);
        var started = await StartAsync(ws, new { });
        var id = Uuid(started);

        var crashing = Job();
        crashing.AfterChunk = (n, _) => n == 1 ? throw new IOException("simulated crash after chunk 1") : Task.CompletedTask;
        await Should.ThrowAsync<IOException>(() => crashing.RunAsync(id, CancellationToken.None));

        var status = await ws.Read.GetObjectAsync($"/api/leads/exports/{started.Id()}");
        status["status"]!.GetValue<string>().ShouldBe("queued");
        status["fileUrl"].ShouldBeNull();
        status["failureReason"].ShouldBeNull();
        (await ChunkRowsAsync(id)).ShouldBe(0);
        await (await ws.Read.GetAsync($"/api/leads/exports/{started.Id()}/file")).ShouldBeProblemAsync(HttpStatusCode.Conflict, "export_not_ready");

        await Job().RunAsync(id, CancellationToken.None);
        (await (await ws.Read.GetAsync($"/api/leads/exports/{started.Id()}/file")).Content.ReadAsStringAsync()).ShouldBe((await ws.Read.ExportAsync()).Body);
        (await api.ScalarAsync<int>("SELECT attempts FROM import.exports WHERE id = @id", new { id })).ShouldBe(2);
    }

    [Fact]
    public async Task A_process_killed_mid_run_is_rerun_from_scratch()
    {
        var ws = await api.CreateWorkspaceAsync();
        await SeedAsync(ws);
        var started = await StartAsync(ws, new { status = "contacted" });
        var id = Uuid(started);
        // What kill -9 during a run leaves: status running, and (had anything been committed early) stray chunks.
        await using (var db = await api.OpenDbAsync())
        {
            await db.ExecuteAsync("UPDATE import.exports SET status = 'running', attempts = 1, started_at = now() WHERE id = @id", new { id });
            await db.ExecuteAsync("INSERT INTO import.export_chunks (export_id, seq, data) SELECT @id, s, '\\x6a756e6b'::bytea FROM generate_series(0, 9) s", new { id });
        }
        (await ws.Read.GetObjectAsync($"/api/leads/exports/{started.Id()}"))["status"]!.GetValue<string>().ShouldBe("running");
        await (await ws.Read.GetAsync($"/api/leads/exports/{started.Id()}/file")).ShouldBeProblemAsync(HttpStatusCode.Conflict, "export_not_ready");

        await Job().RunAsync(id, CancellationToken.None);
        var file = await (await ws.Read.GetAsync($"/api/leads/exports/{started.Id()}/file")).Content.ReadAsStringAsync();
        file.ShouldBe((await ws.Read.ExportAsync("status=contacted")).Body);
        file.ShouldNotContain("junk");
    }

    [Fact]
    public async Task FinishedAt_is_when_the_file_was_complete_not_when_writing_began()
    {
        var ws = await api.CreateWorkspaceAsync();
        await SeedAsync(ws);
        var started = await StartAsync(ws, new { });
        var job = Job();
        job.AfterChunk = (_, ct) => Task.Delay(200, ct);
        await job.RunAsync(Uuid(started), CancellationToken.None);
        var done = await ws.Read.GetObjectAsync($"/api/leads/exports/{started.Id()}");
        done["status"]!.GetValue<string>().ShouldBe("completed");
        (await ChunkRowsAsync(Uuid(started))).ShouldBeGreaterThan(2);
        var took = DateTime.Parse(done["finishedAt"]!.GetValue<string>()) - DateTime.Parse(done["startedAt"]!.GetValue<string>());
        took.ShouldBeGreaterThan(TimeSpan.FromMilliseconds(400)); // at least two chunks' 200 ms delays
    }

    [Fact]
    public async Task At_a_worker_s_start_recovery_requeues_an_export_a_killed_run_left_running_but_not_one_a_live_run_holds()
    {
        var ws = await api.CreateWorkspaceAsync();
        await SeedAsync(ws);
        var orphanExport = await StartAsync(ws, new { });
        var liveExport = await StartAsync(ws, new { });
        var (orphan, live) = (Uuid(orphanExport), Uuid(liveExport));
        // kill -9 mid-run leaves the export running with no run behind it; a live run holds its export's row lock.
        await using var db = await api.OpenDbAsync();
        await db.ExecuteAsync("UPDATE import.exports SET status = 'running', attempts = 1, started_at = now() WHERE id = ANY(@ids)", new { ids = new[] { orphan, live } });
        await using var liveRun = await api.OpenDbAsync();
        await using var liveTx = await liveRun.BeginTransactionAsync();
        await liveRun.ExecuteAsync("SELECT 1 FROM import.exports WHERE id = @live FOR UPDATE", new { live }, liveTx);

        var jobs = new RecordingJobClient();
        var recovery = new ExportRecovery(api.Services.GetRequiredService<Npgsql.NpgsqlDataSource>(), jobs,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ExportRecovery>.Instance);
        await recovery.StartAsync(CancellationToken.None);
        await recovery.ExecuteTask!;
        await liveTx.RollbackAsync();

        jobs.Enqueued.ShouldContain((orphan, ExportLeadsJob.Queue));
        jobs.Enqueued.Select(j => j.ExportId).ShouldNotContain(live);
        (await ws.Read.GetObjectAsync($"/api/leads/exports/{orphanExport.Id()}"))["status"]!.GetValue<string>().ShouldBe("queued");
        (await ws.Read.GetObjectAsync($"/api/leads/exports/{liveExport.Id()}"))["status"]!.GetValue<string>().ShouldBe("running");

        // The enqueued run writes the whole file.
        await Job().RunAsync(orphan, CancellationToken.None);
        var file = await (await ws.Read.GetAsync($"/api/leads/exports/{orphanExport.Id()}/file")).Content.ReadAsStringAsync();
        file.ShouldBe((await ws.Read.ExportAsync()).Body);
        (await api.ScalarAsync<int>("SELECT attempts FROM import.exports WHERE id = @orphan", new { orphan })).ShouldBe(2);
    }

    /// <summary>Records what is enqueued instead of storing it: (the export's ID, the queue).</summary>
    private sealed class RecordingJobClient : Hangfire.IBackgroundJobClient
    {
        public List<(Guid ExportId, string Queue)> Enqueued { get; } = [];

        public string Create(Hangfire.Common.Job job, Hangfire.States.IState state)
        {
            job.Type.ShouldBe(typeof(ExportLeadsJob));
            Enqueued.Add(((Guid)job.Args[0], job.Queue ?? ((Hangfire.States.EnqueuedState)state).Queue));
            return Enqueued.Count.ToString();
        }

        public bool ChangeState(string jobId, Hangfire.States.IState state, string expectedState) => throw new NotSupportedException();
    }

    [Fact]
    public async Task The_last_failed_attempt_marks_the_export_failed_with_a_reason()
    {
        var ws = await api.CreateWorkspaceAsync();
        await SeedAsync(ws);
        var started = await StartAsync(ws, new { });
        var id = Uuid(started);
        await api.ScalarAsync<int>("UPDATE import.exports SET attempts = 3 WHERE id = @id RETURNING attempts", new { id });
        var job = Job();
        job.AfterChunk = (_, _) => throw new IOException("disk on fire");
        await Should.ThrowAsync<IOException>(() => job.RunAsync(id, CancellationToken.None));

        var status = await ws.Read.GetObjectAsync($"/api/leads/exports/{started.Id()}");
        status["status"]!.GetValue<string>().ShouldBe("failed");
        status["failureReason"]!.GetValue<string>().ShouldContain("failed 4 times");
        status["failureReason"]!.GetValue<string>().ShouldNotContain("disk on fire");
        status["finishedAt"].ShouldNotBeNull();
        var p = await (await ws.Read.GetAsync($"/api/leads/exports/{started.Id()}/file")).ShouldBeProblemAsync(HttpStatusCode.Conflict, "export_not_ready");
        p["detail"]!.GetValue<string>().ShouldContain("failed");
    }

    [Fact]
    public async Task Another_workspace_s_export_is_not_found_and_a_read_key_may_not_start_one()
    {
        var ws = await api.CreateWorkspaceAsync();
        var other = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { firstName = "Secret" });
        var started = await StartAsync(ws, new { });
        await Job().RunAsync(Uuid(started), CancellationToken.None);

        await (await other.Read.GetAsync($"/api/leads/exports/{started.Id()}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "export_not_found");
        await (await other.Read.GetAsync($"/api/leads/exports/{started.Id()}/file")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "export_not_found");
        await (await ws.Read.GetAsync("/api/leads/exports/exp_01m8brdj0efn9aftk3j67h2v9c")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "export_not_found");
        await (await ws.Read.GetAsync("/api/leads/exports/not-an-id/file")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "export_not_found");
        await (await ws.Read.GetAsync($"/api/leads/exports/{started.Id().Replace("exp_", "lead_")}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "export_not_found");
        // Bare UUIDs work too, and a read key may poll and download.
        (await ws.Read.GetObjectAsync($"/api/leads/exports/{Uuid(started)}"))["status"]!.GetValue<string>().ShouldBe("completed");

        await (await ws.Read.PostJsonAsync("/api/leads/exports", new { })).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.exports WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(1);
    }

    [Fact]
    public async Task Invalid_filters_and_unknown_properties_are_400_and_start_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Full.PostJsonAsync("/api/leads/exports", new { status = "open", endDate = "soon" }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]!["status"].ShouldNotBeNull();
        p["errors"]!["endDate"].ShouldNotBeNull();
        var u = await (await ws.Full.PostAsync("/api/leads/exports", Http.Json("""{"status":"new","limit":10}""")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "unknown_property");
        u["errors"]!["limit"].ShouldNotBeNull();
        await (await ws.Full.PostAsync("/api/leads/exports", Http.Json("""{"status":5}"""))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_json");
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.exports WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(0);
    }
}
