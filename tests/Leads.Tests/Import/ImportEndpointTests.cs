using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Import;

/// <summary>Upload, status, list and error-report endpoints: shapes, scopes, tenancy and limits.</summary>
public sealed class ImportEndpointTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Upload_answers_202_with_location_and_a_queued_status_on_the_import_queue()
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await ws.UploadAsync("email\na@acme.io\n");
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.Accepted, text);
        var body = JsonNode.Parse(text)!.AsObject();
        body.Select(kv => kv.Key).ShouldBe(["id", "status", "statusUrl"]);
        body.Id().ShouldMatch("^imp_[0-9a-z]{26}$");
        body.Str("status").ShouldBe("queued");
        body.Str("statusUrl").ShouldBe($"/api/leads/imports/{body.Id()}");
        r.Headers.Location!.ToString().ShouldBe(body.Str("statusUrl"));

        var s = await ws.Read.GetObjectAsync(body.Str("statusUrl"));
        s.Select(kv => kv.Key).ShouldBe(["id", "status", "fileName", "totalRows", "processedRows", "created", "duplicates", "skipped",
            "failed", "errors", "errorsUrl", "createdAt", "startedAt", "finishedAt", "failureReason", "dryRun", "onDuplicate", "sourceId"]);
        s.Str("status").ShouldBe("queued");
        s["totalRows"].ShouldBeNull();
        s["startedAt"].ShouldBeNull();
        s.Str("fileName").ShouldBe("leads.csv");
        s.Str("createdAt").ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");
        s["errors"]!.AsArray().Count.ShouldBe(0);

        var queued = await api.ScalarAsync<long>(
            "SELECT count(*) FROM hangfire.jobqueue q JOIN hangfire.job j ON j.id = q.jobid WHERE q.queue = 'import' AND j.arguments::text LIKE @Arg",
            new { Arg = $"%{body.Uuid("imp")}%" });
        queued.ShouldBe(1);
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.upload_chunks WHERE import_id = @Id", new { Id = body.Uuid("imp") })).ShouldBe(1);
    }

    [Fact]
    public async Task Raw_text_csv_body_and_options_as_form_fields_work_too()
    {
        var ws = await api.CreateWorkspaceAsync();
        var raw = await ws.Full.PostAsync("/api/leads/import?fileName=../../etc/raw%0A.csv&onDuplicate=skip", ImportTestKit.Raw(ImportTestKit.Utf8("email\nr@acme.io\n")));
        raw.StatusCode.ShouldBe(HttpStatusCode.Accepted, await raw.Content.ReadAsStringAsync());
        var id = (await raw.Content.ReadFromJsonObjectAsync()).Id();
        await api.RunImportAsync(id);
        var s = await ws.Read.GetObjectAsync($"/api/leads/imports/{id}");
        s.Str("fileName").ShouldBe("raw.csv");
        s.Str("onDuplicate").ShouldBe("skip");
        s.Long("created").ShouldBe(1);

        var form = await ws.Full.PostAsync("/api/leads/import", ImportTestKit.Multipart(ImportTestKit.Utf8("email\nf@acme.io\n"), "form.csv",
            new Dictionary<string, string> { ["dryRun"] = "true", ["onDuplicate"] = "skip" }));
        form.StatusCode.ShouldBe(HttpStatusCode.Accepted, await form.Content.ReadAsStringAsync());
        var fs = await ws.Read.GetObjectAsync($"/api/leads/imports/{(await form.Content.ReadFromJsonObjectAsync()).Id()}");
        fs["dryRun"]!.GetValue<bool>().ShouldBeTrue();
        fs.Str("onDuplicate").ShouldBe("skip");
    }

    [Fact]
    public async Task Multipart_without_a_file_part_is_400_and_other_media_types_415()
    {
        var ws = await api.CreateWorkspaceAsync();
        var form = new MultipartFormDataContent { { new StringContent("true"), "dryRun" } };
        await (await ws.Full.PostAsync("/api/leads/import", form)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await (await ws.Full.PostAsync("/api/leads/import", Http.Json(new { email = "a@acme.io" })))
            .ShouldBeProblemAsync(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.imports WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(0);
    }

    [Fact]
    public async Task Read_key_gets_403_and_writes_nothing_but_may_read_status()
    {
        var ws = await api.CreateWorkspaceAsync();
        await (await ws.Read.PostAsync("/api/leads/import", ImportTestKit.Multipart(ImportTestKit.Utf8("email\na@acme.io\n"))))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.imports WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(0);
        var s = await ws.ImportAsync("email\na@acme.io\n");
        (await ws.Read.GetAsync($"/api/leads/imports/{s.Id()}")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Read.GetAsync($"/api/leads/imports/{s.Id()}/errors")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await api.Client().GetAsync($"/api/leads/imports/{s.Id()}")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Another_workspaces_or_unknown_or_malformed_import_is_404_import_not_found()
    {
        var ws = await api.CreateWorkspaceAsync();
        var other = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync("email\nbad\n");
        foreach (var url in new[]
                 {
                     $"/api/leads/imports/{s.Id()}", $"/api/leads/imports/{s.Id()}/errors",
                 })
            await (await other.Read.GetAsync(url)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "import_not_found");
        foreach (var id in new[] { "imp_00000000000000000000000000", "lead_01jdq3v5x8e9r7a2b4c6d8f0gh", "nope" })
        {
            await (await ws.Read.GetAsync($"/api/leads/imports/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "import_not_found");
            await (await ws.Read.GetAsync($"/api/leads/imports/{id}/errors")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "import_not_found");
        }
        (await ws.Read.GetAsync($"/api/leads/imports/{s.Uuid("imp")}")).StatusCode.ShouldBe(HttpStatusCode.OK); // bare UUID accepted
        (await other.Read.GetObjectAsync("/api/leads/imports"))["data"]!.AsArray().Count.ShouldBe(0);
    }

    [Fact]
    public async Task List_is_newest_first_and_paged_like_leads()
    {
        var ws = await api.CreateWorkspaceAsync();
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
            ids.Add((await (await ws.UploadAsync($"email\nl{i}@acme.io\n")).Content.ReadFromJsonObjectAsync()).Id());
        var page = await ws.Read.GetObjectAsync("/api/leads/imports?limit=2");
        page.Ids().ShouldBe([ids[2], ids[1]]);
        JsonNode.DeepEquals(page["pagination"], JsonNode.Parse("""{"page":1,"limit":2,"total":3,"pages":2}""")).ShouldBeTrue();
        page["data"]![0]!.AsObject().ContainsKey("errors").ShouldBeFalse();
        page["data"]![0]!["errorsUrl"].ShouldNotBeNull();
        (await ws.Read.GetObjectAsync("/api/leads/imports?page=2&limit=2")).Ids().ShouldBe([ids[0]]);
        await (await ws.Read.GetAsync("/api/leads/imports?limit=101")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await (await ws.Read.GetAsync("/api/leads/imports?page=0")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Status_lists_only_the_first_100_errors_the_report_has_them_all()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync("email\n" + string.Concat(Enumerable.Range(0, 150).Select(i => $"bad{i}\n")));
        s.Long("failed").ShouldBe(150);
        s.Errors().Length.ShouldBe(100);
        s.Errors()[99].Line.ShouldBe(101);
        var report = await ws.Read.GetStringAsync(s.Str("errorsUrl"));
        report.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length.ShouldBe(151);
    }
}

/// <summary>Import limits lowered so tests can cross them.</summary>
public sealed class SmallImportLimitsFactory : ApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Import:MaxBytes"] = "2000",
        ["Import:MaxRows"] = "3",
    };
}

public sealed class ImportLimitTests(SmallImportLimitsFactory api) : IClassFixture<SmallImportLimitsFactory>
{
    [Fact]
    public async Task Over_MaxBytes_is_413_payload_too_large_and_leaves_nothing_behind()
    {
        var ws = await api.CreateWorkspaceAsync();
        var big = "email\n" + string.Concat(Enumerable.Range(0, 200).Select(i => $"person{i}@acme.io\n"));
        await (await ws.Full.PostAsync("/api/leads/import", ImportTestKit.Multipart(ImportTestKit.Utf8(big))))
            .ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        // Without a declared length (chunked), the limit is enforced while streaming.
        var chunked = new StreamContent(new MemoryStream(ImportTestKit.Utf8(big)));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        var req = new HttpRequestMessage(HttpMethod.Post, "/api/leads/import") { Content = chunked };
        req.Headers.TransferEncodingChunked = true;
        await (await ws.Full.SendAsync(req)).ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.imports WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(0);
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.upload_chunks")).ShouldBe(0);
    }

    [Fact]
    public async Task Over_MaxRows_fails_the_job_with_the_reason_and_imports_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync("email\na@acme.io\nb@acme.io\nc@acme.io\nd@acme.io\n");
        s.Str("status").ShouldBe("failed");
        s.Str("failureReason").ShouldContain("more than 3 rows");
        s.Long("created").ShouldBe(0);
        (await ws.LeadsAsync()).ShouldBeEmpty();
        var ok = await ws.ImportAsync("email\na@acme.io\nb@acme.io\nc@acme.io\n");
        ok.Str("status").ShouldBe("completed");
    }
}
