using System.Diagnostics;
using System.Net;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Access;

/// <summary>The CLI verbs run as a separate process against the same database, as an operator would run them.</summary>
public sealed class CliTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private async Task<(int Code, string Stdout, string Stderr)> RunCliAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Leads.Host.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add($"--ConnectionStrings:Leads={api.ConnectionString}");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (p.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Keys_create_prints_only_the_key_and_the_key_works()
    {
        var (code, stdout, stderr) = await RunCliAsync("keys", "create", "--workspace", "acme-cli", "--scope", "read", "--label", "ci");
        code.ShouldBe(0, stderr);
        var key = stdout.Trim();
        key.ShouldMatch("^5l_live_[0-9A-Za-z]{38}$");
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length.ShouldBe(1);

        var users = await api.Client(key).GetAsync("/api/users");
        users.StatusCode.ShouldBe(HttpStatusCode.OK);
        var list = (await users.BodyAsync()).AsArray();
        list.Single()!["role"]!.GetValue<string>().ShouldBe("owner");
        await (await api.Client(key).PostJsonAsync("/api/users", new { name = "x", email = "x@x.io", role = "member" }))
            .ShouldBeProblemAsync(HttpStatusCode.Forbidden, "insufficient_scope");

        // A second key for the same workspace and role reuses the workspace and the member.
        var (code2, stdout2, _) = await RunCliAsync("keys", "create", "--workspace", "acme-cli", "--scope", "full", "--role", "owner");
        code2.ShouldBe(0);
        (await api.ScalarAsync<int>("SELECT count(*) FROM access.workspaces WHERE name = 'acme-cli'")).ShouldBe(1);
        var admin = api.Client(stdout2.Trim());
        (await admin.PostJsonAsync("/api/users", new { name = "x", email = "x@x.io", role = "member" })).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Keys_create_with_bad_arguments_fails_with_usage_on_stderr()
    {
        var (code, stdout, stderr) = await RunCliAsync("keys", "create", "--workspace", "x", "--scope", "superuser");
        code.ShouldNotBe(0);
        stdout.Trim().ShouldBeEmpty();
        stderr.ShouldContain("scope");
    }

    [Fact]
    public async Task Migrate_is_idempotent_and_exits_zero()
    {
        var (code, stdout, stderr) = await RunCliAsync("migrate");
        code.ShouldBe(0, stderr);
        stdout.Trim().ShouldBeEmpty();
    }
}
