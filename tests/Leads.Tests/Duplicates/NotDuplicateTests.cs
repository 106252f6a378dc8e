using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Import;
using Leads.Tests.Infrastructure;
using Leads.Tests.Sources;

namespace Leads.Tests.Duplicates;

/// <summary>
/// <c>POST /api/leads/:id/not-duplicate</c> (spec §10) and the dismissed pair on every detection path: API create,
/// webhook, CSV import (set-based, within one chunk too) and PATCH. The running example: Pat and Dana share a family
/// landline, so Dana was flagged under Pat.
/// </summary>
public sealed class NotDuplicateTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private const string Landline = "+1 415 555 0142";

    private sealed record Family(TestWorkspace Ws, JsonObject Pat, JsonObject Dana);

    private async Task<Family> FamilyAsync(string tag = "")
    {
        var ws = await api.CreateWorkspaceAsync();
        var pat = await ws.CreateLeadAsync(new { email = $"pat{tag}@home.io", firstName = "Pat", phone = Landline });
        var dana = await ws.CreateLeadAsync(new { email = $"dana{tag}@home.io", firstName = "Dana", phone = Landline });
        dana["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(pat.Id());
        return new Family(ws, pat, dana);
    }

    private static Task<HttpResponseMessage> DismissAsync(TestWorkspace ws, JsonNode lead) =>
        ws.Full.PostAsync($"/api/leads/{lead.Id()}/not-duplicate", null);

    private Task<Guid?> PrimaryOfAsync(JsonNode lead) => DuplicateOfAsync("SELECT duplicate_of FROM leads.leads WHERE id = @Id", new { Id = lead.Uuid() });

    private async Task<Guid?> DuplicateOfAsync(string sql, object args)
    {
        await using var db = await api.OpenDbAsync();
        return await db.ExecuteScalarAsync<Guid?>(sql, args);
    }

    private static async Task<JsonArray> EventsAsync(TestWorkspace ws, JsonNode lead, string type) =>
        new([.. (await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}/events?limit=100"))["data"]!.AsArray()
            .Where(e => e!["type"]!.GetValue<string>() == type).Select(e => e!.DeepClone())]);

    [Fact]
    public async Task The_lead_leaves_its_group_the_pair_is_remembered_and_both_leads_get_an_event()
    {
        var (ws, pat, dana) = await FamilyAsync();
        var r = await DismissAsync(ws, dana);
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        r.Headers.ETag.ShouldNotBeNull();
        var body = JsonNode.Parse(text)!;
        body.Id().ShouldBe(dana.Id());
        body["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();
        body["duplicateOf"].ShouldBeNull();

        (await PrimaryOfAsync(dana)).ShouldBeNull();
        (await api.ScalarAsync<long>("""
            SELECT count(*) FROM duplicates.dismissed_pairs
            WHERE workspace_id = @W AND lead_a = least(@A::uuid, @B::uuid) AND lead_b = greatest(@A::uuid, @B::uuid)
            """, new { W = ws.Id, A = pat.Uuid(), B = dana.Uuid() })).ShouldBe(1);
        var expected = JsonNode.Parse($$"""{"primaryId":"{{pat.Id()}}","duplicateId":"{{dana.Id()}}"}""");
        foreach (var lead in new[] { pat, dana })
            JsonNode.DeepEquals((await EventsAsync(ws, lead, "duplicate_dismissed")).Single()!["data"], expected).ShouldBeTrue(lead.Id());
        (await ws.Read.GetObjectAsync($"/api/leads/{pat.Id()}/duplicates"))["data"]!.AsArray().ShouldBeEmpty();
        (await ws.Read.GetObjectAsync("/api/leads?duplicates=only")).Ids().ShouldBeEmpty();
    }

    [Fact]
    public async Task A_lead_that_is_not_flagged_is_a_409_not_flagged_and_nothing_is_written()
    {
        var (ws, pat, dana) = await FamilyAsync();
        await (await DismissAsync(ws, pat)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "not_flagged");
        (await DismissAsync(ws, dana)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await DismissAsync(ws, dana)).ShouldBeProblemAsync(HttpStatusCode.Conflict, "not_flagged");
        (await EventsAsync(ws, dana, "duplicate_dismissed")).Count.ShouldBe(1);
        (await api.ScalarAsync<long>("SELECT count(*) FROM duplicates.dismissed_pairs WHERE workspace_id = @W", new { W = ws.Id })).ShouldBe(1);
    }

    [Fact]
    public async Task Unknown_merged_and_other_workspaces_leads_are_404s_and_a_stale_If_Match_is_a_412()
    {
        var (ws, pat, dana) = await FamilyAsync();
        var other = await api.CreateWorkspaceAsync();
        await (await DismissAsync(other, dana)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        await (await ws.Full.PostAsync("/api/leads/lead_01jdq3v5x8e9r7a2b4c6d8f0gh/not-duplicate", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");

        var stale = new HttpRequestMessage(HttpMethod.Post, $"/api/leads/{dana.Id()}/not-duplicate");
        stale.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        await (await ws.Full.SendAsync(stale)).ShouldBeProblemAsync(HttpStatusCode.PreconditionFailed, "precondition_failed");
        (await PrimaryOfAsync(dana)).ShouldBe(pat.Uuid());

        var extra = await ws.CreateLeadAsync(new { email = "x@home.io", phone = Landline });
        (await ws.Full.PostJsonAsync($"/api/leads/{pat.Id()}/merge", new { duplicateId = extra.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await DismissAsync(ws, extra)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_merged");
    }

    [Fact]
    public async Task An_edit_never_flags_the_pair_again()
    {
        var (ws, pat, dana) = await FamilyAsync();
        (await DismissAsync(ws, dana)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.PatchJsonAsync($"/api/leads/{dana.Id()}", new { phone = "+1 415 555 0199" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        var back = await (await ws.Full.PatchJsonAsync($"/api/leads/{dana.Id()}", new { phone = Landline, email = pat["email"]!.GetValue<string>() })).BodyAsync();
        back["isDuplicate"]!.GetValue<bool>().ShouldBeFalse(back.ToJsonString());
        (await PrimaryOfAsync(dana)).ShouldBeNull();
        (await EventsAsync(ws, dana, "duplicate_flagged")).Count.ShouldBe(1); // only the original flag
    }

    [Fact]
    public async Task A_new_lead_that_is_the_dismissed_lead_again_joins_it_not_the_former_primary_via_API_and_webhook()
    {
        var (ws, pat, dana) = await FamilyAsync();
        (await DismissAsync(ws, dana)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var danaAgain = await ws.CreateLeadAsync(new { email = "DANA@home.io", phone = Landline });
        danaAgain["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(dana.Id());
        danaAgain["duplicateOf"]!["matchedOn"]!.AsArray().Select(x => x!.GetValue<string>()).ShouldBe(["email", "phone"]);

        var source = await ws.CreateSourceAsync("Form");
        (await api.PostWebhookAsync(source["webhookToken"]!.GetValue<string>(), """{"email":"dana@home.io","phone":"4155550142","firstName":"Hook"}"""))
            .StatusCode.ShouldBe(HttpStatusCode.OK);
        var hooked = await DuplicateOfAsync("SELECT duplicate_of FROM leads.leads WHERE workspace_id = @W AND first_name = 'Hook'", new { W = ws.Id });
        hooked.ShouldBe(dana.Uuid());

        // Someone else on the landline only, and Pat again: the ordinary rule (oldest primary) still applies.
        (await ws.CreateLeadAsync(new { phone = Landline }))["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(pat.Id());
        (await ws.CreateLeadAsync(new { email = "pat@home.io", phone = Landline }))["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(pat.Id());
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task An_import_chunk_applies_the_same_rule_against_existing_leads_and_its_own_earlier_rows()
    {
        var (ws, pat, dana) = await FamilyAsync();
        (await DismissAsync(ws, dana)).StatusCode.ShouldBe(HttpStatusCode.OK);
        // Row 1 is a landline-only newcomer (joins Pat's group), so row 2 (Dana again) matches Pat's group through an
        // earlier row of the same chunk as well as Pat — and must still join Dana.
        var status = await ws.ImportAsync("firstName,email,phone\nKid,,4155550142\nDana2,dana@home.io,4155550142\nPat2,pat@home.io,4155550142\n");
        status["status"]!.GetValue<string>().ShouldBe("completed");
        await using var db = await api.OpenDbAsync();
        var rows = (await db.QueryAsync<(string FirstName, Guid? DuplicateOf)>(
            "SELECT first_name, duplicate_of FROM leads.leads WHERE workspace_id = @W AND channel = 'import'", new { W = ws.Id })).ToDictionary(r => r.FirstName, r => r.DuplicateOf);
        rows["Kid"].ShouldBe(pat.Uuid());
        rows["Dana2"].ShouldBe(dana.Uuid());
        rows["Pat2"].ShouldBe(pat.Uuid());
        (await PrimaryOfAsync(dana)).ShouldBeNull();
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task A_merge_or_delete_that_moves_a_group_never_puts_a_lead_under_its_dismissed_partner()
    {
        // Merge: Kid hangs under Pat, and Kid and Dana are a dismissed pair (written directly: Kid was never under Dana).
        // Merging Pat into Dana moves Pat's duplicates under Dana — all but Kid, who becomes a primary instead.
        var (ws, pat, dana) = await FamilyAsync();
        (await DismissAsync(ws, dana)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var kid = await ws.CreateLeadAsync(new { firstName = "Kid", phone = Landline });
        kid["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(pat.Id());
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("INSERT INTO duplicates.dismissed_pairs (lead_a, lead_b, workspace_id) VALUES (least(@A::uuid, @B::uuid), greatest(@A::uuid, @B::uuid), @W)",
                new { A = kid.Uuid(), B = dana.Uuid(), W = ws.Id });
        (await ws.Full.PostJsonAsync($"/api/leads/{dana.Id()}/merge", new { duplicateId = pat.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await PrimaryOfAsync(kid)).ShouldBeNull();
        (await EventsAsync(ws, kid, "duplicate_cleared")).Single()!["data"]!["primaryId"]!.GetValue<string>().ShouldBe(dana.Id());

        // Delete: Pat2 (primary) with two duplicates dismissed against each other; deleting Pat2 promotes the older one
        // and the other, instead of moving under it, stands alone.
        var pat2 = await ws.CreateLeadAsync(new { email = "pat2@home.io", phone = "+1 415 555 0177" });
        var a = await ws.CreateLeadAsync(new { email = "pat2@home.io" });
        var b = await ws.CreateLeadAsync(new { phone = "+1 415 555 0177" });
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("INSERT INTO duplicates.dismissed_pairs (lead_a, lead_b, workspace_id) VALUES (least(@A::uuid, @B::uuid), greatest(@A::uuid, @B::uuid), @W)",
                new { A = a.Uuid(), B = b.Uuid(), W = ws.Id });
        (await ws.Full.DeleteAsync($"/api/leads/{pat2.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await PrimaryOfAsync(a)).ShouldBeNull();
        (await PrimaryOfAsync(b)).ShouldBeNull();
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public async Task Deleting_a_lead_forgets_its_dismissed_pairs()
    {
        var (ws, _, dana) = await FamilyAsync();
        (await DismissAsync(ws, dana)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.DeleteAsync($"/api/leads/{dana.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await api.ScalarAsync<long>("SELECT count(*) FROM duplicates.dismissed_pairs WHERE workspace_id = @W", new { W = ws.Id })).ShouldBe(0);
    }

    [Fact]
    public async Task Dismissal_racing_an_import_of_the_same_person_never_re_flags_the_pair()
    {
        var ws = await api.CreateWorkspaceAsync();
        for (var round = 0; round < 50; round++)
        {
            var phone = $"+1 415 555 {round:0000}";
            var pat = await ws.CreateLeadAsync(new { email = $"pat{round}@race.io", phone });
            var dana = await ws.CreateLeadAsync(new { email = $"dana{round}@race.io", phone });
            var upload = await ws.UploadAsync($"firstName,email,phone\nDana{round},dana{round}@race.io,{phone}\n");
            upload.StatusCode.ShouldBe(HttpStatusCode.Accepted);
            var importId = (await upload.BodyAsync())["id"]!.GetValue<string>();

            var dismiss = DismissAsync(ws, dana);
            await Task.WhenAll(dismiss, api.RunImportAsync(importId));
            (await dismiss).StatusCode.ShouldBe(HttpStatusCode.OK, $"round {round}: {await (await dismiss).Content.ReadAsStringAsync()}");
            (await ws.Read.GetObjectAsync($"/api/leads/imports/{importId}"))["status"]!.GetValue<string>().ShouldBe("completed");

            (await PrimaryOfAsync(dana)).ShouldBeNull($"round {round}");
            (await PrimaryOfAsync(pat)).ShouldBeNull($"round {round}");
            // The imported Dana is flagged — under Pat when the import ran first (then Dana left Pat's group alone),
            // under Dana when the dismissal ran first — never left as a second unflagged Dana.
            var imported = await DuplicateOfAsync("SELECT duplicate_of FROM leads.leads WHERE workspace_id = @W AND first_name = @N",
                new { W = ws.Id, N = $"Dana{round}" });
            imported.ShouldNotBeNull($"round {round}");
            new[] { pat.Uuid(), dana.Uuid() }.ShouldContain(imported!.Value, $"round {round}");
        }
        await Invariants.AssertAsync(api, ws);
        (await api.ScalarAsync<long>("SELECT count(*) FROM duplicates.dismissed_pairs WHERE workspace_id = @W", new { W = ws.Id })).ShouldBe(50);
    }
}
