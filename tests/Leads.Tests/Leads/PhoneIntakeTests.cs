using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Import;
using Leads.Tests.Infrastructure;
using Leads.Tests.Sources;
using Modules.Leads.Intake;
using Modules.Leads.Public;

namespace Leads.Tests.Leads;

/// <summary>Spec §8: a phone never costs a lead; <c>phoneE164</c> is its match key when it reads as a possible number.</summary>
public sealed class PhoneIntakeTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Theory]
    [InlineData("+1234567890", null)]              // the published example: too short for +1, kept as sent
    [InlineData("(247) 604-6018", "+12476046018")]  // an unassigned US area code: possible, not valid
    [InlineData("0049 30 1234567", "+49301234567")] // 00 international prefix in a US workspace
    [InlineData("011 44 20 7946 0958", "+442079460958")]
    [InlineData("+1 955 604 5570", "+19556045570")]
    [InlineData("555-0100", null)]                  // local-only: no area code, so no key
    [InlineData("call me", null)]
    [InlineData("12", null)]
    public async Task Every_phone_is_stored_as_sent_with_its_possible_E164_key(string phone, string? e164)
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await ws.Full.PostJsonAsync("/api/leads", new { firstName = "Pat", phone = $"  {phone} " });
        r.StatusCode.ShouldBe(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        var lead = (await r.BodyAsync()).AsObject();
        lead["phone"]!.GetValue<string>().ShouldBe(phone);
        lead["phoneE164"]?.GetValue<string>().ShouldBe(e164);
        await using (var db = await api.OpenDbAsync())
            (await db.QuerySingleAsync<(string, string?)>("SELECT phone, phone_e164 FROM leads.leads WHERE id = @Id", new { Id = lead.Uuid() }))
                .ShouldBe((phone, e164));
        (await ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}"))["phoneE164"]?.GetValue<string>().ShouldBe(e164);
    }

    [Fact]
    public async Task Only_a_valid_number_scores_valid_phone()
    {
        var ws = await api.CreateWorkspaceAsync();
        // partial name 5; + valid_phone 15 only for the assigned number
        (await ws.CreateLeadAsync(new { firstName = "A", phone = "(415) 555-2671" }))["score"]!.GetValue<int>().ShouldBe(20);
        (await ws.CreateLeadAsync(new { firstName = "B", phone = "(247) 604-6018" }))["score"]!.GetValue<int>().ShouldBe(5);
        (await ws.CreateLeadAsync(new { firstName = "C", phone = "call me" }))["score"]!.GetValue<int>().ShouldBe(5);
    }

    [Fact]
    public async Task Only_leads_with_a_key_match_on_phone()
    {
        var ws = await api.CreateWorkspaceAsync();
        var first = await ws.CreateLeadAsync(new { firstName = "A", phone = "(247) 604-6018" });
        var same = await ws.CreateLeadAsync(new { firstName = "B", phone = "+1 247 604 6018" });
        same["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(first.Id());
        JsonNode.DeepEquals(same["duplicateOf"]!["matchedOn"], new JsonArray("phone")).ShouldBeTrue();

        await ws.CreateLeadAsync(new { firstName = "C", phone = "call me" });
        (await ws.CreateLeadAsync(new { firstName = "D", phone = "call me" }))["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();
        await ws.CreateLeadAsync(new { firstName = "E", phone = "555-0100" });
        (await ws.CreateLeadAsync(new { firstName = "F", phone = "555-0100" }))["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task Webhook_and_import_store_the_same_phone_and_key()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync("Form");
        (await api.PostWebhookAsync(source["webhookToken"]!.GetValue<string>(), """{"firstName":"W","phone":"(247) 604-6018"}""")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var s = await ws.ImportAsync("firstName,phone\r\nI,0049 30 1234567\r\nJ,call me\r\n");
        (s.Long("created"), s.Long("failed")).ShouldBe((2, 0), s.ToJsonString());
        await using var db = await api.OpenDbAsync();
        var rows = (await db.QueryAsync<(string, string, string?)>(
            "SELECT first_name, phone, phone_e164 FROM leads.leads WHERE workspace_id = @Id ORDER BY first_name", new { ws.Id })).ToList();
        rows.ShouldBe([("I", "0049 30 1234567", "+49301234567"), ("J", "call me", null), ("W", "(247) 604-6018", "+12476046018")]);
    }

    /// <summary>
    /// Before §8 only numbers valid in the workspace's region were accepted, and their key was that parse's E.164 form.
    /// Every such number keeps exactly that key, so stored leads need no migration.
    /// </summary>
    [Theory]
    [InlineData("(415) 555-2671", "US", "+14155552671")]
    [InlineData("011 49 30 1234567", "US", "+49301234567")]
    [InlineData("0114 496 0000", "GB", "+441144960000")]  // a Sheffield number starting like the 011 prefix
    [InlineData("00 44 20 7946 0958", "DE", "+442079460958")]
    [InlineData("020 7946 0958", "GB", "+442079460958")]
    public void Numbers_valid_in_the_region_keep_the_key_they_always_had(string phone, string region, string e164)
    {
        LeadRules.NormalizePhone(phone, region).ShouldBe((e164, true));
    }
}
