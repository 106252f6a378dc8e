using System.Net;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Access;

public sealed class UsersTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Create_then_list_with_the_published_shape_and_database_row()
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await ws.Full.PostJsonAsync("/api/users", new { name = "Chidi Anagonye", email = "Chidi@Example.com", role = "member" });
        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        var created = (await r.BodyAsync()).AsObject();
        created.Select(p => p.Key).ShouldBe(["id", "name", "email", "role", "createdAt"]);
        created["email"]!.GetValue<string>().ShouldBe("Chidi@Example.com");
        r.Headers.Location!.ToString().ShouldBe($"/api/users/{created["id"]}");

        var list = (await (await ws.Read.GetAsync("/api/users")).BodyAsync()).AsArray();
        list.Select(u => u!["id"]!.GetValue<string>()).ShouldContain(created["id"]!.GetValue<string>());

        await using var db = await api.OpenDbAsync();
        (await db.ExecuteScalarAsync<string>("SELECT role FROM access.members WHERE workspace_id = @Id AND email = 'Chidi@Example.com'", new { ws.Id }))
            .ShouldBe("member");
    }

    [Fact]
    public async Task Email_is_unique_per_workspace_case_insensitively_but_not_across_workspaces()
    {
        var ws = await api.CreateWorkspaceAsync();
        (await ws.Full.PostJsonAsync("/api/users", new { name = "A", email = "same@x.io", role = "member" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        await (await ws.Full.PostJsonAsync("/api/users", new { name = "B", email = "SAME@x.io", role = "admin" }))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict, "email_taken");
        var other = await api.CreateWorkspaceAsync();
        (await other.Full.PostJsonAsync("/api/users", new { name = "A", email = "same@x.io", role = "member" })).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("""{"email":"a@b.io","role":"member"}""", "name")]
    [InlineData("""{"name":"A","role":"member"}""", "email")]
    [InlineData("""{"name":"A","email":"not-an-email","role":"member"}""", "email")]
    [InlineData("""{"name":"A","email":"a@b.io","role":"boss"}""", "role")]
    [InlineData("""{"name":"A","email":"a@b.io"}""", "role")]
    public async Task Create_validation_errors_name_the_field(string json, string field)
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Full.PostAsync("/api/users", Http.Json(json))).ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]![field].ShouldNotBeNull();
    }

    [Fact]
    public async Task Only_an_owner_may_add_or_remove_an_owner()
    {
        var ws = await api.CreateWorkspaceAsync();
        var admin = api.Client(await api.CreateKeyAsync(ws.Name, "full", "admin"));
        await (await admin.PostJsonAsync("/api/users", new { name = "O", email = "o@x.io", role = "owner" }))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_role");
        (await admin.PostJsonAsync("/api/users", new { name = "M", email = "m@x.io", role = "member" })).StatusCode.ShouldBe(HttpStatusCode.Created);
        await (await admin.DeleteAsync($"/api/users/{Kernel.Ids.TypeId.Format("usr", ws.OwnerId)}"))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_role");
    }

    [Fact]
    public async Task The_last_owner_cannot_be_removed()
    {
        var ws = await api.CreateWorkspaceAsync();
        await (await ws.Full.DeleteAsync($"/api/users/{Kernel.Ids.TypeId.Format("usr", ws.OwnerId)}"))
            .ShouldBeProblemAsync(HttpStatusCode.Conflict, "last_owner");
        (await api.ScalarAsync<int>("SELECT count(*) FROM access.members WHERE id = @Id AND deleted_at IS NULL", new { Id = ws.OwnerId })).ShouldBe(1);
    }

    [Fact]
    public async Task Delete_removes_the_member_from_the_list_and_frees_the_email()
    {
        var ws = await api.CreateWorkspaceAsync();
        var id = (await (await ws.Full.PostJsonAsync("/api/users", new { name = "Gone", email = "gone@x.io", role = "member" })).BodyAsync())["id"]!.GetValue<string>();
        (await ws.Full.DeleteAsync($"/api/users/{id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await (await ws.Full.GetAsync("/api/users")).Content.ReadAsStringAsync()).ShouldNotContain(id);
        await (await ws.Full.DeleteAsync($"/api/users/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "user_not_found");
        (await ws.Full.PostJsonAsync("/api/users", new { name = "Back", email = "gone@x.io", role = "member" })).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Users_of_another_workspace_are_invisible_and_404()
    {
        var mine = await api.CreateWorkspaceAsync();
        var theirs = await api.CreateWorkspaceAsync();
        var id = (await (await theirs.Full.PostJsonAsync("/api/users", new { name = "T", email = "t@x.io", role = "member" })).BodyAsync())["id"]!.GetValue<string>();
        (await (await mine.Full.GetAsync("/api/users")).Content.ReadAsStringAsync()).ShouldNotContain(id);
        await (await mine.Full.DeleteAsync($"/api/users/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "user_not_found");
        (await api.ScalarAsync<int>("SELECT count(*) FROM access.members WHERE email = 't@x.io' AND deleted_at IS NULL")).ShouldBe(1);
    }
}
