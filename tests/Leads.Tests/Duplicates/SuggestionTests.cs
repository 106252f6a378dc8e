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
    public async Task Messy_spellings_of_one_company_share_its_key_and_are_suggested_as_the_same_company()
    {
        var ws = await api.CreateWorkspaceAsync();
        var jq = await ws.CreateLeadAsync(new { firstName = "Jonathan", lastName = "Quinterro", company = "Globex Corporation", email = "jq@globex.com" });
        string[] spellings = ["Globex Corp.", "GLOBEX CORPORATION", "Globex, Inc", "The Globex Corporation", "globex co. ltd"];
        var twins = new List<JsonObject>();
        for (var i = 0; i < spellings.Length; i++)
            twins.Add(await ws.CreateLeadAsync(new { firstName = i % 2 == 0 ? "jonathan" : "JONATHAN", lastName = "Quinterro", company = spellings[i], email = $"jq{i}@gmail.com" }));
        await ws.CreateLeadAsync(new { firstName = "Jonathan", lastName = "Quinterro", company = "Initech", email = "jq@initech.com" });

        foreach (var c in spellings.Append("Globex Corporation"))
            (await api.ScalarAsync<string>("SELECT leads.company_key(@C)", new { C = c })).ShouldBe("globex", c);

        var suggested = await SuggestedAsync(ws, jq);
        suggested.Select(x => x!.Id()).ShouldBe(twins.Select(t => t.Id())); // all five, oldest first; the Initech namesake never
        suggested.ShouldAllBe(x => x!["confidence"]!.GetValue<double>() == 0.95);
        suggested.ShouldAllBe(x => x!["reasons"]!.AsArray().Single()!.GetValue<string>() == "same_name_similar_company");
    }

    [Theory]
    [InlineData("Globex Corp., Inc.", "globex")]
    [InlineData("(The) Globex Co. Ltd.", "globex")]
    [InlineData("Nestlé S.A.", "nestlé")]
    [InlineData("SOCIÉTÉ GÉNÉRALE SA", "société générale")]
    [InlineData("Schmidt GmbH", "schmidt")]
    [InlineData("O'Brien & Co", "obrien")]
    [InlineData("Brightline Solar Group", "brightline solar group")]
    [InlineData("Co.", "co")]
    [InlineData("The Company", "company")]
    [InlineData("株式会社トヨタ", "株式会社トヨタ")]
    [InlineData("Ромашка, Inc.", "ромашка")]
    public async Task The_company_key_drops_case_punctuation_a_leading_the_and_trailing_legal_forms(string company, string key) =>
        (await api.ScalarAsync<string>("SELECT leads.company_key(@C)", new { C = company })).ShouldBe(key);

    [Fact]
    public async Task A_company_without_letters_or_digits_has_no_key() =>
        (await api.ScalarAsync<bool>("SELECT leads.company_key('  —, ') IS NULL AND leads.company_key(NULL) IS NULL")).ShouldBeTrue();

    [Fact]
    public async Task Non_latin_names_match_case_insensitively_and_a_shared_first_name_still_is_not_enough()
    {
        var ws = await api.CreateWorkspaceAsync();
        var dmitri = await ws.CreateLeadAsync(new { firstName = "Дмитрий", lastName = "Волков", company = "Ромашка, Inc.", email = "dv@romashka.ru" });
        var twin = await ws.CreateLeadAsync(new { firstName = "ДМИТРИЙ", lastName = "ВОЛКОВ", company = "РОМАШКА Inc", email = "volkov.d@gmail.com" });
        await ws.CreateLeadAsync(new { firstName = "Дмитрий", lastName = "Иванов", company = "Ромашка, Inc.", email = "di@romashka.ru" });
        var taro = await ws.CreateLeadAsync(new { firstName = "太郎", lastName = "山田", company = "株式会社トヨタ", email = "yamada@toyota.jp" });
        var taroTwin = await ws.CreateLeadAsync(new { firstName = "太郎", lastName = "山田", company = "株式会社トヨタ", email = "taro.y@gmail.com" });
        await ws.CreateLeadAsync(new { firstName = "太郎", lastName = "佐藤", company = "株式会社トヨタ", email = "sato@toyota.jp" });

        var s = await SuggestedAsync(ws, dmitri);
        s.Select(x => x!.Id()).ShouldBe([twin.Id()]);
        s[0]!["confidence"]!.GetValue<double>().ShouldBe(0.95);
        (await SuggestedAsync(ws, taro)).Select(x => x!.Id()).ShouldBe([taroTwin.Id()]);
    }

    [Fact]
    public async Task The_twin_is_found_among_hundreds_of_namesakes_and_ties_at_the_same_company_go_oldest_first()
    {
        // Issue #12: the name probe read at most 200 leads of a full name in index order, so a twin created after 200
        // namesakes was never looked at. The company key makes "same name and same company" an index range of its own.
        var ws = await api.CreateWorkspaceAsync();
        var maria = await ws.CreateLeadAsync(new { firstName = "Maria", lastName = "Garcia", company = "Globex Corporation", email = "mg@globex.com", phone = "+1 415 555 0199" });
        var sameCompany = await ws.CreateLeadAsync(new { firstName = "Maria", lastName = "Garcia", company = "Globex LLC", email = "maria.g@globex.com" });
        for (var i = 0; i < 210; i++)
            await ws.CreateLeadAsync(new { firstName = "Maria", lastName = "Garcia", company = $"Vendor {i:D3} Holdings", email = $"mg{i}@vendor{i}.com" });
        var noCompany = await ws.CreateLeadAsync(new { firstName = "maria", lastName = "garcia", email = "mgarcia@yahoo.com" });
        var twin = await ws.CreateLeadAsync(new { firstName = "MARIA", lastName = "GARCIA", company = "The Globex Corp.", email = "maria.garcia@gmail.com" });
        // Flagged (same phone), then dismissed: out of the group, and never suggested.
        var dismissed = await ws.CreateLeadAsync(new { firstName = "Maria", lastName = "Garcia", company = "Globex Inc", email = "m.garcia@gmail.com", phone = "+1 415 555 0199" });
        dismissed["isDuplicate"]!.GetValue<bool>().ShouldBeTrue();
        (await ws.Full.PostAsync($"/api/leads/{dismissed.Id()}/not-duplicate", null)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var suggested = await SuggestedAsync(ws, maria);
        suggested.Select(x => x!.Id()).ShouldBe([sameCompany.Id(), twin.Id(), noCompany.Id()]);
        suggested.Select(x => x!["confidence"]!.GetValue<double>()).ShouldBe([0.95, 0.95, 0.5]);
        suggested[2]!["reasons"]!.AsArray().Single()!.GetValue<string>().ShouldBe("same_name");
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @W AND duplicate_of IS NOT NULL", new { W = ws.Id })).ShouldBe(0);
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
