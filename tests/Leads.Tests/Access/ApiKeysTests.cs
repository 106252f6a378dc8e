using System.Net;
using System.Text;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Access;

public sealed class ApiKeysTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Create_returns_the_key_once_and_stores_only_its_hash()
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await ws.Full.PostJsonAsync("/api/api-keys", new { label = "  zapier  ", scope = "read" });
        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await r.BodyAsync();
        var key = body["key"]!.GetValue<string>();
        var id = body["id"]!.GetValue<string>();
        key.ShouldMatch("^5l_live_[0-9A-Za-z]{38}$");
        id.ShouldMatch("^key_[0-9a-hjkmnp-tv-z]{26}$");
        r.Headers.Location!.ToString().ShouldBe($"/api/api-keys/{id}");
        body["label"]!.GetValue<string>().ShouldBe("zapier");
        body["scope"]!.GetValue<string>().ShouldBe("read");
        body["prefix"]!.GetValue<string>().ShouldBe(key[..12]);
        body["active"]!.GetValue<bool>().ShouldBeTrue();
        body["expiresAt"].ShouldBeNull();
        body["lastUsedAt"].ShouldBeNull();
        body["createdAt"]!.GetValue<string>().ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");
        body["createdBy"]!["id"]!.GetValue<string>().ShouldStartWith("usr_");

        // The plaintext is nowhere in the database: not in any column of any table.
        await using var db = await api.OpenDbAsync();
        var dump = await db.QueryAsync<string>("""
            SELECT row_to_json(t)::text FROM access.api_keys t
            UNION ALL SELECT row_to_json(t)::text FROM access.members t
            UNION ALL SELECT row_to_json(t)::text FROM access.workspaces t
            """);
        string.Join("\n", dump).ShouldNotContain(key[12..]);
        var hash = await db.ExecuteScalarAsync<byte[]>("SELECT key_hash FROM access.api_keys WHERE prefix = @P", new { P = key[..12] });
        hash.ShouldBe(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key)));

        // Listing never shows it again.
        var list = await (await ws.Full.GetAsync("/api/api-keys")).Content.ReadAsStringAsync();
        list.ShouldNotContain(key[12..]);
        list.ShouldContain(key[..12]);
        list.ShouldNotContain("\"key\"");
        list.ShouldNotContain("hash", Case.Insensitive);
    }

    [Fact]
    public async Task List_has_the_published_shape()
    {
        var ws = await api.CreateWorkspaceAsync();
        var list = (await (await ws.Full.GetAsync("/api/api-keys")).BodyAsync()).AsArray();
        list.Count.ShouldBe(2);
        var item = list[0]!.AsObject();
        item.Select(p => p.Key).OrderBy(k => k).ShouldBe(
            new[] { "active", "createdAt", "createdBy", "expiresAt", "id", "label", "lastUsedAt", "prefix", "scope" }.OrderBy(k => k));
        item["createdBy"]!.AsObject().Select(p => p.Key).ShouldBe(["id", "name"]);
    }

    [Theory]
    [InlineData("""{"scope":"read"}""", "label")]
    [InlineData("""{"label":"","scope":"read"}""", "label")]
    [InlineData("""{"label":"x","scope":"admin"}""", "scope")]
    [InlineData("""{"label":"x"}""", "scope")]
    [InlineData("""{"label":"x","scope":"read","expiresAt":"2001-01-01T00:00:00Z"}""", "expiresAt")]
    public async Task Create_validation_errors_name_the_field(string json, string field)
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Full.PostAsync("/api/api-keys", Http.Json(json))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]![field].ShouldNotBeNull();
    }

    [Fact]
    public async Task Create_with_a_label_over_100_characters_is_400()
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Full.PostJsonAsync("/api/api-keys", new { label = new string('x', 101), scope = "read" }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]!["label"].ShouldNotBeNull();
    }

    [Fact]
    public async Task Patch_renames_and_validates()
    {
        var ws = await api.CreateWorkspaceAsync();
        var id = (await (await ws.Full.PostJsonAsync("/api/api-keys", new { label = "a", scope = "read" })).BodyAsync())["id"]!.GetValue<string>();
        var r = await ws.Full.PatchJsonAsync($"/api/api-keys/{id}", new { label = "renamed" });
        r.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await r.BodyAsync())["label"]!.GetValue<string>().ShouldBe("renamed");
        (await api.ScalarAsync<string>("SELECT label FROM access.api_keys WHERE id = @Id",
            new { Id = Kernel.Ids.TypeId.TryParse(id, "key", out var g) ? g : Guid.Empty })).ShouldBe("renamed");

        await (await ws.Full.PatchAsync($"/api/api-keys/{id}", Http.Json("{}"))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await (await ws.Full.PatchAsync($"/api/api-keys/{id}", Http.Json("""{"scope":"full"}"""))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "unknown_property");
    }

    private async Task<string> KeyIdAsync(string plaintext) => Kernel.Ids.TypeId.Format("key",
        await api.ScalarAsync<Guid>("SELECT id FROM access.api_keys WHERE prefix = @P", new { P = plaintext[..12] }));

    [Fact]
    public async Task An_admin_cannot_deactivate_reenable_or_delete_an_owners_key_but_an_owner_can()
    {
        var ws = await api.CreateWorkspaceAsync();
        var admin = api.Client(await api.CreateKeyAsync(ws.Name, "full", "admin"));
        var ownerKey = await KeyIdAsync(ws.ReadKey);

        await (await admin.PatchJsonAsync($"/api/api-keys/{ownerKey}", new { active = false })).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_role");
        await (await admin.PatchJsonAsync($"/api/api-keys/{ownerKey}", new { label = "mine now" })).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_role");
        await (await admin.DeleteAsync($"/api/api-keys/{ownerKey}")).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_role");
        (await api.ScalarAsync<bool>("SELECT active AND label = 'owner-read' FROM access.api_keys WHERE prefix = @P", new { P = ws.ReadKey[..12] })).ShouldBeTrue();

        // The owner revokes it; the admin cannot re-enable it.
        (await ws.Full.PatchJsonAsync($"/api/api-keys/{ownerKey}", new { active = false })).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await admin.PatchJsonAsync($"/api/api-keys/{ownerKey}", new { active = true })).ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_role");
        (await api.ScalarAsync<bool>("SELECT active FROM access.api_keys WHERE prefix = @P", new { P = ws.ReadKey[..12] })).ShouldBeFalse();
        (await ws.Read.GetAsync("/api/leads")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        // An admin still manages non-owner keys, and an owner manages everyone's.
        var other = await KeyIdAsync(await api.CreateKeyAsync(ws.Name, "read", "admin"));
        (await admin.PatchJsonAsync($"/api/api-keys/{other}", new { label = "renamed by admin" })).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Full.DeleteAsync($"/api/api-keys/{other}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await ws.Full.DeleteAsync($"/api/api-keys/{ownerKey}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await (await admin.DeleteAsync($"/api/api-keys/{ownerKey}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "api_key_not_found");
    }

    [Fact]
    public async Task A_key_that_expires_cannot_mint_a_key_that_outlives_it()
    {
        var ws = await api.CreateWorkspaceAsync();
        var expires = DateTime.UtcNow.AddDays(7);
        var minted = await (await ws.Full.PostJsonAsync("/api/api-keys", new { label = "temp", scope = "full", expiresAt = expires })).BodyAsync();
        var temp = api.Client(minted["key"]!.GetValue<string>());

        (await (await temp.PostJsonAsync("/api/api-keys", new { label = "forever", scope = "full" })).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed"))
            ["errors"]!["expiresAt"].ShouldNotBeNull();
        await (await temp.PostJsonAsync("/api/api-keys", new { label = "later", scope = "read", expiresAt = expires.AddDays(1) }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        (await api.ScalarAsync<long>("SELECT count(*) FROM access.api_keys WHERE workspace_id = @Id AND label IN ('forever', 'later')", new { ws.Id })).ShouldBe(0);

        var sooner = await temp.PostJsonAsync("/api/api-keys", new { label = "sooner", scope = "read", expiresAt = expires.AddDays(-1) });
        sooner.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await ws.Full.PostJsonAsync("/api/api-keys", new { label = "owner forever", scope = "read" })).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_removed_members_keys_list_as_inactive()
    {
        var ws = await api.CreateWorkspaceAsync();
        var plaintext = await api.CreateKeyAsync(ws.Name, "full", "member");
        var keyId = await KeyIdAsync(plaintext);
        var memberId = Kernel.Ids.TypeId.Format("usr", await api.ScalarAsync<Guid>("SELECT member_id FROM access.api_keys WHERE prefix = @P", new { P = plaintext[..12] }));
        (await ws.Full.DeleteAsync($"/api/users/{memberId}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var listed = (await (await ws.Full.GetAsync("/api/api-keys")).BodyAsync()).AsArray().Single(k => k!["id"]!.GetValue<string>() == keyId)!;
        listed["active"]!.GetValue<bool>().ShouldBeFalse();
        (await api.Client(plaintext).GetAsync("/api/leads")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Keys_of_another_workspace_are_404_and_unchanged()
    {
        var mine = await api.CreateWorkspaceAsync();
        var theirs = await api.CreateWorkspaceAsync();
        var theirKey = (await (await theirs.Full.PostJsonAsync("/api/api-keys", new { label = "theirs", scope = "read" })).BodyAsync());
        var id = theirKey["id"]!.GetValue<string>();

        await (await mine.Full.PatchJsonAsync($"/api/api-keys/{id}", new { active = false })).ShouldBeProblemAsync(HttpStatusCode.NotFound, "api_key_not_found");
        await (await mine.Full.DeleteAsync($"/api/api-keys/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "api_key_not_found");
        var mineList = await (await mine.Full.GetAsync("/api/api-keys")).Content.ReadAsStringAsync();
        mineList.ShouldNotContain(id);
        (await api.Client(theirKey["key"]!.GetValue<string>()).GetAsync("/api/users")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("key_00000000000000000000000000")]
    [InlineData("usr_01m8brdj0efn9aftk3j67h2v9c")]
    [InlineData("not-an-id")]
    [InlineData("0196b1c3-0000-7000-8000-000000000000")]
    public async Task Unknown_wrong_type_or_malformed_ids_are_404(string id)
    {
        var ws = await api.CreateWorkspaceAsync();
        await (await ws.Full.DeleteAsync($"/api/api-keys/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "api_key_not_found");
    }

    [Fact]
    public async Task Bare_uuid_is_accepted_for_an_id()
    {
        var ws = await api.CreateWorkspaceAsync();
        var id = (await (await ws.Full.PostJsonAsync("/api/api-keys", new { label = "a", scope = "read" })).BodyAsync())["id"]!.GetValue<string>();
        Kernel.Ids.TypeId.TryParse(id, "key", out var uuid).ShouldBeTrue();
        (await ws.Full.DeleteAsync($"/api/api-keys/{uuid}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
    }
}
