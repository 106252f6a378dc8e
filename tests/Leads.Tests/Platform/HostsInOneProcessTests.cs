using System.Net;
using Dapper;
using Hangfire;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Leads.Tests.Platform;

/// <summary>
/// Several hosts in one process (the test run; an API node beside a worker node): Hangfire keeps its configuration in
/// process-wide statics, set by whichever host was configured last. A host must neither depend on a later host still
/// being alive nor run its jobs on another host's services.
/// </summary>
public sealed class HostsInOneProcessTests
{
    [Fact]
    public async Task A_host_starts_jobs_after_a_host_built_later_in_the_same_process_was_disposed()
    {
        await using var first = new ApiFactory();
        await first.InitializeAsync();
        var ws = await first.CreateWorkspaceAsync();
        await using (var later = new ApiFactory())
        {
            await later.InitializeAsync();
            (await (await later.CreateWorkspaceAsync()).Full.GetAsync("/api/leads")).StatusCode.ShouldBe(HttpStatusCode.OK);
        }

        // Hangfire creates loggers at any moment (here: the first host's first jobs); the later host's are gone.
        Hangfire.Logging.LogProvider.GetLogger("test").Log(Hangfire.Logging.LogLevel.Warn, () => "after the later host").ShouldBeTrue();
        var export = await ws.Full.PostAsync("/api/leads/exports", Http.Json("{}"));
        export.StatusCode.ShouldBe(HttpStatusCode.Accepted, await export.Content.ReadAsStringAsync());
        var import = new MultipartFormDataContent { { new StringContent("email\na@example.com\n"), "file", "a.csv" } };
        (await ws.Full.PostAsync("/api/leads/import", import)).StatusCode.ShouldBe(HttpStatusCode.Accepted);

        await using var db = await first.OpenDbAsync();
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM hangfire.job")).ShouldBe(2);
        first.ServerLog.Since(0).ShouldBeEmpty();
    }

    [Fact]
    public async Task Each_host_runs_its_jobs_on_its_own_services()
    {
        await using var first = new ApiFactory();
        await first.InitializeAsync();
        await using var later = new ApiFactory();
        await later.InitializeAsync();

        using var scope = first.Services.GetRequiredService<JobActivator>().BeginScope((JobActivatorContext)null!);
        scope.Resolve(typeof(NpgsqlDataSource)).ShouldBeSameAs(first.Services.GetRequiredService<NpgsqlDataSource>());
    }
}
