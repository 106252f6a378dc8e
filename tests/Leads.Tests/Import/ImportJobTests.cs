using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Import;

/// <summary>The import job end to end: counters, error report, duplicates, options, crash safety, parity with single intake.</summary>
public sealed class ImportJobTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Valid_rows_are_imported_rejected_rows_reported_and_counters_reconcile()
    {
        var ws = await api.CreateWorkspaceAsync();
        var csv = "email,firstName,lastName,phone,company\n" +
                  "ann@acme.io,Ann,Lee,+1 415 555 2671,Acme\n" +
                  "broken-email,Bob,,,\n" +
                  ",,,,Only Company\n" +
                  "cy@gmail.com,Cy,,12,\n" +
                  "dee@acme.io,Dee,,,\n";
        var s = await ws.ImportAsync(ImportTestKit.Utf8(csv), fileName: "spring fair.csv");
        s.Str("status").ShouldBe("completed");
        s.Str("fileName").ShouldBe("spring fair.csv");
        (s.Long("totalRows"), s.Long("processedRows"), s.Long("created"), s.Long("failed"), s.Long("skipped"), s.Long("duplicates"))
            .ShouldBe((5, 5, 3, 2, 0, 0));
        s.ShouldReconcile();
        s.Errors().ShouldBe([
            (3L, "email is not a valid address."),
            (4L, "A lead needs at least one of email, phone, firstName or lastName."),
        ]);
        s.Str("errorsUrl").ShouldBe($"/api/leads/imports/{s.Id()}/errors");
        s["startedAt"].ShouldNotBeNull();
        s["finishedAt"].ShouldNotBeNull();
        s["failureReason"].ShouldBeNull();

        var leads = await ws.LeadsAsync();
        leads.Select(l => l["email"]!.GetValue<string>()).ShouldBe(["ann@acme.io", "cy@gmail.com", "dee@acme.io"]);
        var ann = await ws.Read.GetObjectAsync($"/api/leads/{leads[0].Id()}");
        ann["channel"]!.GetValue<string>().ShouldBe("import");
        var created = (await ws.Read.GetObjectAsync($"/api/leads/{leads[0].Id()}/events"))["data"]!.AsArray().Single()!;
        created["type"]!.GetValue<string>().ShouldBe("created");
        JsonNode.DeepEquals(created["actor"], JsonNode.Parse($$"""{"type":"import","id":"{{s.Id()}}","name":"spring fair.csv"}""")).ShouldBeTrue(created.ToJsonString());
        created["data"]!["importId"]!.GetValue<string>().ShouldBe(s.Id());
        created["data"]!["score"]!.GetValue<int>().ShouldBe(ann["score"]!.GetValue<int>());
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.events WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(0);
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.upload_chunks WHERE import_id = @Id", new { Id = s.Uuid("imp") })).ShouldBe(0);
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["total"]!.GetValue<long>().ShouldBe(3);
    }

    [Fact]
    public async Task Error_report_is_csv_of_original_columns_plus_line_and_error_and_reimports_once_fixed()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync("Email,First Name,Lead Source\nok@acme.io,Ok,fair\nnope,\"Smith, J\",web\nbad@,Bad,\n");
        var r = await ws.Read.GetAsync(s.Str("errorsUrl"));
        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        r.Content.Headers.ContentType!.MediaType.ShouldBe("text/csv");
        r.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
        var report = await r.Content.ReadAsStringAsync();
        report.ShouldBe("Email,First Name,Lead Source,line,error\r\n" +
                        "nope,\"Smith, J\",web,3,email is not a valid address.\r\n" +
                        "bad@,Bad,,4,email is not a valid address.\r\n");

        var fixedReport = report.Replace("nope,", "nope@acme.io,").Replace("bad@,", "bad@acme.io,");
        var again = await ws.ImportAsync(fixedReport);
        again.Long("created").ShouldBe(2, again.ToJsonString());
        again.Long("failed").ShouldBe(0);
        var lead = await ws.Read.GetObjectAsync($"/api/leads/{(await ws.LeadsAsync()).Last().Id()}");
        lead["email"]!.GetValue<string>().ShouldBe("bad@acme.io");
        JsonNode.DeepEquals(lead["metadata"], new JsonObject()).ShouldBeTrue(lead["metadata"]!.ToJsonString());
    }

    [Fact]
    public async Task Error_report_neutralises_formulas_like_an_export_and_leaves_phone_numbers_alone()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.ImportAsync("email,firstName,phone,=Header\n" +
                                     "nope,\"=HYPERLINK(\"\"http://x.example\"\")\",+1 (415) 555-2671,@SUM(A1)\n" +
                                     "bad@,-cmd,-5,\"+x\"\n");
        s.Long("failed").ShouldBe(2, s.ToJsonString());
        var report = await (await ws.Read.GetAsync(s.Str("errorsUrl"))).Content.ReadAsStringAsync();
        report.ShouldBe("email,firstName,phone,'=Header,line,error\r\n" +
                        "nope,\"'=HYPERLINK(\"\"http://x.example\"\")\",+1 (415) 555-2671,'@SUM(A1),2,email is not a valid address.\r\n" +
                        "bad@,'-cmd,-5,'+x,3,email is not a valid address.\r\n");
    }

    [Fact]
    public async Task Duplicates_within_the_file_and_against_existing_leads_are_flagged_like_single_intake()
    {
        var ws = await api.CreateWorkspaceAsync();
        var existing = await ws.CreateLeadAsync(new { email = "old@acme.io", phone = "+14155550100" });
        var s = await ws.ImportAsync("email,phone,firstName\n" +
                                     "OLD@acme.io,,A\n" +             // existing, by email
                                     "new@acme.io,4155550100,B\n" +   // existing, by phone
                                     "fresh@acme.io,4155550177,C\n" + // new primary
                                     "FRESH@acme.io,,D\n" +           // earlier row, by email
                                     ",+1 415 555 0177,E\n");         // earlier row, by phone
        s.Long("created").ShouldBe(5, s.ToJsonString());
        s.Long("duplicates").ShouldBe(4);
        s.ShouldReconcile();

        var leads = await ws.LeadsAsync();
        var byName = leads.Skip(1).ToDictionary(l => l["firstName"]!.GetValue<string>(), l => l.Id());
        async Task<JsonNode?> DupOf(string name) => (await ws.Read.GetObjectAsync($"/api/leads/{byName[name]}"))["duplicateOf"];
        JsonNode.DeepEquals(await DupOf("A"), JsonNode.Parse($$"""{"id":"{{existing.Id()}}","matchedOn":["email"]}""")).ShouldBeTrue();
        JsonNode.DeepEquals(await DupOf("B"), JsonNode.Parse($$"""{"id":"{{existing.Id()}}","matchedOn":["phone"]}""")).ShouldBeTrue();
        (await DupOf("C")).ShouldBeNull();
        JsonNode.DeepEquals(await DupOf("D"), JsonNode.Parse($$"""{"id":"{{byName["C"]}}","matchedOn":["email"]}""")).ShouldBeTrue();
        JsonNode.DeepEquals(await DupOf("E"), JsonNode.Parse($$"""{"id":"{{byName["C"]}}","matchedOn":["phone"]}""")).ShouldBeTrue();

        var flagged = (await ws.Read.GetObjectAsync($"/api/leads/{byName["D"]}/events"))["data"]!.AsArray();
        flagged[0]!["type"]!.GetValue<string>().ShouldBe("duplicate_flagged");
        JsonNode.DeepEquals(flagged[0]!["data"], JsonNode.Parse($$"""{"primaryId":"{{byName["C"]}}","matchedOn":["email"]}""")).ShouldBeTrue();
        flagged[0]!["actor"]!["type"]!.GetValue<string>().ShouldBe("import");
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["duplicates"]!.GetValue<long>().ShouldBe(4);
        // A later API lead of the same person joins the same groups.
        (await ws.CreateLeadAsync(new { phone = "415-555-0177" }))["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(byName["C"]);
    }

    [Fact]
    public async Task Rows_matching_two_groups_join_the_oldest_primary_as_sequential_intake_would()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.ImportAsync("email,phone\nx@acme.io,\n,+14155550111\nx@acme.io,+14155550111\n,+14155550111\n");
        var api2 = await api.CreateWorkspaceAsync();
        foreach (var body in new object[]
                 {
                     new { email = "x@acme.io" }, new { phone = "+14155550111" },
                     new { email = "x@acme.io", phone = "+14155550111" }, new { phone = "+14155550111" },
                 })
            await api2.CreateLeadAsync(body);
        await using var db = await api.OpenDbAsync();
        const string shape = """
            SELECT string_agg(coalesce((SELECT n FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM leads.leads WHERE workspace_id = @Ws) r
                                        WHERE r.id = l.duplicate_of), 0) || ':' || coalesce(array_to_string(g.matched_on, '+'), '')
                             , ' ' ORDER BY l.created_at, l.id)
            FROM leads.leads l LEFT JOIN duplicates.group_members g ON g.lead_id = l.id WHERE l.workspace_id = @Ws
            """;
        var imported = await db.ExecuteScalarAsync<string>(shape, new { Ws = ws.Id });
        var single = await db.ExecuteScalarAsync<string>(shape, new { Ws = api2.Id });
        imported.ShouldBe(single);
        imported.ShouldBe("0: 0: 1:email 1:phone");
    }

    [Fact]
    public async Task OnDuplicate_skip_counts_duplicates_as_skipped_and_writes_none_of_them()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { email = "old@acme.io" });
        var s = await ws.ImportAsync("email,phone\nold@acme.io,\nnew@acme.io,+14155550123\nNEW@acme.io,\n,+14155550123\nother@acme.io,\n",
            "?onDuplicate=skip");
        (s.Long("created"), s.Long("skipped"), s.Long("duplicates"), s.Long("failed")).ShouldBe((2, 3, 0, 0));
        s.Str("onDuplicate").ShouldBe("skip");
        s.ShouldReconcile();
        (await ws.LeadsAsync()).Select(l => l["email"]!.GetValue<string>()).ShouldBe(["old@acme.io", "new@acme.io", "other@acme.io"]);
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["duplicates"]!.GetValue<long>().ShouldBe(0);
    }

    [Fact]
    public async Task Dry_run_validates_and_counts_but_writes_no_leads()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { email = "old@acme.io" });
        var job = api.Job();
        job.Options = job.Options with { ChunkRows = 2 }; // in-file duplicates across chunks too
        var r = await ws.Full.PostAsync("/api/leads/import?dryRun=true", ImportTestKit.Multipart(ImportTestKit.Utf8(
            "email\nold@acme.io\na@acme.io\nbad\nA@acme.io\nb@acme.io\n"), "dry.csv"));
        r.StatusCode.ShouldBe(HttpStatusCode.Accepted);
        var id = (await r.Content.ReadFromJsonObjectAsync()).Id();
        await api.RunImportAsync(id, job);
        var s = await ws.Read.GetObjectAsync($"/api/leads/imports/{id}");
        s["dryRun"]!.GetValue<bool>().ShouldBeTrue();
        (s.Long("created"), s.Long("duplicates"), s.Long("failed")).ShouldBe((4, 2, 1), s.ToJsonString());
        s.ShouldReconcile();
        (await ws.LeadsAsync()).Length.ShouldBe(1);
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["total"]!.GetValue<long>().ShouldBe(1);
    }

    [Fact]
    public async Task Chunks_are_capped_by_bytes_as_well_as_rows()
    {
        var ws = await api.CreateWorkspaceAsync();
        // 12 rows of ~12,000 characters: each costs the batch ~48 KB, so a 64 KB cap commits them two by two.
        var rows = Enumerable.Range(1, 12).Select(i => $"w{i}@acme.io,{new string('w', 12_000)}");
        var r = await ws.Full.PostAsync("/api/leads/import", ImportTestKit.Multipart(ImportTestKit.Utf8("email,wide\n" + string.Join("\n", rows))));
        var id = (await r.Content.ReadFromJsonObjectAsync()).Id();
        var job = api.Job();
        job.Options = job.Options with { ChunkBytes = 64 * 1024 };
        var committed = new List<int>();
        job.TestHook = (p, n) => { if (p == "after-commit") committed.Add(n); };
        await api.RunImportAsync(id, job);

        committed.ShouldBe([1, 2, 3, 4, 5, 6]);
        var s = await ws.Read.GetObjectAsync($"/api/leads/imports/{id}");
        (s.Str("status"), s.Long("processedRows"), s.Long("created")).ShouldBe(("completed", 12, 12));
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(12);
    }

    [Theory]
    [InlineData("before-commit", 3)]
    [InlineData("after-commit", 2)]
    [InlineData("before-commit", 1)]
    public async Task A_run_that_crashes_mid_import_is_resumed_by_the_next_run_and_every_row_lands_exactly_once(string point, int chunk)
    {
        var ws = await api.CreateWorkspaceAsync();
        var rows = Enumerable.Range(1, 23).Select(i => i % 7 == 0 ? $"broken{i},x" : $"p{i}@acme.io,P{i}");
        var r = await ws.Full.PostAsync("/api/leads/import", ImportTestKit.Multipart(ImportTestKit.Utf8("email,firstName\n" + string.Join("\n", rows))));
        var id = (await r.Content.ReadFromJsonObjectAsync()).Id();

        var crashing = api.Job();
        crashing.Options = crashing.Options with { ChunkRows = 5 };
        crashing.TestHook = (p, n) => { if (p == point && n == chunk) throw new IOException("simulated crash"); };
        await Should.ThrowAsync<IOException>(() => api.RunImportAsync(id, crashing));
        var mid = await ws.Read.GetObjectAsync($"/api/leads/imports/{id}");
        mid.Str("status").ShouldBe("running");
        mid.ShouldReconcile();
        mid.Long("processedRows").ShouldBe(point == "after-commit" ? chunk * 5 : (chunk - 1) * 5);

        var resumed = api.Job();
        resumed.Options = resumed.Options with { ChunkRows = 5 };
        await api.RunImportAsync(id, resumed);
        await api.RunImportAsync(id, resumed); // a spare delivery finds it finished
        var s = await ws.Read.GetObjectAsync($"/api/leads/imports/{id}");
        s.Str("status").ShouldBe("completed");
        (s.Long("processedRows"), s.Long("created"), s.Long("failed")).ShouldBe((23, 20, 3));
        s.ShouldReconcile();
        s.Errors().Select(e => e.Line).ShouldBe([8L, 15L, 22L]);
        await using var db = await api.OpenDbAsync();
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(20);
        (await db.ExecuteScalarAsync<long>("SELECT count(DISTINCT email) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(20);
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id AND duplicate_of IS NOT NULL", new { ws.Id })).ShouldBe(0);
        (await db.ExecuteScalarAsync<int>("SELECT attempts FROM import.imports WHERE id = @Id", new { Id = s.Uuid("imp") })).ShouldBe(2);
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["total"]!.GetValue<long>().ShouldBe(20);
    }

    [Fact]
    public async Task A_database_restart_mid_import_leaves_it_running_for_the_retry_which_resumes_and_imports_every_row_once()
    {
        var ws = await api.CreateWorkspaceAsync();
        var rows = Enumerable.Range(1, 23).Select(i => $"p{i}@acme.io,P{i}");
        var r = await ws.Full.PostAsync("/api/leads/import", ImportTestKit.Multipart(ImportTestKit.Utf8("email,firstName\n" + string.Join("\n", rows))));
        var id = (await r.Content.ReadFromJsonObjectAsync()).Id();

        // What a PostgreSQL restart does to the job: the server ends its session (57P01) while chunk 2 is being written.
        var job = api.Job();
        job.Options = job.Options with { ChunkRows = 5 };
        job.TestHook = (p, n) =>
        {
            if (p != "before-commit" || n != 2) return;
            using var admin = new Npgsql.NpgsqlConnection(api.ConnectionString);
            admin.Open();
            admin.Execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'");
        };
        // Rethrown for Hangfire to retry (a transient error), not turned into a failed import.
        await Should.ThrowAsync<Npgsql.NpgsqlException>(() => api.RunImportAsync(id, job));
        var mid = await ws.Read.GetObjectAsync($"/api/leads/imports/{id}");
        mid.Str("status").ShouldBe("running", mid.ToJsonString());
        mid.Long("processedRows").ShouldBe(5);

        var retry = api.Job();
        retry.Options = retry.Options with { ChunkRows = 5 };
        await api.RunImportAsync(id, retry);
        var s = await ws.Read.GetObjectAsync($"/api/leads/imports/{id}");
        s.Str("status").ShouldBe("completed");
        (s.Long("processedRows"), s.Long("created"), s.Long("failed")).ShouldBe((23, 23, 0));
        await using var db = await api.OpenDbAsync();
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(23);
        (await db.ExecuteScalarAsync<long>("SELECT count(DISTINCT email) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(23);
    }

    [Theory]
    [InlineData("(415) 555-2671")]
    [InlineData("(247) 604-6018")]  // possible, not valid (§8): kept, matched, not scored
    [InlineData("0049 30 1234567")]
    [InlineData("call me")]         // no key at all
    public async Task Identical_leads_on_both_paths_csv_import_and_POST_api_leads(string phone)
    {
        var viaApi = await api.CreateWorkspaceAsync();
        var viaCsv = await api.CreateWorkspaceAsync();
        var apiSource = await viaApi.SourceAsync("Fair");
        var csvSource = await viaCsv.SourceAsync("Fair");
        // An earlier lead in each, so the new one is flagged the same way on both paths.
        await viaApi.CreateLeadAsync(new { email = "jane.doe@acme.com" });
        await viaCsv.CreateLeadAsync(new { email = "jane.doe@acme.com" });

        var created = await viaApi.CreateLeadAsync(new
        {
            email = "  Jane.Doe@Acme.com ", firstName = " Jane", lastName = "Doe ", phone, company = "Acme Corp",
            sourceId = apiSource, metadata = new Dictionary<string, string> { ["Budget"] = "10k", ["Region"] = "West" },
        });
        var s = await viaCsv.ImportAsync(ImportTestKit.Utf8(
            "Email Address,First Name,Last Name,Phone Number,Company Name,Budget,Region\n" +
            $"\"  Jane.Doe@Acme.com \", Jane,Doe ,{phone},Acme Corp,10k,West\n"), $"?sourceId={csvSource}");
        s.Long("created").ShouldBe(1, s.ToJsonString());
        var imported = await viaCsv.Read.GetObjectAsync($"/api/leads/{(await viaCsv.LeadsAsync()).Last().Id()}");

        static JsonObject Comparable(JsonObject lead, string primaryId)
        {
            var c = lead.DeepClone().AsObject();
            foreach (var volatileField in new[] { "id", "createdAt", "updatedAt", "channel" }) c.Remove(volatileField);
            c["source"]!.AsObject().Remove("id");
            c["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(primaryId);
            c["duplicateOf"]!.AsObject().Remove("id");
            return c;
        }
        var apiPrimary = (await viaApi.LeadsAsync())[0].Id();
        var csvPrimary = (await viaCsv.LeadsAsync())[0].Id();
        var a = Comparable(created, apiPrimary);
        var b = Comparable(imported, csvPrimary);
        JsonNode.DeepEquals(a, b).ShouldBeTrue($"\napi: {a.ToJsonString()}\ncsv: {b.ToJsonString()}");
        created["channel"]!.GetValue<string>().ShouldBe("api");
        imported["channel"]!.GetValue<string>().ShouldBe("import");

        const string keys = """
            SELECT email_norm || '|' || coalesce(phone_e164, '-') || '|' || score || '|' || created_score || '|' || array_to_string(g.matched_on, ',')
                   || '|' || metadata::text || '|' || status
            FROM leads.leads l LEFT JOIN duplicates.group_members g ON g.lead_id = l.id WHERE l.id = @Id
            """;
        (await api.ScalarAsync<string>(keys, new { Id = imported.Uuid() })).ShouldBe(await api.ScalarAsync<string>(keys, new { Id = created.Uuid() }));
        var csvEvents = (await viaCsv.Read.GetObjectAsync($"/api/leads/{imported.Id()}/events"))["data"]!.AsArray();
        var apiEvents = (await viaApi.Read.GetObjectAsync($"/api/leads/{created.Id()}/events"))["data"]!.AsArray();
        csvEvents.Select(e => e!["type"]!.GetValue<string>()).ShouldBe(apiEvents.Select(e => e!["type"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Source_option_scores_known_source_and_a_foreign_or_bad_source_is_400()
    {
        var ws = await api.CreateWorkspaceAsync();
        var other = await api.CreateWorkspaceAsync();
        var foreign = await other.SourceAsync("Theirs");
        var p = await (await ws.UploadAsync("email\na@acme.io\n", $"?sourceId={foreign}")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]!["sourceId"].ShouldNotBeNull();
        await (await ws.UploadAsync("email\na@acme.io\n", "?sourceId=nope")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await (await ws.UploadAsync("email\na@acme.io\n", "?onDuplicate=merge")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await (await ws.UploadAsync("email\na@acme.io\n", "?dryRun=maybe")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        (await api.ScalarAsync<long>("SELECT count(*) FROM import.imports WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(0);

        var mine = await ws.SourceAsync("Mine");
        var s = await ws.ImportAsync("email\na@acme.io\n", $"?sourceId={mine}");
        s.Str("sourceId").ShouldBe(mine);
        var lead = (await ws.LeadsAsync()).Single();
        lead["source"]!["id"]!.GetValue<string>().ShouldBe(mine);
        lead["score"]!.GetValue<int>().ShouldBe(15 + 15 + 10); // valid email, business domain, known source
    }
}
