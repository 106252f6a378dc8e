using System.Net;
using System.Text;
using Dapper;
using Leads.Tests.Infrastructure;
using Modules.Webhooks;
using Modules.Webhooks.Delivery;

namespace Leads.Tests.Webhooks;

/// <summary>Subscriptions CRUD (spec §13) with the default settings: private targets refused.</summary>
public sealed class WebhookSubscriptionTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Create_shows_the_secret_once_and_stores_it_only_encrypted()
    {
        var ws = await api.CreateWorkspaceAsync();
        var r = await ws.Full.PostJsonAsync("/api/webhook-subscriptions",
            new { url = "https://crm.example.com/in", events = new[] { "lead.created", "lead.deleted" }, description = "CRM" });
        r.StatusCode.ShouldBe(HttpStatusCode.Created);
        var created = await r.BodyAsync();
        var secret = created["secret"]!.GetValue<string>();
        secret.ShouldStartWith("whsec_");
        Convert.FromBase64String(secret["whsec_".Length..]).Length.ShouldBe(32);
        r.Headers.Location!.ToString().ShouldBe($"/api/webhook-subscriptions/{created.Id()}");
        created["active"]!.GetValue<bool>().ShouldBeTrue();

        var got = await ws.Read.GetObjectAsync($"/api/webhook-subscriptions/{created.Id()}");
        got.ContainsKey("secret").ShouldBeFalse();
        got["events"]!.AsArray().Select(e => e!.GetValue<string>()).ShouldBe(["lead.created", "lead.deleted"]);
        (await ws.Read.GetObjectAsync("/api/webhook-subscriptions"))["data"]!.AsArray().Single()!.Id().ShouldBe(created.Id());

        await using var db = await api.OpenDbAsync();
        var stored = await db.ExecuteScalarAsync<byte[]>("SELECT secret FROM webhooks.subscriptions WHERE workspace_id = @W", new { W = ws.Id });
        Encoding.Latin1.GetString(stored!).ShouldNotContain(secret["whsec_".Length..]);
        Convert.ToBase64String(stored!).ShouldNotContain(secret["whsec_".Length..]);
    }

    [Fact]
    public async Task Update_pauses_resumes_and_changes_fields_and_delete_removes_it()
    {
        var ws = await api.CreateWorkspaceAsync();
        var id = (await (await ws.Full.PostJsonAsync("/api/webhook-subscriptions", new { url = "https://a.example.com/", events = new[] { "lead.created" } })).BodyAsync()).Id();
        var patched = await (await ws.Full.PatchJsonAsync($"/api/webhook-subscriptions/{id}",
            new { url = "https://b.example.com/x", events = new[] { "lead.updated" }, description = "d", active = false })).BodyAsync();
        patched["url"]!.GetValue<string>().ShouldBe("https://b.example.com/x");
        patched["active"]!.GetValue<bool>().ShouldBeFalse();
        patched["description"]!.GetValue<string>().ShouldBe("d");
        (await api.ScalarAsync<bool>("SELECT active FROM webhooks.subscriptions WHERE workspace_id = @W", new { W = ws.Id })).ShouldBeFalse();
        var cleared = await (await ws.Full.PatchJsonAsync($"/api/webhook-subscriptions/{id}", new { description = "" })).BodyAsync();
        cleared["description"].ShouldBeNull();
        cleared["url"]!.GetValue<string>().ShouldBe("https://b.example.com/x");

        (await ws.Full.DeleteAsync($"/api/webhook-subscriptions/{id}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await (await ws.Read.GetAsync($"/api/webhook-subscriptions/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
        (await api.ScalarAsync<long>("SELECT count(*) FROM webhooks.subscriptions WHERE workspace_id = @W", new { W = ws.Id })).ShouldBe(0);
    }

    [Theory]
    [InlineData("ftp://example.com/x", "url")]
    [InlineData("/relative", "url")]
    [InlineData("https://user:pw@example.com/", "url")]
    [InlineData("http://127.0.0.1:8080/hook", "url")]
    [InlineData("http://10.1.2.3/hook", "url")]
    [InlineData("http://169.254.169.254/latest/meta-data", "url")]
    [InlineData("http://[::1]/hook", "url")]
    [InlineData("http://localhost/hook", "url")]
    [InlineData("http://192.168.1.1/", "url")]
    public async Task Unusable_urls_are_a_400_naming_url(string url, string field)
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await (await ws.Full.PostJsonAsync("/api/webhook-subscriptions", new { url, events = new[] { "lead.created" } }))
            .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        p["errors"]![field].ShouldNotBeNull();
        (await api.ScalarAsync<long>("SELECT count(*) FROM webhooks.subscriptions WHERE workspace_id = @W", new { W = ws.Id })).ShouldBe(0);
    }

    [Fact]
    public async Task Events_must_be_known_types()
    {
        var ws = await api.CreateWorkspaceAsync();
        foreach (var events in new[] { Array.Empty<string>(), ["lead.created", "lead.exploded"] })
        {
            var p = await (await ws.Full.PostJsonAsync("/api/webhook-subscriptions", new { url = "https://a.example.com/", events }))
                .ShouldBeProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
            p["errors"]!["events"].ShouldNotBeNull();
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:9/x", null)]
    [InlineData("http://[::1]:9/x", null)]
    [InlineData("http://10.0.0.7/x", null)]
    [InlineData("http://169.254.169.254/latest/meta-data", null)]
    [InlineData("http://localhost:9/x", null)]
    [InlineData("http://internal.example/x", "10.20.30.40")]
    [InlineData("http://metadata.example/x", "169.254.169.254")]
    [InlineData("http://sneaky.example/x", "::ffff:127.0.0.1")]
    [InlineData("http://v6.example/x", "fd00::1")]
    public async Task The_guard_refuses_private_targets_on_the_resolved_address_at_send_time(string url, string? resolvesTo)
    {
        var options = new WebhookOptions
        {
            Resolve = (host, ct) => resolvesTo is null ? System.Net.Dns.GetHostAddressesAsync(host, ct) : Task.FromResult(new[] { IPAddress.Parse(resolvesTo) }),
        };
        using var sender = new WebhookSender(options, TimeProvider.System);
        var result = await sender.SendAsync(url, "whsec_" + Convert.ToBase64String(new byte[32]), "whd_x", "{}", CancellationToken.None);
        result.Delivered.ShouldBeFalse();
        result.StatusCode.ShouldBeNull();
        result.Error!.ShouldStartWith("refused");
    }

    [Fact]
    public async Task Another_workspaces_subscription_is_404()
    {
        var mine = await api.CreateWorkspaceAsync();
        var theirs = await api.CreateWorkspaceAsync();
        var id = (await (await theirs.Full.PostJsonAsync("/api/webhook-subscriptions", new { url = "https://a.example.com/", events = new[] { "lead.created" } })).BodyAsync()).Id();
        await (await mine.Read.GetAsync($"/api/webhook-subscriptions/{id}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
        await (await mine.Full.PatchJsonAsync($"/api/webhook-subscriptions/{id}", new { active = false })).ShouldBeProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
        await (await mine.Read.GetAsync($"/api/webhook-subscriptions/{id}/deliveries")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "subscription_not_found");
        (await mine.Read.GetObjectAsync("/api/webhook-subscriptions"))["data"]!.AsArray().ShouldBeEmpty();
        (await api.ScalarAsync<bool>("SELECT active FROM webhooks.subscriptions WHERE workspace_id = @W", new { W = theirs.Id })).ShouldBeTrue();
    }
}
