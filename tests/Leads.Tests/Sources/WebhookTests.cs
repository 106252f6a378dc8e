using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Sources;

public sealed class WebhookTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private sealed record LeadRow(Guid Id, Guid WorkspaceId, string? Email, string? EmailNorm, string? FirstName, string? LastName,
        string? Phone, string? PhoneE164, string? Company, string? Notes, string Metadata, int Score, int CreatedScore, Guid? SourceId,
        string Channel, string CreatedActorType, string? CreatedActorId, string? CreatedActorName, string Status);

    private async Task<List<LeadRow>> LeadsAsync(Guid workspaceId)
    {
        await using var db = await api.OpenDbAsync();
        return (await db.QueryAsync<LeadRow>("""
            SELECT id, workspace_id, email, email_norm, first_name, last_name, phone, phone_e164, company, notes, metadata::text AS metadata,
                   score::int AS score, created_score::int AS created_score, source_id, channel, created_actor_type, created_actor_id, created_actor_name, status
            FROM leads.leads WHERE workspace_id = @WorkspaceId ORDER BY created_at, id
            """, new { WorkspaceId = workspaceId })).AsList();
    }

    private static async Task ShouldBeSuccessAsync(HttpResponseMessage r)
    {
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        r.Content.Headers.ContentType!.MediaType.ShouldBe("application/json");
        text.ShouldBe("""{"success":true}""");
    }

    [Fact]
    public async Task Direct_fields_create_a_lead_without_an_api_key_attributed_to_the_source()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync("Contact form");
        var sourceId = source.Str("id");
        await ShouldBeSuccessAsync(await api.PostWebhookAsync(source.Str("webhookToken"),
            """{"email":" Jane@Acme.com ","firstName":"Jane","lastName":"Smith","phone":"+1 650-253-0000","company":"Acme Corp"}"""));

        var lead = (await LeadsAsync(ws.Id)).Single();
        lead.Email.ShouldBe("Jane@Acme.com");
        lead.EmailNorm.ShouldBe("jane@acme.com");
        lead.FirstName.ShouldBe("Jane");
        lead.LastName.ShouldBe("Smith");
        lead.Phone.ShouldBe("+1 650-253-0000");
        lead.PhoneE164.ShouldBe("+16502530000");
        lead.Company.ShouldBe("Acme Corp");
        lead.Notes.ShouldBeNull();
        lead.Metadata.ShouldBe("{}");
        lead.SourceId.ShouldBe(SourceTestExtensions.Uuid(sourceId));
        lead.Status.ShouldBe("new");
        lead.Channel.ShouldBe("webhook");
        lead.CreatedActorType.ShouldBe("webhook");
        lead.CreatedActorId.ShouldBe(sourceId);
        lead.CreatedActorName.ShouldBe("Contact form");
        lead.CreatedScore.ShouldBe(lead.Score);
        // valid_email 15 + business_email_domain 15 + valid_phone 15 + company_present 10 + full_name 10 + known_source 10
        lead.Score.ShouldBe(75);

        var detail = await (await ws.Read.GetAsync($"/api/leads/{Kernel.Ids.TypeId.Format("lead", lead.Id)}")).BodyAsync();
        detail.Str("channel").ShouldBe("webhook");
        JsonNode.DeepEquals(detail["source"], new JsonObject { ["id"] = sourceId, ["name"] = "Contact form" }).ShouldBeTrue();
        detail["metadata"]!.AsObject().Count.ShouldBe(0);
        detail.Str("qualification").ShouldBe("hot");
    }

    [Fact]
    public async Task The_inbound_alias_route_works_the_same()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync();
        await ShouldBeSuccessAsync(await api.PostWebhookAsync(source.Str("webhookToken"), """{"email":"alias@acme.com"}""", "/api/webhooks/inbound/"));
        (await LeadsAsync(ws.Id)).Single().Email.ShouldBe("alias@acme.com");
    }

    [Fact]
    public async Task Mapped_fields_fill_their_lead_fields_including_notes()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync("Typeform", new Dictionary<string, string>
        {
            ["email_address"] = "email", ["First Name"] = "firstName", ["surname"] = "lastName", ["tel"] = "phone",
            ["org"] = "company", ["message"] = "notes",
        });
        await ShouldBeSuccessAsync(await api.PostWebhookAsync(source.Str("webhookToken"),
            """{"email_address":"ann@globex.io","First Name":"Ann","surname":"Lee","tel":"(650) 253-0000","org":"Globex","message":"Call me\nafter 5"}"""));
        var lead = (await LeadsAsync(ws.Id)).Single();
        (lead.Email, lead.FirstName, lead.LastName, lead.Phone, lead.PhoneE164, lead.Company, lead.Notes)
            .ShouldBe(("ann@globex.io", "Ann", "Lee", "(650) 253-0000", "+16502530000", "Globex", "Call me\nafter 5"));
        lead.Metadata.ShouldBe("{}");
    }

    [Fact]
    public async Task Unknown_fields_are_kept_in_metadata_with_their_json_values_as_sent()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync();
        await ShouldBeSuccessAsync(await api.PostWebhookAsync(source.Str("webhookToken"), """
            {"email":"meta@acme.com","utm_source":"google","budget":5000,"ratio":99.5,"interests":["a","b"],
             "address":{"city":"Lyon","zip":"69001"},"optIn":true,"fax":null,"notes":"not mapped","Email":"case matters"}
            """));
        var lead = (await LeadsAsync(ws.Id)).Single();
        lead.Email.ShouldBe("meta@acme.com");
        lead.Notes.ShouldBeNull();
        var expected = JsonNode.Parse("""
            {"utm_source":"google","budget":5000,"ratio":99.5,"interests":["a","b"],"address":{"city":"Lyon","zip":"69001"},
             "optIn":true,"fax":null,"notes":"not mapped","Email":"case matters"}
            """);
        JsonNode.DeepEquals(JsonNode.Parse(lead.Metadata), expected).ShouldBeTrue(lead.Metadata);
        var detail = await (await ws.Read.GetAsync($"/api/leads/{Kernel.Ids.TypeId.Format("lead", lead.Id)}")).BodyAsync();
        JsonNode.DeepEquals(detail["metadata"], expected).ShouldBeTrue();
    }

    [Fact]
    public async Task Numbers_become_text_so_phones_sent_as_numbers_work()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync("Numbers", new { mobile = "phone", zip = "company" });
        await ShouldBeSuccessAsync(await api.PostWebhookAsync(source.Str("webhookToken"), """{"phone":16502530000,"firstName":"Num"}"""));
        await ShouldBeSuccessAsync(await api.PostWebhookAsync(source.Str("webhookToken"), """{"mobile":6502530001,"zip":75001,"lastName":"Mapped"}"""));
        var leads = await LeadsAsync(ws.Id);
        leads[0].Phone.ShouldBe("16502530000");
        leads[0].PhoneE164.ShouldBe("+16502530000");
        leads[1].Phone.ShouldBe("6502530001");
        leads[1].PhoneE164.ShouldBe("+16502530001");
        leads[1].Company.ShouldBe("75001");
    }

    [Fact]
    public async Task When_two_fields_aim_at_one_lead_field_the_mapped_one_wins_and_the_other_is_kept_in_metadata()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync("Clash", new Dictionary<string, string> { ["work_email"] = "email", ["email"] = "notes" });
        await ShouldBeSuccessAsync(await api.PostWebhookAsync(source.Str("webhookToken"),
            """{"email":"direct@acme.com","work_email":"mapped@acme.com","firstName":"","lastName":"Kept"}"""));
        var lead = (await LeadsAsync(ws.Id)).Single();
        // "email" is itself mapped (to notes), so it no longer fills email directly.
        lead.Email.ShouldBe("mapped@acme.com");
        lead.Notes.ShouldBe("direct@acme.com");
        lead.FirstName.ShouldBeNull();
        lead.Metadata.ShouldBe("{}");

        var other = await ws.CreateSourceAsync("Clash 2", new Dictionary<string, string> { ["work_email"] = "email" });
        await ShouldBeSuccessAsync(await api.PostWebhookAsync(other.Str("webhookToken"),
            """{"email":"direct@acme.com","work_email":"mapped@acme.com"}"""));
        var second = (await LeadsAsync(ws.Id))[1];
        second.Email.ShouldBe("mapped@acme.com");
        JsonNode.DeepEquals(JsonNode.Parse(second.Metadata), JsonNode.Parse("""{"email":"direct@acme.com"}""")).ShouldBeTrue(second.Metadata);
    }

    [Theory]
    [InlineData("{", "invalid_json", "body")]
    [InlineData("", "invalid_json", "body")]
    [InlineData("not json", "invalid_json", "body")]
    [InlineData("[]", "invalid_json", "body")]
    [InlineData("""[{"email":"a@acme.com"}]""", "invalid_json", "body")]
    [InlineData("\"a@acme.com\"", "invalid_json", "body")]
    [InlineData("null", "invalid_json", "body")]
    [InlineData("""{"email":"a@acme.com","email":"b@acme.com"}""", "invalid_json", "body")]
    [InlineData("{}", "validation_failed", "body")]
    [InlineData("""{"email":{"value":"a@acme.com"}}""", "invalid_json", "email")]
    [InlineData("""{"email":["a@acme.com"]}""", "invalid_json", "email")]
    [InlineData("""{"firstName":true}""", "invalid_json", "firstName")]
    [InlineData("""{"e_mail":{"x":1},"firstName":"Bo"}""", "invalid_json", "e_mail")]
    [InlineData("""{"utm_source":"google","optIn":true}""", "validation_failed", "body")]
    [InlineData("""{"firstName":"   ","company":"Acme"}""", "validation_failed", "body")]
    [InlineData("""{"email":"not-an-email"}""", "validation_failed", "email")]
    [InlineData("""{"e_mail":"not-an-email"}""", "validation_failed", "e_mail")]
    [InlineData("""{"phone":"12\n34","firstName":"Bo"}""", "validation_failed", "phone")]
    [InlineData("""{"phone":"12345678901234567890123456789012345678901","firstName":"Bo"}""", "validation_failed", "phone")]
    public async Task Bad_payloads_are_400_naming_the_field_and_create_nothing(string json, string code, string field)
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync("Strict", new { e_mail = "email" });
        var p = await (await api.PostWebhookAsync(source.Str("webhookToken"), json)).ShouldBeProblemAsync(HttpStatusCode.BadRequest, code);
        p["errors"]![field].ShouldNotBeNull(p.ToJsonString());
        p.ToJsonString().ShouldNotContain("System.");
        (await LeadsAsync(ws.Id)).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("abc")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    [InlineData("src_01m8brdj0efn9aftk3j67h2v9c")]
    public async Task Unknown_tokens_are_404_webhook_not_found(string token)
    {
        await (await api.PostWebhookAsync(token, """{"email":"x@acme.com"}""")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "webhook_not_found");
        await (await api.PostWebhookAsync(token, """{"email":"x@acme.com"}""", "/api/webhooks/inbound/"))
            .ShouldBeProblemAsync(HttpStatusCode.NotFound, "webhook_not_found");
    }

    [Fact]
    public async Task An_api_key_is_neither_needed_nor_in_the_way_and_the_content_type_is_not_checked()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync();
        var withBadKey = api.Client("5l_live_definitely-not-a-key");
        await ShouldBeSuccessAsync(await withBadKey.PostAsync($"/api/webhooks/{source.Str("webhookToken")}", Http.Json("""{"email":"k1@acme.com"}""")));
        await ShouldBeSuccessAsync(await api.Client().PostAsync($"/api/webhooks/{source.Str("webhookToken")}",
            new StringContent("""{"email":"k2@acme.com"}""", Encoding.UTF8, "text/plain")));
        (await LeadsAsync(ws.Id)).Select(l => l.Email).ShouldBe(["k1@acme.com", "k2@acme.com"]);
    }

    [Fact]
    public async Task Bodies_over_64_KB_are_413_whether_their_length_is_declared_or_not()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync();
        var url = $"/api/webhooks/{source.Str("webhookToken")}";
        var big = Pad("""{"email":"big@acme.com","pad":""", 65 * 1024);

        await (await api.Client().PostAsync(url, new ByteArrayContent(big) { Headers = { { "Content-Type", "application/json" } } }))
            .ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        await (await api.Client().PostAsync(url, new UnknownLengthContent(big))).ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        await (await api.Client().PostAsync(url, new UnknownLengthContent(Pad("""{"email":"big@acme.com","pad":""", 64 * 1024 + 1))))
            .ShouldBeProblemAsync(HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        (await LeadsAsync(ws.Id)).ShouldBeEmpty();

        // Exactly 64 KB is still accepted, whichever way it arrives.
        await ShouldBeSuccessAsync(await api.Client().PostAsync(url, new ByteArrayContent(Pad("""{"email":"edge@acme.com","pad":""", 64 * 1024))));
        await ShouldBeSuccessAsync(await api.Client().PostAsync(url, new UnknownLengthContent(Pad("""{"email":"edge2@acme.com","pad":""", 64 * 1024))));
        (await LeadsAsync(ws.Id)).Count.ShouldBe(2);
    }

    [Fact]
    public async Task A_webhook_lead_ends_identical_to_the_same_lead_sent_through_the_api()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync("Partner", new Dictionary<string, string> { ["message"] = "notes", ["Company Name"] = "company" });
        var api1 = await ws.Full.PostJsonAsync("/api/leads", new
        {
            email = "Jane@Acme.com", firstName = " Jane", lastName = "Smith", phone = "+1 650-253-0000", company = "Acme Corp",
            sourceId = source.Str("id"), notes = "Call after 5", metadata = new { utm_source = "google", budget = 5000 },
        });
        api1.StatusCode.ShouldBe(HttpStatusCode.Created, await api1.Content.ReadAsStringAsync());
        await ShouldBeSuccessAsync(await api.PostWebhookAsync(source.Str("webhookToken"), """
            {"email":"Jane@Acme.com","firstName":" Jane","lastName":"Smith","phone":"+1 650-253-0000","Company Name":"Acme Corp",
             "message":"Call after 5","utm_source":"google","budget":5000}
            """));

        var rows = await LeadsAsync(ws.Id);
        rows.Count.ShouldBe(2);
        var (viaApi, viaHook) = (rows[0], rows[1]);
        viaApi.Channel.ShouldBe("api");
        viaHook.Channel.ShouldBe("webhook");
        viaHook.ShouldBe(viaApi with
        {
            Id = viaHook.Id, Channel = "webhook", CreatedActorType = "webhook", CreatedActorId = source.Str("id"), CreatedActorName = "Partner",
        });

        JsonObject Comparable(JsonNode lead)
        {
            var o = lead.DeepClone().AsObject();
            foreach (var k in new[] { "id", "createdAt", "updatedAt", "channel", "isDuplicate", "duplicateOf" }) o.Remove(k);
            return o;
        }
        var a = await (await ws.Read.GetAsync($"/api/leads/{Kernel.Ids.TypeId.Format("lead", viaApi.Id)}")).BodyAsync();
        var b = await (await ws.Read.GetAsync($"/api/leads/{Kernel.Ids.TypeId.Format("lead", viaHook.Id)}")).BodyAsync();
        JsonNode.DeepEquals(Comparable(a), Comparable(b)).ShouldBeTrue($"{a.ToJsonString()}\n{b.ToJsonString()}");
        b["score"]!.GetValue<int>().ShouldBe(a["score"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_token_only_ever_creates_leads_in_its_own_sources_workspace()
    {
        var ws = await api.CreateWorkspaceAsync();
        var other = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync();
        await ShouldBeSuccessAsync(await api.PostWebhookAsync(source.Str("webhookToken"), """{"email":"mine@acme.com"}"""));
        (await LeadsAsync(ws.Id)).Single().WorkspaceId.ShouldBe(ws.Id);
        (await LeadsAsync(other.Id)).ShouldBeEmpty();
    }

    private static byte[] Pad(string prefix, int totalBytes)
    {
        var head = Encoding.UTF8.GetBytes(prefix + "\"");
        var tail = "\"}"u8.ToArray();
        var body = new byte[totalBytes];
        head.CopyTo(body, 0);
        body.AsSpan(head.Length, totalBytes - head.Length - tail.Length).Fill((byte)'x');
        tail.CopyTo(body, totalBytes - tail.Length);
        return body;
    }

    /// <summary>A body sent without Content-Length (chunked), so only the server's read cap can stop it.</summary>
    private sealed class UnknownLengthContent(byte[] data) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(data).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
