using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Kernel.Ids;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Leads;

/// <summary>Spec §9: <c>PATCH /api/leads/:id</c> — merge patch, intake rules, one event, rescoring, regrouping, and reads that see it at once.</summary>
public sealed class UpdateLeadTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static StringContent MergePatch(string json) => new(json, Encoding.UTF8, "application/merge-patch+json");

    private static Task<HttpResponseMessage> PatchAsync(TestWorkspace ws, JsonNode lead, string json) =>
        ws.Full.PatchAsync($"/api/leads/{lead.Id()}", MergePatch(json));

    private async Task<JsonObject> PatchOkAsync(TestWorkspace ws, JsonNode lead, string json)
    {
        var r = await PatchAsync(ws, lead, json);
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        r.Headers.ETag.ShouldNotBeNull();
        return JsonNode.Parse(text)!.AsObject();
    }

    private async Task<JsonObject[]> EventsAsync(TestWorkspace ws, JsonNode lead, string? type = null) =>
        [.. (await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}/events?limit=100"))["data"]!.AsArray()
            .Select(e => e!.AsObject()).Where(e => type is null || e["type"]!.GetValue<string>() == type)];

    [Fact]
    public async Task Patches_fields_merges_metadata_records_one_event_and_rescores()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new
        {
            email = "jane@gmail.com", firstName = "Jane", lastName = "Smith", company = "Acme",
            metadata = new { keep = 1, drop = "x", nested = new { a = 1, b = 2 } },
        });
        var before = (await ws.Read.GetAsync($"/api/leads/{lead.Id()}")).Headers.ETag!.Tag;

        var r = await PatchAsync(ws, lead, """
            {"firstName": " Janet ", "company": null, "phone": "(247) 604-6018",
             "metadata": {"drop": null, "nested": {"b": null, "c": 3}, "added": true}}
            """);
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        r.Headers.ETag!.Tag.ShouldNotBe(before);
        var patched = JsonNode.Parse(text)!.AsObject();
        (patched["firstName"]!.GetValue<string>(), patched["lastName"]!.GetValue<string>(), patched["company"]).ShouldBe(("Janet", "Smith", null));
        patched["phone"]!.GetValue<string>().ShouldBe("(247) 604-6018");
        patched["phoneE164"]!.GetValue<string>().ShouldBe("+12476046018");
        JsonNode.DeepEquals(patched["metadata"], JsonNode.Parse("""{"keep":1,"nested":{"a":1,"c":3},"added":true}""")).ShouldBeTrue(patched["metadata"]!.ToJsonString());
        // valid_email 15 + free mail 5 + full name 10 + 3 metadata keys 10 (company 10 gone; the phone is possible, not valid)
        patched["score"]!.GetValue<int>().ShouldBe(40);

        var updated = (await EventsAsync(ws, lead, "lead_updated")).Single();
        JsonNode.DeepEquals(updated["data"], JsonNode.Parse("""
            {"changes": {
              "firstName": {"from": "Jane", "to": "Janet"},
              "phone": {"from": null, "to": "(247) 604-6018"},
              "company": {"from": "Acme", "to": null},
              "metadata": {"from": {"added": null, "drop": "x", "nested": {"a": 1, "b": 2}},
                           "to": {"added": true, "drop": null, "nested": {"a": 1, "c": 3}}}}}
            """)).ShouldBeTrue(updated["data"]!.ToJsonString());
        var score = (await EventsAsync(ws, lead, "score_changed")).Single();
        (score["data"]!["from"]!.GetValue<int>(), score["data"]!["to"]!.GetValue<int>()).ShouldBe((lead["score"]!.GetValue<int>(), 40));

        await using var db = await api.OpenDbAsync();
        var row = await db.QuerySingleAsync<(string FirstName, string? Company, string PhoneE164, short Score)>(
            "SELECT first_name, company, phone_e164, score FROM leads.leads WHERE id = @Id", new { Id = lead.Uuid() });
        row.ShouldBe(("Janet", null, "+12476046018", (short)40));
    }

    [Fact]
    public async Task A_patch_that_changes_nothing_records_nothing_and_keeps_the_version()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Same", email = "same@acme.io", metadata = new { a = 1 } });
        var etag = (await ws.Read.GetAsync($"/api/leads/{lead.Id()}")).Headers.ETag!.Tag;
        foreach (var json in new[] { "{}", """{"firstName":"Same"}""", """{"email":"same@acme.io","metadata":{"a":1},"lastName":null}""" })
        {
            var r = await PatchAsync(ws, lead, json);
            r.StatusCode.ShouldBe(HttpStatusCode.OK, json);
            r.Headers.ETag!.Tag.ShouldBe(etag, json);
        }
        (await EventsAsync(ws, lead)).Select(e => e["type"]!.GetValue<string>()).ShouldBe(["created"]);
    }

    [Theory]
    [InlineData("""{"email":"not-an-email"}""", "validation_failed", "email")]
    [InlineData("""{"firstName":null,"email":null}""", "validation_failed", "body")]
    [InlineData("""{"company":"x\u0000y"}""", "validation_failed", "company")]
    [InlineData("""{"lastName":"12345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901"}""", "validation_failed", "lastName")]
    [InlineData("""{"sourceId":"src_01m8brdj0efn9aftk3j67h2v9c"}""", "validation_failed", "sourceId")]
    [InlineData("""{"sourceId":"nope"}""", "validation_failed", "sourceId")]
    [InlineData("""{"score":100}""", "unknown_property", "score")]
    [InlineData("""{"status":"converted"}""", "unknown_property", "status")]
    [InlineData("""{"firstName":5}""", "invalid_json", "firstName")]
    [InlineData("""{"metadata":[1]}""", "invalid_json", "metadata")]
    [InlineData("""[1]""", "invalid_json", "body")]
    [InlineData("""{"firstName":""", "invalid_json", "body")]
    public async Task Bad_patches_are_400_naming_the_field_and_change_nothing(string json, string code, string field)
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Kept", email = "kept@acme.io" });
        var etag = (await ws.Read.GetAsync($"/api/leads/{lead.Id()}")).Headers.ETag!.Tag;
        var p = await (await PatchAsync(ws, lead, json)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, code);
        p["errors"]![field].ShouldNotBeNull(p.ToJsonString());
        var after = await ws.Read.GetAsync($"/api/leads/{lead.Id()}");
        after.Headers.ETag!.Tag.ShouldBe(etag);
        (await EventsAsync(ws, lead)).Length.ShouldBe(1);
    }

    [Fact]
    public async Task A_phone_never_refuses_an_edit_and_null_clears_it()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Pat", phone = "(415) 555-2671" });
        var patched = await PatchOkAsync(ws, lead, """{"phone":"call me"}""");
        (patched["phone"]!.GetValue<string>(), patched["phoneE164"]).ShouldBe(("call me", null));
        patched = await PatchOkAsync(ws, lead, """{"phone":null}""");
        patched["phone"].ShouldBeNull();
        // the last identity field cannot go
        await (await PatchAsync(ws, lead, """{"firstName":"  "}""")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Other_workspaces_and_read_keys_cannot_patch_and_merged_leads_say_so()
    {
        var ws = await api.CreateWorkspaceAsync();
        var other = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Mine" });
        await (await other.Full.PatchAsync($"/api/leads/{lead.Id()}", MergePatch("""{"firstName":"Theirs"}"""))).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        await (await ws.Read.PatchAsync($"/api/leads/{lead.Id()}", MergePatch("""{"firstName":"Read"}"""))).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        var dup = await ws.CreateLeadAsync(new { firstName = "Dup" });
        (await ws.Full.PostJsonAsync($"/api/leads/{lead.Id()}/merge", new { duplicateId = dup.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await PatchAsync(ws, dup, """{"firstName":"Gone"}""")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_merged");
        (await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}"))["firstName"]!.GetValue<string>().ShouldBe("Mine");
    }

    [Fact]
    public async Task A_new_email_flags_the_lead_into_an_older_group_and_losing_the_match_clears_it()
    {
        var ws = await api.CreateWorkspaceAsync();
        var primary = await ws.CreateLeadAsync(new { firstName = "Old", email = "old@acme.io" });
        var lead = await ws.CreateLeadAsync(new { firstName = "New", email = "new@acme.io" });
        var follower = await ws.CreateLeadAsync(new { firstName = "Follower", email = "NEW@acme.io" });
        follower["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(lead.Id());

        var flagged = await PatchOkAsync(ws, lead, """{"email":"Old@Acme.io"}""");
        flagged["isDuplicate"]!.GetValue<bool>().ShouldBeTrue();
        JsonNode.DeepEquals(flagged["duplicateOf"], JsonNode.Parse($$"""{"id":"{{primary.Id()}}","matchedOn":["email"]}""")).ShouldBeTrue(flagged.ToJsonString());
        JsonNode.DeepEquals((await EventsAsync(ws, lead, "duplicate_flagged")).Single()["data"],
            JsonNode.Parse($$"""{"primaryId":"{{primary.Id()}}","matchedOn":["email"]}""")).ShouldBeTrue();
        // Its own duplicate moved along: groups stay one level deep.
        (await ws.Read.GetObjectAsync($"/api/leads/{follower.Id()}"))["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(primary.Id());
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["duplicates"]!.GetValue<long>().ShouldBe(2);
        (await ws.Read.GetObjectAsync("/api/leads?duplicates=only")).Ids().ShouldBe([follower.Id(), lead.Id()]);

        var cleared = await PatchOkAsync(ws, lead, """{"email":"elsewhere@acme.io"}""");
        cleared["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();
        cleared["duplicateOf"].ShouldBeNull();
        JsonNode.DeepEquals((await EventsAsync(ws, lead, "duplicate_cleared")).Single()["data"],
            JsonNode.Parse($$"""{"primaryId":"{{primary.Id()}}"}""")).ShouldBeTrue();
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["duplicates"]!.GetValue<long>().ShouldBe(1);
        (await ws.Read.GetObjectAsync("/api/leads?duplicates=exclude")).Ids().ShouldBe([lead.Id(), primary.Id()]);
    }

    [Fact]
    public async Task An_older_lead_never_goes_under_a_younger_one_and_a_duplicate_that_still_matches_stays()
    {
        var ws = await api.CreateWorkspaceAsync();
        var older = await ws.CreateLeadAsync(new { firstName = "Older", email = "older@acme.io" });
        var younger = await ws.CreateLeadAsync(new { firstName = "Younger", email = "young@acme.io", phone = "+1 415 555 2671" });
        (await PatchOkAsync(ws, older, """{"email":"young@acme.io"}"""))["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();
        (await EventsAsync(ws, older, "duplicate_flagged")).ShouldBeEmpty();

        var dup = await ws.CreateLeadAsync(new { firstName = "Dup", email = "young@acme.io" });
        dup["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(older.Id());
        // Still matches its group by email after gaining the younger lead's phone: it stays.
        var stays = await PatchOkAsync(ws, dup, """{"phone":"+1 415 555 2671"}""");
        JsonNode.DeepEquals(stays["duplicateOf"], JsonNode.Parse($$"""{"id":"{{older.Id()}}","matchedOn":["email"]}""")).ShouldBeTrue(stays.ToJsonString());
        (await EventsAsync(ws, dup, "duplicate_cleared")).ShouldBeEmpty();
        // Losing the email match leaves the group and joins the (still older than it) younger lead's group by phone.
        var moved = await PatchOkAsync(ws, dup, """{"email":"dup@acme.io"}""");
        JsonNode.DeepEquals(moved["duplicateOf"], JsonNode.Parse($$"""{"id":"{{younger.Id()}}","matchedOn":["phone"]}""")).ShouldBeTrue(moved.ToJsonString());
        (await EventsAsync(ws, dup, "duplicate_cleared")).Single()["data"]!["primaryId"]!.GetValue<string>().ShouldBe(older.Id());
        (await EventsAsync(ws, dup, "duplicate_flagged")).Length.ShouldBe(2);
    }

    [Fact]
    public async Task Search_totals_counters_and_stats_see_an_edit_at_once()
    {
        var ws = await api.CreateWorkspaceAsync();
        var leads = new List<JsonObject>();
        for (var i = 0; i < 12; i++) leads.Add(await ws.CreateLeadAsync(new { firstName = i % 2 == 0 ? "Zebulon" : "Other", lastName = $"N{i}", email = $"z{i}@acme.io" }));
        // Remember the search total and first page in the node's list cache.
        for (var i = 0; i < 2; i++) await ShouldMatchAsync(ws, "search=zebu", "l.search_text LIKE '%zebu%'");

        await PatchOkAsync(ws, leads[1], """{"firstName":"Zebulon"}""");
        await ShouldMatchAsync(ws, "search=zebu", "l.search_text LIKE '%zebu%'");
        await PatchOkAsync(ws, leads[0], """{"firstName":"Ann","lastName":null}""");
        await ShouldMatchAsync(ws, "search=zebu", "l.search_text LIKE '%zebu%'");
        await ShouldMatchAsync(ws, "search=ann", "l.search_text LIKE '%ann%'");
        await PatchOkAsync(ws, leads[2], """{"email":"z3@acme.io"}"""); // now a duplicate of leads[3]? no: leads[3] is younger
        await PatchOkAsync(ws, leads[5], """{"email":"z4@acme.io"}"""); // a duplicate of the older leads[4]
        await ShouldMatchAsync(ws, "duplicates=only", "l.duplicate_of IS NOT NULL");
        await ShouldMatchAsync(ws, "search=z4%40acme", "l.search_text LIKE '%z4@acme%'");
        var stats = await ws.Read.GetObjectAsync("/api/leads/stats");
        await using var db = await api.OpenDbAsync();
        stats["total"]!.GetValue<long>().ShouldBe(await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id }));
        stats["duplicates"]!.GetValue<long>().ShouldBe(await db.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM leads.leads WHERE workspace_id = @Id AND duplicate_of IS NOT NULL", new { ws.Id }));
        stats["duplicates"]!.GetValue<long>().ShouldBe(1);
    }

    private async Task ShouldMatchAsync(TestWorkspace ws, string query, string where)
    {
        var body = await ws.Read.GetObjectAsync($"/api/leads?{query}&limit=5");
        await using var db = await api.OpenDbAsync();
        var total = await db.ExecuteScalarAsync<long>($"SELECT count(*) FROM leads.leads l WHERE l.workspace_id = @Ws AND {where}", new { Ws = ws.Id });
        var ids = (await db.QueryAsync<Guid>($"""
            SELECT l.id FROM leads.leads l WHERE l.workspace_id = @Ws AND {where} ORDER BY l.created_at DESC, l.id DESC LIMIT 5
            """, new { Ws = ws.Id })).Select(i => TypeId.Format("lead", i)).ToArray();
        body["pagination"]!["total"]!.GetValue<long>().ShouldBe(total, query);
        body.Ids().ShouldBe(ids, query);
    }
}
