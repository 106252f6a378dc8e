using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Duplicates;

/// <summary><c>GET /api/leads/:id/duplicates?include=suggested</c> (spec §10).</summary>
public sealed class SuggestionTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static async Task<JsonArray> SuggestedAsync(TestWorkspace ws, JsonNode lead) =>
        (await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}/duplicates?include=suggested"))["suggested"]!.AsArray();

    [Fact]
    public async Task Same_name_with_a_similar_company_is_suggested_with_confidence_and_reasons_and_nothing_is_flagged()
    {
        var ws = await api.CreateWorkspaceAsync();
        var jq = await ws.CreateLeadAsync(new { firstName = "Jonathan", lastName = "Quinterro", company = "Globex Corporation", email = "jq@globex.com" });
        var twin = await ws.CreateLeadAsync(new { firstName = "Jonathan", lastName = "Quinterro", company = "Globex Corp", email = "jonathan.quinterro@gmail.com" });
        var namesake = await ws.CreateLeadAsync(new { firstName = "Jonathan", lastName = "Quinterro", company = "Initech Software", email = "jon@initech.com" });
        await ws.CreateLeadAsync(new { firstName = "Jonathan", lastName = "Smith", company = "Globex Corporation", email = "js@globex.com" });
        await ws.CreateLeadAsync(new { firstName = "Jonathan", email = "jonathan@other.io" });
        twin["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();

        var suggested = await SuggestedAsync(ws, jq);
        suggested.Select(s => s!.Id()).ShouldBe([twin.Id()]); // a namesake at an unrelated company, and first-name-only matches, are not suggested
        var s0 = suggested[0]!;
        s0["reasons"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["same_name_similar_company"]);
        s0["confidence"]!.GetValue<double>().ShouldBeInRange(0.7, 0.95);
        s0["firstName"]!.GetValue<string>().ShouldBe("Jonathan"); // a list item
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @W AND duplicate_of IS NOT NULL", new { W = ws.Id })).ShouldBe(0);
        (await SuggestedAsync(ws, namesake)).ShouldBeEmpty();
        // Without include, the answer has no suggested member.
        (await ws.Read.GetObjectAsync($"/api/leads/{jq.Id()}/duplicates")).ContainsKey("suggested").ShouldBeFalse();
    }

    [Fact]
    public async Task Email_local_part_with_the_same_last_name_and_phone_digits_in_another_format_are_suggested_best_first()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Ada", lastName = "Lovelace", email = "ada.lovelace@analytical.io", phone = "+44 20 7946 0958" });
        var byEmail = await ws.CreateLeadAsync(new { lastName = "Lovelace", email = "ada.lovelace@gmail.com" });
        var byPhone = await ws.CreateLeadAsync(new { firstName = "A", phone = "020 7946 0958" });             // US default region: not the same E.164
        var both = await ws.CreateLeadAsync(new { lastName = "Lovelace", email = "ada.lovelace+crm@yahoo.com", phone = "(020) 7946-0958" });
        await ws.CreateLeadAsync(new { lastName = "Babbage", email = "ada.lovelace@engine.io" });            // same local part, other last name

        var suggested = await SuggestedAsync(ws, lead);
        suggested.Select(s => s!.Id()).ShouldBe([both.Id(), byEmail.Id(), byPhone.Id()]);
        suggested[0]!["reasons"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["same_email_local_part", "same_phone_digits"]);
        suggested[0]!["confidence"]!.GetValue<double>().ShouldBeGreaterThan(suggested[1]!["confidence"]!.GetValue<double>());
        suggested[2]!["reasons"]!.AsArray().Select(r => r!.GetValue<string>()).ShouldBe(["same_phone_digits"]);
    }

    [Fact]
    public async Task Group_members_and_dismissed_pairs_are_never_suggested_and_at_most_ten_are()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "Mia", lastName = "Wong", email = "mia@wong.io", phone = "+1 415 555 0100" });
        var member = await ws.CreateLeadAsync(new { firstName = "Mia", lastName = "Wong", email = "mia@wong.io" });
        member["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(lead.Id());
        var dismissed = await ws.CreateLeadAsync(new { firstName = "Mia", lastName = "Wong", phone = "+1 415 555 0100" });
        (await ws.Full.PostAsync($"/api/leads/{dismissed.Id()}/not-duplicate", null)).StatusCode.ShouldBe(HttpStatusCode.OK);
        for (var i = 0; i < 12; i++) await ws.CreateLeadAsync(new { firstName = "mia", lastName = "WONG", email = $"m{i}@x{i}.io" });

        var suggested = await SuggestedAsync(ws, lead);
        suggested.Count.ShouldBe(10);
        suggested.Select(s => s!.Id()).ShouldNotContain(member.Id());
        suggested.Select(s => s!.Id()).ShouldNotContain(dismissed.Id());
        suggested.ShouldAllBe(s => s!["reasons"]!.AsArray().Single()!.GetValue<string>() == "same_name");
    }

    [Fact]
    public async Task A_bad_include_is_a_400_and_another_workspaces_lead_a_404()
    {
        var ws = await api.CreateWorkspaceAsync();
        var lead = await ws.CreateLeadAsync(new { firstName = "A", lastName = "B" });
        (await (await ws.Read.GetAsync($"/api/leads/{lead.Id()}/duplicates?include=all")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed"))
            ["errors"]!["include"].ShouldNotBeNull();
        await (await ws.Read.GetAsync($"/api/leads/{lead.Id()}/duplicates?includ=suggested")).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var other = await api.CreateWorkspaceAsync();
        await (await other.Read.GetAsync($"/api/leads/{lead.Id()}/duplicates?include=suggested")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
    }
}
