using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dapper;
using Kernel.Ids;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Modules.Import.Jobs;

namespace Leads.Tests.Import;

/// <summary>One upload and two downloads at once per key, three per workspace: small enough to reach in a test.</summary>
public sealed class SlowClientApiFactory : ApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Transfers:PerKey"] = "1",
        ["Transfers:PerWorkspace"] = "2",
    };
}

/// <summary>
/// Issue 16 item 6: a client that sends or reads slowly must hold no database connection, transaction or snapshot
/// while it dawdles, and one key or workspace can only run so many such transfers at once.
/// </summary>
public sealed class SlowClientTests(SlowClientApiFactory api) : IClassFixture<SlowClientApiFactory>
{
    /// <summary>A request body that sends its first part, then waits for <see cref="Release"/> before the rest.</summary>
    private sealed class PausedContent : HttpContent
    {
        private readonly byte[] _first;
        private readonly byte[] _rest;
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public PausedContent(byte[] first, byte[] rest)
        {
            _first = first;
            _rest = rest;
            Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        }

        public void Release() => _release.TrySetResult();
        public void Fail() => _release.TrySetException(new IOException("client went away"));

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_first);
            await stream.FlushAsync();
            await _release.Task;
            await stream.WriteAsync(_rest);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    /// <summary>A CSV whose first part is over one stored piece (1 MiB), so a piece is written before the pause.</summary>
    private static PausedContent BigCsv()
    {
        var first = new StringBuilder("email,firstName\n");
        for (var i = 0; first.Length < (1 << 20) + 4096; i++) first.Append($"slow{i}@example.com,Slow {i} with some padding to fill the piece\n");
        return new PausedContent(Encoding.UTF8.GetBytes(first.ToString()), "last@example.com,Last\n"u8.ToArray());
    }

    private async Task WaitForAsync(string sql, object? args = null)
    {
        for (var i = 0; i < 600; i++)
        {
            if (await api.ScalarAsync<bool>(sql, args)) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("Never became true: " + sql);
    }

    /// <summary>Backends of the test database that are inside a transaction or a statement (other than this query).</summary>
    private Task<long> BusyBackendsAsync(string like) => api.ScalarAsync<long>("""
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND (state LIKE 'idle in transaction%' OR (state = 'active' AND query LIKE @Like))
        """, new { Like = like });

    [Fact]
    public async Task A_paused_upload_has_committed_its_pieces_holds_no_transaction_and_stays_invisible_until_done()
    {
        var ws = await api.CreateWorkspaceAsync();
        var body = BigCsv();
        var upload = ws.Full.PostAsync("/api/leads/import?fileName=slow.csv", body);

        // Before: the whole upload was one transaction, so no other connection could see a piece until the end.
        await WaitForAsync("""
            SELECT EXISTS (SELECT 1 FROM import.upload_chunks c JOIN import.imports i ON i.id = c.import_id WHERE i.workspace_id = @Id)
            """, new { ws.Id });
        (await BusyBackendsAsync("%upload_chunks%")).ShouldBe(0);
        (await api.ScalarAsync<string>("SELECT status FROM import.imports WHERE workspace_id = @Id", new { ws.Id })).ShouldBe("uploading");
        var list = await ws.Read.GetObjectAsync("/api/leads/imports");
        list["data"]!.AsArray().Count.ShouldBe(0);

        body.Release();
        var r = await upload;
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.Accepted, text);
        var id = System.Text.Json.Nodes.JsonNode.Parse(text)!["id"]!.GetValue<string>();
        var status = await ws.Read.GetObjectAsync($"/api/leads/imports/{id}");
        status["status"]!.GetValue<string>().ShouldBe("queued");
        await api.RunImportAsync(id);
        var done = await ws.Read.GetObjectAsync($"/api/leads/imports/{id}");
        done["status"]!.GetValue<string>().ShouldBe("completed");
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id AND email = 'last@example.com'", new { ws.Id })).ShouldBe(1);
    }

