using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;
using Leads.Tests.Sources;

namespace Leads.Tests.Leads;

public sealed class CreateLeadTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Creates_a_normalised_scored_lead_with_the_published_shape()
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await ws.Full.PostJsonAsync("/api/leads", new
        {
            email = "  Jane.Smith@Acme.com ", firstName = " Jane ", lastName = "Smith", phone = "(415) 555-2671",
            company = "Acme Corp", notes = "Met at the fair", metadata = new { utm_source = "fair", budget = 5000, nested = new { a = 1 } },
        });
        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        r.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var lead = (await r.BodyAsync()).AsObject();
        r.Headers.Location!.ToString().ShouldBe($"/api/leads/{lead.Id()}");
        lead.Id().ShouldMatch("^lead_[0-9a-hjkmnp-tv-z]{26}$");
        var createdAt = lead["createdAt"]!.GetValue<string>();
        createdAt.ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");

        // The whole response, not single fields.
        var expected = JsonNode.Parse($$"""
            {
              "id": "{{lead.Id()}}", "firstName": "Jane", "lastName": "Smith", "email": "Jane.Smith@Acme.com",
              "phone": "(415) 555-2671", "company": "Acme Corp", "status": "new", "score": 75,
              "source": null, "assignedTo": null, "isDuplicate": false, "createdAt": "{{createdAt}}",
              "phoneE164": "+14155552671", "notes": "Met at the fair", "tags": [],
              "metadata": { "utm_source": "fair", "budget": 5000, "nested": { "a": 1 } },
              "qualification": "hot", "duplicateOf": null, "channel": "api", "updatedAt": "{{lead["updatedAt"]}}"
            }
            """);
        JsonNode.DeepEquals(lead, expected).ShouldBeTrue(lead.ToJsonString());

        await using var db = await api.OpenDbAsync();
        var row = await db.QuerySingleAsync("SELECT email_norm, phone_e164, channel, created_actor_type, created_actor_id, score, created_score FROM leads.leads WHERE id = @Id", new { Id = lead.Uuid() });
        ((string)row.email_norm).ShouldBe("jane.smith@acme.com");
        ((string)row.phone_e164).ShouldBe("+14155552671");
        ((string)row.channel).ShouldBe("api");
        ((string)row.created_actor_type).ShouldBe("api_key");
        ((string)row.created_actor_id).ShouldStartWith("key_");
        ((short)row.score).ShouldBe((short)75);
        ((short)row.created_score).ShouldBe((short)75);
    }

    [Fact]
    public async Task Score_follows_the_documented_rules()
    {
        var ws = await api.CreateWorkspaceAsync();
        // valid email 15 + free mail 5 = 20
        (await ws.CreateLeadAsync(new { email = "someone@gmail.com" }))["score"]!.GetValue<int>().ShouldBe(20);
        // valid email 15 + disposable -15 = 0
        (await ws.CreateLeadAsync(new { email = "x@mailinator.com" }))["score"]!.GetValue<int>().ShouldBe(0);
        // partial name 5
        var cold = await ws.CreateLeadAsync(new { firstName = "Solo" });
        cold["score"]!.GetValue<int>().ShouldBe(5);
        cold["qualification"]!.GetValue<string>().ShouldBe("cold");
        // business email 30 + phone 15 = 45 → warm; metadata with 3 keys +10 = 55
        var warm = await ws.CreateLeadAsync(new { email = "a@acme.io", phone = "+44 20 7946 0958", metadata = new { a = 1, b = 2, c = 3 } });
        warm["score"]!.GetValue<int>().ShouldBe(55);
        warm["qualification"]!.GetValue<string>().ShouldBe("warm");
    }

    [Theory]
    [InlineData("""{"company":"Acme"}""", "body")]
    [InlineData("""{}""", "body")]
    [InlineData("""{"email":"not-an-email"}""", "email")]
    [InlineData("""{"email":"a@b"}""", "email")]
    [InlineData("""{"phone":"+1 415\n555 2671"}""", "phone")]
    [InlineData("""{"firstName":"x","sourceId":"nope"}""", "sourceId")]
    [InlineData("""{"firstName":"x","sourceId":"src_01m8brdj0efn9aftk3j67h2v9c"}""", "sourceId")]
    [InlineData("""{"firstName":"a\u0000b"}""", "firstName")]
    public async Task Invalid_input_is_400_naming_the_field_and_stores_nothing(string json, string field)
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Full.PostAsync("/api/leads", Http.Json(json))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]![field].ShouldNotBeNull(p.ToJsonString());
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(0);
    }

    [Theory]
    [InlineData("email", 255)]
    [InlineData("firstName", 101)]
    [InlineData("lastName", 101)]
    [InlineData("company", 201)]
    [InlineData("phone", 41)]
    [InlineData("notes", 10_001)]
    public async Task Fields_over_their_length_limit_are_400(string field, int length)
    {
        var ws = await api.CreateWorkspaceAsync();
        var value = field == "email" ? new string('a', length - 9) + "@acme.com" : field == "phone" ? new string('1', length) : new string('x', length);
        var body = new JsonObject { ["firstName"] = "Ok", [field] = value };
        var p = await (await ws.Full.PostAsync("/api/leads", Http.Json(body.ToJsonString()))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]![field].ShouldNotBeNull();
    }

    [Fact]
    public async Task Metadata_over_64_KB_or_not_an_object_is_400()
    {
        var ws = await api.CreateWorkspaceAsync();
        var big = new JsonObject { ["firstName"] = "A", ["metadata"] = new JsonObject { ["blob"] = new string('x', 70_000) } };
        (await (await ws.Full.PostAsync("/api/leads", Http.Json(big.ToJsonString()))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed"))
            ["errors"]!["metadata"].ShouldNotBeNull();
        await (await ws.Full.PostAsync("/api/leads", Http.Json("""{"firstName":"A","metadata":[1,2]}"""))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "invalid_json");
    }

    [Fact]
    public async Task Unknown_properties_are_rejected()
    {
        var ws = await api.CreateWorkspaceAsync();
        await (await ws.Full.PostAsync("/api/leads", Http.Json("""{"firstName":"A","score":100}"""))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "unknown_property");
        await (await ws.Full.PostAsync("/api/leads", Http.Json("""{"firstName":"A","status":"converted"}"""))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "unknown_property");
    }

    [Fact]
    public async Task Read_key_is_403_and_nothing_is_stored()
    {
        var ws = await api.CreateWorkspaceAsync();
        await (await ws.Read.PostJsonAsync("/api/leads", new { firstName = "A" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(0);
    }

    [Fact]
    public async Task Phone_uses_the_workspace_default_region()
    {
        var ws = await api.CreateWorkspaceAsync();
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("UPDATE access.workspaces SET default_region = 'GB' WHERE id = @Id", new { ws.Id });
        var lead = await ws.CreateLeadAsync(new { phone = "020 7946 0958" });
        (await api.ScalarAsync<string>("SELECT phone_e164 FROM leads.leads WHERE id = @Id", new { Id = lead.Uuid() })).ShouldBe("+442079460958");
    }

    // The one-round-trip write prepares a lead with the region it last saw for the workspace and checks it in the
    // statement that writes: a region changed since is seen by the very next lead.
    [Fact]
    public async Task A_changed_default_region_applies_to_the_next_lead()
    {
        var ws = await api.CreateWorkspaceAsync();
        var us = await ws.CreateLeadAsync(new { phone = "(415) 555-0123" });
        (await api.ScalarAsync<string>("SELECT phone_e164 FROM leads.leads WHERE id = @Id", new { Id = us.Uuid() })).ShouldBe("+14155550123");
        await using (var db = await api.OpenDbAsync())
            await db.ExecuteAsync("UPDATE access.workspaces SET default_region = 'GB' WHERE id = @Id", new { ws.Id });
        var gb = await ws.CreateLeadAsync(new { phone = "020 7946 0958" });
        gb.Str("phoneE164").ShouldBe("+442079460958");
        (await api.ScalarAsync<string>("SELECT phone_e164 FROM leads.leads WHERE id = @Id", new { Id = gb.Uuid() })).ShouldBe("+442079460958");
        var again = await ws.CreateLeadAsync(new { phone = "020 7946 0959" });
        again.Str("phoneE164").ShouldBe("+442079460959");
    }

    [Fact]
    public async Task A_deleted_or_foreign_source_is_400_after_leads_went_the_fast_way()
    {
        var ws = await api.CreateWorkspaceAsync();
        var other = await api.CreateWorkspaceAsync();
        var source = (await ws.CreateSourceAsync()).Str("id");
        var foreign = (await other.CreateSourceAsync()).Str("id");
        (await ws.Full.PostJsonAsync("/api/leads", new { email = "a@fast.io", sourceId = source })).StatusCode.ShouldBe(HttpStatusCode.Created);
        (await ws.Full.PostJsonAsync("/api/leads", new { email = "b@fast.io", sourceId = source })).StatusCode.ShouldBe(HttpStatusCode.Created);
        await (await ws.Full.PostJsonAsync("/api/leads", new { email = "c@fast.io", sourceId = foreign }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        (await ws.Full.DeleteAsync($"/api/sources/{source}")).IsSuccessStatusCode.ShouldBeTrue();
        await (await ws.Full.PostJsonAsync("/api/leads", new { email = "d@fast.io", sourceId = source }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(2);
    }
}
