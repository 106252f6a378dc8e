using System.Net;
using Dapper;
using Kernel.Ids;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Modules.Access.Idempotency;
using Modules.Import.Jobs;

namespace Leads.Tests.Import;

/// <summary>Issue 16 item 8: rejected rows, finished export files and idempotency records are not kept forever.</summary>
public sealed class RetentionTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private Task<RetentionResult> SweepAsync() => api.Services.GetRequiredService<ImportRetention>().RunAsync(CancellationToken.None);

    [Fact]
    public async Task Rejected_rows_of_imports_finished_past_the_retention_are_deleted_and_the_import_keeps_its_counts()
    {
        var ws = await api.CreateWorkspaceAsync();
        var old = await ws.ImportAsync("email,firstName\nnot-an-email,A\nb@example.com,B\n");
        var recent = await ws.ImportAsync("email,firstName\nalso-bad,C\n");
        old.Long("failed").ShouldBe(1);
        TypeId.TryParse(old.Str("id"), "imp", out var oldId).ShouldBeTrue();
        TypeId.TryParse(recent.Str("id"), "imp", out var recentId).ShouldBeTrue();
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("UPDATE import.imports SET finished_at = now() - interval '31 days' WHERE id = @oldId", new { oldId });

        (await SweepAsync()).RowErrors.ShouldBe(1);

        (await api.ScalarAsync<long>("SELECT count(*) FROM import.row_errors WHERE import_id = @oldId", new { oldId })).ShouldBe(0);
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.row_errors WHERE import_id = @recentId", new { recentId })).ShouldBe(1);
        var status = await ws.Read.GetObjectAsync($"/api/leads/imports/{old.Str("id")}");
        status.Long("failed").ShouldBe(1);
        status.Long("created").ShouldBe(1);
        status.Errors().ShouldBeEmpty();
    }

    [Fact]
    public async Task Exports_finished_past_the_retention_are_deleted_with_their_file_and_then_not_found()
    {
        var ws = await api.CreateWorkspaceAsync();
        Guid old = Guid.CreateVersion7(), recent = Guid.CreateVersion7(), running = Guid.CreateVersion7();
        await using (var db = await api.OpenDbAsync())
        {
            await db.ExecuteAsync("""
                INSERT INTO import.exports (id, workspace_id, status, row_count, byte_count, created_by_key, started_at, finished_at)
                VALUES (@old, @ws, 'completed', 1, 4, @old, now() - interval '8 days', now() - interval '8 days'),
                       (@recent, @ws, 'completed', 1, 4, @old, now() - interval '6 days', now() - interval '6 days');
                INSERT INTO import.exports (id, workspace_id, status, created_by_key, created_at) VALUES (@running, @ws, 'running', @old, now() - interval '9 days');
                INSERT INTO import.export_chunks (export_id, seq, data) VALUES (@old, 0, '\x61626364'::bytea), (@recent, 0, '\x61626364'::bytea);
                """, new { old, recent, running, ws = ws.Id });
        }

        (await SweepAsync()).Exports.ShouldBe(1);

        (await api.ScalarAsync<long>("SELECT count(*) FROM import.export_chunks WHERE export_id = @old", new { old })).ShouldBe(0);
        await (await ws.Read.GetAsync($"/api/leads/exports/{TypeId.Format(IdPrefix.Export, old)}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "export_not_found");
        (await ws.Read.GetAsync($"/api/leads/exports/{TypeId.Format(IdPrefix.Export, recent)}/file")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Read.GetAsync($"/api/leads/exports/{TypeId.Format(IdPrefix.Export, running)}")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Idempotency_records_past_their_retention_are_swept_and_live_ones_kept()
    {
        var ws = await api.CreateWorkspaceAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/leads") { Content = Http.Json(new { email = "kept@example.com" }) };
        request.Headers.Add("Idempotency-Key", "kept");
        (await ws.Full.SendAsync(request)).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await api.ScalarAsync<bool>("""
            SELECT expires_at BETWEEN now() + interval '23 hours' AND now() + interval '25 hours'
            FROM access.idempotency_requests WHERE workspace_id = @Id AND key = 'kept'
            """, new { ws.Id })).ShouldBeTrue();
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("""
                INSERT INTO access.idempotency_requests (workspace_id, key, status_code, completed_at, expires_at)
                SELECT @Id, 'old-' || s, 201, now() - interval '2 days', now() - interval '1 day' FROM generate_series(1, 1500) s
                """, new { ws.Id });

        (await api.Services.GetRequiredService<IdempotencySweep>().RunAsync(CancellationToken.None)).ShouldBeGreaterThanOrEqualTo(1500);

        (await api.ScalarAsync<long>("SELECT count(*) FROM access.idempotency_requests WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(1);
    }
}