    [Fact]
    public async Task A_long_upload_renews_its_idempotency_claim_so_the_key_is_not_taken_over()
    {
        var ws = await api.CreateWorkspaceAsync();
        var previous = Modules.Access.Idempotency.IdempotencyMiddleware.HeartbeatInterval;
        Modules.Access.Idempotency.IdempotencyMiddleware.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
        try
        {
            var body = BigCsv();
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/leads/import") { Content = body };
            request.Headers.Add("Idempotency-Key", "long-upload");
            var upload = ws.Full.SendAsync(request);
            await WaitForAsync("SELECT EXISTS (SELECT 1 FROM import.imports WHERE workspace_id = @Id)", new { ws.Id });
            // As if the claim had been silent for an hour: only a running request's beat brings it back.
            await api.ScalarAsync<long>("""
                WITH u AS (UPDATE access.idempotency_requests SET heartbeat_at = now() - interval '1 hour'
                           WHERE workspace_id = @Id AND key = 'long-upload' RETURNING 1) SELECT count(*) FROM u
                """, new { ws.Id });
            await WaitForAsync("SELECT heartbeat_at > now() - interval '1 minute' FROM access.idempotency_requests WHERE workspace_id = @Id AND key = 'long-upload'", new { ws.Id });

            var again = new HttpRequestMessage(HttpMethod.Post, "/api/leads/import") { Content = ImportTestKit.Raw(ImportTestKit.Utf8("email\na@example.com\n")) };
            again.Headers.Add("Idempotency-Key", "long-upload");
            await (await ws.Full.SendAsync(again)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "idempotency_key_in_flight");

            body.Release();
            (await upload).StatusCode.ShouldBe(HttpStatusCode.Accepted);
            (await api.ScalarAsync<long>("SELECT count(*) FROM import.imports WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(1);
        }
        finally
        {
            Modules.Access.Idempotency.IdempotencyMiddleware.HeartbeatInterval = previous;
        }
    }

    [Fact]
    public async Task An_upload_that_breaks_off_leaves_nothing_behind()
    {
        var ws = await api.CreateWorkspaceAsync();
        var body = BigCsv();
        var upload = ws.Full.PostAsync("/api/leads/import", body);
        await WaitForAsync("SELECT EXISTS (SELECT 1 FROM import.imports WHERE workspace_id = @Id AND size_bytes = 0 AND status = 'uploading' AND EXISTS (SELECT 1 FROM import.upload_chunks WHERE import_id = id))", new { ws.Id });

        body.Fail();
        await Should.ThrowAsync<Exception>(upload);

        await WaitForAsync("SELECT NOT EXISTS (SELECT 1 FROM import.imports WHERE workspace_id = @Id)", new { ws.Id });
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.upload_chunks c WHERE NOT EXISTS (SELECT 1 FROM import.imports i WHERE i.id = c.import_id)")).ShouldBe(0);
    }

    [Fact]
    public async Task The_retention_sweep_deletes_uploads_silent_past_the_limit_and_keeps_live_ones()
    {
        var ws = await api.CreateWorkspaceAsync();
        Guid stale = Guid.CreateVersion7(), live = Guid.CreateVersion7();
        await using (var db = await api.OpenDbAsync())
        {
            await db.ExecuteAsync("""
                INSERT INTO import.imports (id, workspace_id, file_name, on_duplicate, status, updated_at)
                VALUES (@stale, @ws, 'upload.csv', 'flag', 'uploading', now() - interval '2 hours'),
                       (@live, @ws, 'upload.csv', 'flag', 'uploading', now() - interval '5 minutes');
                INSERT INTO import.upload_chunks (import_id, seq, data) VALUES (@stale, 0, '\x61'::bytea), (@live, 0, '\x61'::bytea);
                """, new { stale, live, ws = ws.Id });
        }

        var result = await api.Services.GetRequiredService<ImportRetention>().RunAsync(CancellationToken.None);

        result.AbandonedUploads.ShouldBe(1);
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.imports WHERE id = @stale", new { stale })).ShouldBe(0);
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.upload_chunks WHERE import_id = @stale", new { stale })).ShouldBe(0);
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.upload_chunks WHERE import_id = @live", new { live })).ShouldBe(1);
    }

    [Fact]
    public async Task A_second_upload_of_one_key_is_429_while_the_first_runs_and_the_workspace_has_its_own_bound()
    {
        var ws = await api.CreateWorkspaceAsync();
        var first = BigCsv();
        var running = ws.Full.PostAsync("/api/leads/import", first);
        await WaitForAsync("SELECT EXISTS (SELECT 1 FROM import.imports WHERE workspace_id = @Id)", new { ws.Id });

        var refused = await ws.Full.PostAsync("/api/leads/import", ImportTestKit.Raw(ImportTestKit.Utf8("email\na@example.com\n")));
        var problem = await refused.ShouldBeProblemAsync((HttpStatusCode)429, "too_many_transfers");
        problem["detail"]!.GetValue<string>().ShouldContain("Transfers:PerKey");
        refused.Headers.RetryAfter.ShouldNotBeNull();

        // Another key of the workspace may run one (the workspace allows two); a third key may not.
        var second = BigCsv();
        var other = api.Client(await api.CreateKeyAsync(ws.Name, "full", "member"));
        var secondRun = other.PostAsync("/api/leads/import", second);
        await WaitForAsync("SELECT count(*) = 2 FROM import.imports WHERE workspace_id = @Id", new { ws.Id });
        var third = await api.Client(await api.CreateKeyAsync(ws.Name, "full", "admin"))
            .PostAsync("/api/leads/import", ImportTestKit.Raw(ImportTestKit.Utf8("email\na@example.com\n")));
        (await third.ShouldBeProblemAsync((HttpStatusCode)429, "too_many_transfers"))["detail"]!.GetValue<string>().ShouldContain("Transfers:PerWorkspace");

        first.Release();
        second.Release();
        (await running).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        (await secondRun).StatusCode.ShouldBe(HttpStatusCode.Accepted);
        // The slot is free again: refused uploads left no import behind, the next one is accepted.
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.imports WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(2);
        (await ws.UploadAsync("email\na@example.com\n")).StatusCode.ShouldBe(HttpStatusCode.Accepted);
    }

    /// <summary>A completed export of 300 stored pieces of 1 KiB (more than the test server buffers for a reader).</summary>
    private Task<string> StoredExportAsync(TestWorkspace ws) => api.StoredExportAsync(ws.Id, 300, 1024);

    [Fact]
    public async Task A_slow_export_download_holds_no_statement_and_a_second_one_of_the_key_is_429()
    {
        var ws = await api.CreateWorkspaceAsync();
        var exp = await StoredExportAsync(ws);
        using var slow = await ws.Read.GetAsync($"/api/leads/exports/{exp}/file", HttpCompletionOption.ResponseHeadersRead);
        slow.StatusCode.ShouldBe(HttpStatusCode.OK);
        await using var stream = await slow.Content.ReadAsStreamAsync();
        var buffer = new byte[1024];
        (await stream.ReadAtLeastAsync(buffer, 1024)).ShouldBe(1024);

        // Before: one REPEATABLE READ transaction and one statement stayed open until the reader had everything. Waited
        // for rather than sampled once: a backend of the class's earlier tests may still be finishing on a loaded machine.
        await WaitForAsync("""
            SELECT count(*) = 0 FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
              AND (state LIKE 'idle in transaction%' OR (state = 'active' AND query LIKE '%export_chunks%'))
            """);
        await (await ws.Read.GetAsync($"/api/leads/exports/{exp}/file")).ShouldBeProblemAsync((HttpStatusCode)429, "too_many_transfers");

        var rest = new MemoryStream();
        await stream.CopyToAsync(rest);
        (rest.Length + 1024).ShouldBe(300 * 1024);
        rest.ToArray().ShouldAllBe(b => b == (byte)'a');
        (await ws.Read.GetAsync($"/api/leads/exports/{exp}/file")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_slow_error_report_reader_holds_no_statement_and_the_report_is_whole_and_in_order()
    {
        var ws = await api.CreateWorkspaceAsync();
        var id = Guid.CreateVersion7();
        await using (var db = await api.OpenDbAsync())
        {
            await db.ExecuteAsync("""
                INSERT INTO import.imports (id, workspace_id, file_name, on_duplicate, status, header, total_rows, processed_rows, failed, finished_at)
                VALUES (@id, @ws, 'big.csv', 'flag', 'completed', ARRAY['email', 'note'], 3000, 3000, 3000, now());
                INSERT INTO import.row_errors (import_id, row_no, line, message, fields)
                SELECT @id, s, s + 2, 'email is not valid', ARRAY['bad' || s, repeat('x', 200)] FROM generate_series(0, 2999) s;
                """, new { id, ws = ws.Id });
        }
        using var slow = await ws.Read.GetAsync($"/api/leads/imports/{TypeId.Format(IdPrefix.Import, id)}/errors", HttpCompletionOption.ResponseHeadersRead);
        slow.StatusCode.ShouldBe(HttpStatusCode.OK);
        await using var stream = await slow.Content.ReadAsStreamAsync();
        var buffer = new byte[1024];
        (await stream.ReadAtLeastAsync(buffer, 1024)).ShouldBe(1024);

        // Before: one unbuffered statement stayed open (active, sending) until the reader had every row.
        (await BusyBackendsAsync("%row_errors%")).ShouldBe(0);

        var rest = new MemoryStream();
        await stream.CopyToAsync(rest);
        var csv = Encoding.UTF8.GetString(buffer) + Encoding.UTF8.GetString(rest.ToArray());
        var rows = Export.ExportTestKit.ParseCsv(csv);
        rows[0].ShouldBe(["email", "note", "line", "error"]);
        rows.Count.ShouldBe(3001);
        rows.Skip(1).Select(r => r[0]).ShouldBe(Enumerable.Range(0, 3000).Select(i => $"bad{i}"));
    }
}
