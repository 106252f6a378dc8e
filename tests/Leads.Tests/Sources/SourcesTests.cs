using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Sources;

public sealed class SourcesTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private sealed record SourceRow(Guid WorkspaceId, string Name, string WebhookToken, string FieldMappings, Guid CreatedBy,
        DateTime CreatedAt, DateTime UpdatedAt, DateTime? DeletedAt);

    private async Task<SourceRow> RowAsync(string sourceId)
    {
        await using var db = await api.OpenDbAsync();
        return await db.QuerySingleAsync<SourceRow>("""
            SELECT workspace_id, name, webhook_token, field_mappings::text AS field_mappings, created_by, created_at, updated_at, deleted_at
            FROM leads.sources WHERE id = @Id
            """, new { Id = SourceTestExtensions.Uuid(sourceId) });
    }

    private async Task<(string Name, string Email)> MemberAsync(Guid memberId)
    {
        await using var db = await api.OpenDbAsync();
        return await db.QuerySingleAsync<(string, string)>("SELECT name, email FROM access.members WHERE id = @Id", new { Id = memberId });
    }

    [Fact]
    public async Task Create_answers_201_with_the_whole_source_and_stores_it()
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await ws.Full.PostJsonAsync("/api/sources",
            new { name = "  Website Form  ", fieldMappings = new Dictionary<string, string> { ["email_address"] = "email", ["tel"] = "phone", ["msg"] = "notes" } });
        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = (await r.BodyAsync()).AsObject();
        body.Select(p => p.Key).ShouldBe(["id", "name", "webhookToken", "webhookUrl", "fieldMappings", "createdAt", "createdBy"]);
        var id = body.Str("id");
        id.ShouldMatch("^src_[0-9a-hjkmnp-tv-z]{26}$");
        r.Headers.Location!.ToString().ShouldBe($"/api/sources/{id}");
        body.Str("name").ShouldBe("Website Form");
        var token = body.Str("webhookToken");
        token.ShouldMatch(SourceTestExtensions.TokenPattern);
        body.Str("webhookUrl").ShouldBe($"http://localhost/api/webhooks/{token}");
        JsonNode.DeepEquals(body["fieldMappings"], JsonNode.Parse("""{"email_address":"email","tel":"phone","msg":"notes"}""")).ShouldBeTrue();
        body.Str("createdAt").ShouldMatch(SourceTestExtensions.TimestampPattern);
        var (memberName, memberEmail) = await MemberAsync(ws.OwnerId);
        var createdBy = body["createdBy"]!.AsObject();
        createdBy.Select(p => p.Key).ShouldBe(["id", "name", "email"]);
        createdBy.Str("id").ShouldBe(Kernel.Ids.TypeId.Format("usr", ws.OwnerId));
        createdBy.Str("name").ShouldBe(memberName);
        createdBy.Str("email").ShouldBe(memberEmail);

        var row = await RowAsync(id);
        row.WorkspaceId.ShouldBe(ws.Id);
        row.Name.ShouldBe("Website Form");
        row.WebhookToken.ShouldBe(token);
        JsonNode.DeepEquals(JsonNode.Parse(row.FieldMappings), body["fieldMappings"]).ShouldBeTrue();
        row.CreatedBy.ShouldBe(ws.OwnerId);
        row.DeletedAt.ShouldBeNull();
        (DateTime.UtcNow - row.CreatedAt.ToUniversalTime()).ShouldBeLessThan(TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task Create_without_mappings_stores_an_empty_object_and_every_source_gets_its_own_token()
    {
        var ws = await api.CreateWorkspaceAsync();
        var a = await ws.CreateSourceAsync("A");
        var b = await ws.CreateSourceAsync("A");
        a["fieldMappings"]!.AsObject().Count.ShouldBe(0);
        (await RowAsync(a.Str("id"))).FieldMappings.ShouldBe("{}");
        a.Str("webhookToken").ShouldNotBe(b.Str("webhookToken"));
        a.Str("id").ShouldNotBe(b.Str("id"));
    }

    [Fact]
    public async Task Create_accepts_a_255_character_name_and_null_mappings()
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await ws.Full.PostAsync("/api/sources", Http.Json($$"""{"name":"{{new string('n', 255)}}","fieldMappings":null}"""));
        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await r.BodyAsync();
        body.Str("name").Length.ShouldBe(255);
        body["fieldMappings"]!.AsObject().Count.ShouldBe(0);
    }

    [Theory]
    [InlineData("""{}""", "name", "validation_failed")]
    [InlineData("""{"name":""}""", "name", "validation_failed")]
    [InlineData("""{"name":"   "}""", "name", "validation_failed")]
    [InlineData("""{"name":null}""", "name", "validation_failed")]
    [InlineData("""{"name":"x","fieldMappings":{"a":"status"}}""", "fieldMappings", "validation_failed")]
    [InlineData("""{"name":"x","fieldMappings":{"a":"Email"}}""", "fieldMappings", "validation_failed")]
    [InlineData("""{"name":"x","fieldMappings":{"a":"metadata"}}""", "fieldMappings", "validation_failed")]
    [InlineData("""{"name":"x","fieldMappings":{"a":null}}""", "fieldMappings", "validation_failed")]
    [InlineData("""{"name":"x","fieldMappings":{"":"email"}}""", "fieldMappings", "validation_failed")]
    [InlineData("""{"name":"x","fieldMappings":{" ":"email"}}""", "fieldMappings", "validation_failed")]
    [InlineData("""{"name":"x","fieldMappings":{"a":5}}""", null, "invalid_json")]
    [InlineData("""{"name":"x","fieldMappings":["email"]}""", null, "invalid_json")]
    [InlineData("""{"name":"x","fieldMappings":"email"}""", null, "invalid_json")]
    [InlineData("""{"name":5}""", null, "invalid_json")]
    [InlineData("""{"name":"x","webhookToken":"mine"}""", "webhookToken", "unknown_property")]
    [InlineData("""{"name":"x","createdBy":"usr_01m8brdj0efn9aftk3j67h2v9c"}""", "createdBy", "unknown_property")]
    public async Task Create_rejects_invalid_bodies_naming_the_field(string json, string? field, string code)
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Full.PostAsync("/api/sources", Http.Json(json))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, code);
        if (field is not null) p["errors"]![field].ShouldNotBeNull(p.ToJsonString());
        else p["errors"].ShouldNotBeNull();
        (await api.ScalarAsync<int>("SELECT count(*) FROM leads.sources WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(0);
    }

    [Fact]
    public async Task Create_rejects_long_names_and_oversized_mappings()
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Full.PostJsonAsync("/api/sources", new { name = new string('x', 256) }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]!["name"]![0]!.GetValue<string>().ShouldBe("name must be 1–255 characters.");

        var longKey = new Dictionary<string, string> { [new string('k', 256)] = "email" };
        await (await ws.Full.PostJsonAsync("/api/sources", new { name = "x", fieldMappings = longKey }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");

        var many = Enumerable.Range(0, 101).ToDictionary(i => $"f{i}", _ => "notes");
        p = await (await ws.Full.PostJsonAsync("/api/sources", new { name = "x", fieldMappings = many }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]!["fieldMappings"].ShouldNotBeNull();

        p = await (await ws.Full.PostJsonAsync("/api/sources", new { name = "x", fieldMappings = new { a = "status" } }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]!["fieldMappings"]![0]!.GetValue<string>()
            .ShouldBe("fieldMappings['a'] must be one of email, firstName, lastName, phone, company, notes.");
        (await api.ScalarAsync<int>("SELECT count(*) FROM leads.sources WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(0);
    }

    [Fact]
    public async Task List_shows_only_live_sources_of_the_callers_workspace_oldest_first()
    {
        var ws = await api.CreateWorkspaceAsync();
        var other = await api.CreateWorkspaceAsync();
        var first = await ws.CreateSourceAsync("First", new { email_address = "email" });
        var gone = await ws.CreateSourceAsync("Gone");
        var second = await ws.CreateSourceAsync("Second");
        await other.CreateSourceAsync("Theirs");
        (await ws.Full.DeleteAsync($"/api/sources/{gone.Str("id")}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var r = await ws.Read.GetAsync("/api/sources");
        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        r.Headers.CacheControl!.NoStore.ShouldBeTrue();
        var list = (await r.BodyAsync()).AsArray();
        list.Select(s => s.Str("name")).ShouldBe(["First", "Second"]);
        JsonNode.DeepEquals(list[0], first).ShouldBeTrue(list[0]!.ToJsonString());
        JsonNode.DeepEquals(list[1], second).ShouldBeTrue();

        (await (await (await api.CreateWorkspaceAsync()).Full.GetAsync("/api/sources")).BodyAsync()).AsArray().Count.ShouldBe(0);
    }

    [Fact]
    public async Task Get_answers_the_same_shape_by_TypeID_or_bare_UUID()
    {
        var ws = await api.CreateWorkspaceAsync();
        var created = await ws.CreateSourceAsync("Landing page", new { e = "email" });
        var id = created.Str("id");
        var r = await ws.Read.GetAsync($"/api/sources/{id}");
        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        JsonNode.DeepEquals(await r.BodyAsync(), created).ShouldBeTrue();
        var byUuid = await (await ws.Read.GetAsync($"/api/sources/{SourceTestExtensions.Uuid(id)}")).BodyAsync();
        JsonNode.DeepEquals(byUuid, created).ShouldBeTrue();
    }

    [Fact]
    public async Task Update_changes_only_what_is_sent_and_keeps_the_token()
    {
        var ws = await api.CreateWorkspaceAsync();
        var created = await ws.CreateSourceAsync("Old", new { a = "email", b = "phone" });
        var id = created.Str("id");
        var before = await RowAsync(id);

        var r = await ws.Full.PutJsonAsync($"/api/sources/{id}", new { name = "  New name " });
        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = (await r.BodyAsync()).AsObject();
        body.Select(p => p.Key).ShouldBe(["id", "name", "webhookToken", "webhookUrl", "fieldMappings", "createdAt", "createdBy"]);
        body.Str("name").ShouldBe("New name");
        JsonNode.DeepEquals(body["fieldMappings"], created["fieldMappings"]).ShouldBeTrue();
        body.Str("webhookToken").ShouldBe(created.Str("webhookToken"));
        body.Str("createdAt").ShouldBe(created.Str("createdAt"));
        var after = await RowAsync(id);
        after.Name.ShouldBe("New name");
        after.UpdatedAt.ShouldBeGreaterThan(before.UpdatedAt);
        after.CreatedAt.ShouldBe(before.CreatedAt);

        body = (await (await ws.Full.PutJsonAsync($"/api/sources/{id}", new { fieldMappings = new { c = "company" } })).BodyAsync()).AsObject();
        body.Str("name").ShouldBe("New name");
        JsonNode.DeepEquals(body["fieldMappings"], JsonNode.Parse("""{"c":"company"}""")).ShouldBeTrue();
        JsonNode.DeepEquals(JsonNode.Parse((await RowAsync(id)).FieldMappings), JsonNode.Parse("""{"c":"company"}""")).ShouldBeTrue();

        body = (await (await ws.Full.PutJsonAsync($"/api/sources/{id}", new { name = "Both", fieldMappings = new { } })).BodyAsync()).AsObject();
        body.Str("name").ShouldBe("Both");
        body["fieldMappings"]!.AsObject().Count.ShouldBe(0);
        (await RowAsync(id)).FieldMappings.ShouldBe("{}");
        (await RowAsync(id)).WebhookToken.ShouldBe(created.Str("webhookToken"));
    }

    [Theory]
    [InlineData("""{}""", "body", "validation_failed")]
    [InlineData("""{"name":null,"fieldMappings":null}""", "body", "validation_failed")]
    [InlineData("""{"name":""}""", "name", "validation_failed")]
    [InlineData("""{"name":"  "}""", "name", "validation_failed")]
    [InlineData("""{"fieldMappings":{"x":"score"}}""", "fieldMappings", "validation_failed")]
    [InlineData("""{"fieldMappings":[]}""", null, "invalid_json")]
    [InlineData("""{"name":"x","deletedAt":null}""", "deletedAt", "unknown_property")]
    public async Task Update_rejects_invalid_bodies_and_changes_nothing(string json, string? field, string code)
    {
        var ws = await api.CreateWorkspaceAsync();
        var created = await ws.CreateSourceAsync("Keep", new { a = "email" });
        var before = await RowAsync(created.Str("id"));
        var p = await (await ws.Full.PutAsync($"/api/sources/{created.Str("id")}", Http.Json(json))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, code);
        if (field is not null) p["errors"]![field].ShouldNotBeNull(p.ToJsonString());
        (await RowAsync(created.Str("id"))).ShouldBe(before);
    }

    [Fact]
    public async Task Update_rejects_a_256_character_name()
    {
        var ws = await api.CreateWorkspaceAsync();
        var created = await ws.CreateSourceAsync();
        var p = await (await ws.Full.PutJsonAsync($"/api/sources/{created.Str("id")}", new { name = new string('x', 256) }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]!["name"].ShouldNotBeNull();
    }

    [Fact]
    public async Task Delete_is_a_soft_delete_after_which_the_source_is_gone_from_every_route()
    {
        var ws = await api.CreateWorkspaceAsync();
        var created = await ws.CreateSourceAsync();
        var id = created.Str("id");
        var r = await ws.Full.DeleteAsync($"/api/sources/{id}");
        r.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await r.Content.ReadAsStringAsync()).ShouldBeEmpty();
        var row = await RowAsync(id);
        row.DeletedAt.ShouldNotBeNull();
        row.Name.ShouldBe("Website Form");

        await (await ws.Full.GetAsync($"/api/sources/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "source_not_found");
        await (await ws.Full.PutJsonAsync($"/api/sources/{id}", new { name = "x" })).ShouldBeProblemAsync(HttpStatusCode.NotFound, "source_not_found");
        await (await ws.Full.PostAsync($"/api/sources/{id}/regenerate-token", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "source_not_found");
        await (await ws.Full.DeleteAsync($"/api/sources/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "source_not_found");
        (await RowAsync(id)).ShouldBe(row);
    }

    [Fact]
    public async Task Deleting_a_source_kills_its_webhook_and_its_leads_show_it_as_deleted()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync("Trade show");
        var token = source.Str("webhookToken");
        (await api.PostWebhookAsync(token, """{"email":"kept@acme.com"}""")).StatusCode.ShouldBe(HttpStatusCode.OK);
        var leadId = await api.ScalarAsync<Guid>("SELECT id FROM leads.leads WHERE workspace_id = @Id", new { ws.Id });
        var leadUrl = $"/api/leads/{Kernel.Ids.TypeId.Format("lead", leadId)}";
        var lead = await (await ws.Read.GetAsync(leadUrl)).BodyAsync();
        JsonNode.DeepEquals(lead["source"], new JsonObject { ["id"] = source.Str("id"), ["name"] = "Trade show" }).ShouldBeTrue();

        (await ws.Full.DeleteAsync($"/api/sources/{source.Str("id")}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        await (await api.PostWebhookAsync(token, """{"email":"late@acme.com"}""")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "webhook_not_found");
        lead = await (await ws.Read.GetAsync(leadUrl)).BodyAsync();
        JsonNode.DeepEquals(lead["source"], new JsonObject { ["id"] = source.Str("id"), ["name"] = "Trade show", ["deleted"] = true })
            .ShouldBeTrue(lead["source"]!.ToJsonString());
        (await api.ScalarAsync<int>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(1);
        (await api.ScalarAsync<Guid>("SELECT source_id FROM leads.leads WHERE id = @Id", new { Id = leadId })).ShouldBe(SourceTestExtensions.Uuid(source.Str("id")));

        // A deleted source can no longer be named by new API leads either.
        await (await ws.Full.PostJsonAsync("/api/leads", new { email = "api@acme.com", sourceId = source.Str("id") }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Regenerate_token_answers_the_source_with_a_new_token_and_the_old_one_dies_at_once()
    {
        var ws = await api.CreateWorkspaceAsync();
        var created = await ws.CreateSourceAsync("Rotating", new { mail = "email" });
        var id = created.Str("id");
        var oldToken = created.Str("webhookToken");
        (await api.PostWebhookAsync(oldToken, """{"mail":"before@acme.com"}""")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var r = await ws.Full.PostAsync($"/api/sources/{id}/regenerate-token", null);
        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = (await r.BodyAsync()).AsObject();
        body.Select(p => p.Key).ShouldBe(["id", "name", "webhookToken", "webhookUrl", "fieldMappings", "createdAt", "createdBy"]);
        var newToken = body.Str("webhookToken");
        newToken.ShouldMatch(SourceTestExtensions.TokenPattern);
        newToken.ShouldNotBe(oldToken);
        body.Str("webhookUrl").ShouldBe($"http://localhost/api/webhooks/{newToken}");
        body.Str("id").ShouldBe(id);
        body.Str("name").ShouldBe("Rotating");
        JsonNode.DeepEquals(body["fieldMappings"], created["fieldMappings"]).ShouldBeTrue();
        JsonNode.DeepEquals(body["createdBy"], created["createdBy"]).ShouldBeTrue();
        (await RowAsync(id)).WebhookToken.ShouldBe(newToken);

        await (await api.PostWebhookAsync(oldToken, """{"mail":"after@acme.com"}""")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "webhook_not_found");
        await (await api.PostWebhookAsync(oldToken, """{"mail":"after@acme.com"}""", "/api/webhooks/inbound/"))
            .ShouldBeProblemAsync(HttpStatusCode.NotFound, "webhook_not_found");
        (await api.PostWebhookAsync(newToken, """{"mail":"after@acme.com"}""")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await api.ScalarAsync<string[]>("SELECT array_agg(email ORDER BY email) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id }))
            .ShouldBe(["after@acme.com", "before@acme.com"]);

        // An empty JSON body is fine too; anything else in it is an unknown property.
        (await ws.Full.PostAsync($"/api/sources/{id}/regenerate-token", Http.Json("{}"))).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await ws.Full.PostAsync($"/api/sources/{id}/regenerate-token", Http.Json("""{"webhookToken":"chosen"}""")))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "unknown_property");
    }

    [Fact]
    public async Task Another_workspaces_source_is_a_404_on_every_route_and_stays_unchanged()
    {
        var mine = await api.CreateWorkspaceAsync();
        var theirs = await api.CreateWorkspaceAsync();
        var source = await theirs.CreateSourceAsync("Theirs", new { a = "email" });
        var id = source.Str("id");
        var before = await RowAsync(id);

        await (await mine.Full.GetAsync($"/api/sources/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "source_not_found");
        await (await mine.Full.PutJsonAsync($"/api/sources/{id}", new { name = "Mine now" })).ShouldBeProblemAsync(HttpStatusCode.NotFound, "source_not_found");
        await (await mine.Full.PostAsync($"/api/sources/{id}/regenerate-token", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "source_not_found");
        await (await mine.Full.DeleteAsync($"/api/sources/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "source_not_found");

        (await RowAsync(id)).ShouldBe(before);
        JsonNode.DeepEquals(await (await theirs.Full.GetAsync($"/api/sources/{id}")).BodyAsync(), source).ShouldBeTrue();
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("src_")]
    [InlineData("lead_01m8brdj0efn9aftk3j67h2v9c")]
    [InlineData("src_01m8brdj0efn9aftk3j67h2v9c")]
    [InlineData("0190a3b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b")]
    [InlineData("src_81m8brdj0efn9aftk3j67h2v9c")]
    public async Task Malformed_foreign_typed_and_unknown_ids_are_404_on_every_route(string id)
    {
        var ws = await api.CreateWorkspaceAsync();
        await (await ws.Full.GetAsync($"/api/sources/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "source_not_found");
        await (await ws.Full.PutJsonAsync($"/api/sources/{id}", new { name = "x" })).ShouldBeProblemAsync(HttpStatusCode.NotFound, "source_not_found");
        await (await ws.Full.PostAsync($"/api/sources/{id}/regenerate-token", null)).ShouldBeProblemAsync(HttpStatusCode.NotFound, "source_not_found");
        await (await ws.Full.DeleteAsync($"/api/sources/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "source_not_found");
    }

    [Fact]
    public async Task A_read_key_may_list_and_get_but_every_write_is_403_and_changes_nothing()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync("Guarded", new { a = "email" });
        var id = source.Str("id");
        var before = await RowAsync(id);

        await (await ws.Read.PostJsonAsync("/api/sources", new { name = "Sneaky" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        await (await ws.Read.PutJsonAsync($"/api/sources/{id}", new { name = "Sneaky" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        await (await ws.Read.DeleteAsync($"/api/sources/{id}")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");
        await (await ws.Read.PostAsync($"/api/sources/{id}/regenerate-token", null)).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");

        (await RowAsync(id)).ShouldBe(before);
        (await api.ScalarAsync<int>("SELECT count(*) FROM leads.sources WHERE workspace_id = @Id", new { ws.Id })).ShouldBe(1);
        (await ws.Read.GetAsync("/api/sources")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Read.GetAsync($"/api/sources/{id}")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Every_source_route_needs_an_api_key()
    {
        var anon = api.Client();
        await (await anon.GetAsync("/api/sources")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "missing_api_key");
        await (await anon.GetAsync("/api/sources/src_01m8brdj0efn9aftk3j67h2v9c")).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "missing_api_key");
        await (await anon.PostJsonAsync("/api/sources", new { name = "x" })).ShouldBeProblemAsync(HttpStatusCode.Unauthorized, "missing_api_key");
    }

    [Fact]
    public async Task A_source_of_a_removed_member_still_shows_its_creator()
    {
        var ws = await api.CreateWorkspaceAsync();
        var adminKey = await api.CreateKeyAsync(ws.Name, "full", "admin");
        var adminClient = api.Client(adminKey);
        var created = (await (await adminClient.PostJsonAsync("/api/sources", new { name = "By admin" })).BodyAsync()).AsObject();
        var adminId = created["createdBy"].Str("id");
        (await ws.Full.DeleteAsync($"/api/users/{adminId}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var again = await (await ws.Full.GetAsync($"/api/sources/{created.Str("id")}")).BodyAsync();
        JsonNode.DeepEquals(again["createdBy"], created["createdBy"]).ShouldBeTrue();
    }

    [Fact]
    public async Task OpenApi_documents_the_source_and_webhook_endpoints()
    {
        var doc = (await (await api.Client().GetAsync("/openapi/v1.json")).BodyAsync()).AsObject();
        var paths = doc["paths"]!.AsObject();
        paths["/api/sources"]!.AsObject().Select(m => m.Key).ShouldBe(["get", "post"], ignoreOrder: true);
        paths["/api/sources/{id}"]!.AsObject().Select(m => m.Key).ShouldBe(["get", "put", "delete"], ignoreOrder: true);
        paths["/api/sources/{id}/regenerate-token"]!.AsObject().Select(m => m.Key).ShouldBe(["post"]);
        paths["/api/sources"]!["post"]!["responses"]!["201"].ShouldNotBeNull();
        paths["/api/sources"]!["post"]!["responses"]!["200"].ShouldBeNull();
        var mappings = doc["components"]!["schemas"]!["SourceView"]!["properties"]!["fieldMappings"]!;
        mappings["type"]!.GetValue<string>().ShouldBe("object");
        mappings["additionalProperties"]!["type"]!.GetValue<string>().ShouldBe("string");
        foreach (var route in new[] { "/api/webhooks/{token}", "/api/webhooks/inbound/{token}" })
        {
            var op = paths[route]!["post"]!;
            op["requestBody"].ShouldNotBeNull();
            foreach (var status in new[] { "200", "400", "404", "413", "429" }) op["responses"]![status].ShouldNotBeNull($"{route} {status}");
            op["responses"]!["401"].ShouldBeNull();
            (op["security"]?.AsArray().Count ?? 0).ShouldBe(0);
        }
        foreach (var (path, item) in paths.Where(p => p.Key.StartsWith("/api/sources") || p.Key.StartsWith("/api/webhooks")))
            foreach (var (method, op) in item!.AsObject())
            {
                op!["summary"]!.GetValue<string>().ShouldNotBeNullOrWhiteSpace($"{method} {path}");
                op["description"]!.GetValue<string>().ShouldNotBeNullOrWhiteSpace($"{method} {path}");
            }
    }
}

public sealed class PublicBaseUrlApiFactory : ApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["PublicBaseUrl"] = "https://leads.example.com/" };
}

public sealed class PublicBaseUrlTests(PublicBaseUrlApiFactory api) : IClassFixture<PublicBaseUrlApiFactory>
{
    [Fact]
    public async Task Configured_public_base_url_wins_over_the_request_host()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.CreateSourceAsync();
        source.Str("webhookUrl").ShouldBe($"https://leads.example.com/api/webhooks/{source.Str("webhookToken")}");
        var listed = (await (await ws.Read.GetAsync("/api/sources")).BodyAsync()).AsArray().Single();
        listed.Str("webhookUrl").ShouldBe(source.Str("webhookUrl"));
    }
}
