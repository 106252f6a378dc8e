using System.Net;
using Leads.Tests.Import;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Leads.Tests.Platform;

public sealed class ApiRoleFactory : ApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["role"] = "api" };
}

/// <summary>A worker-only node on the API node's database: Hangfire servers on, no API.</summary>
public sealed class WorkerRoleFactory(string connectionString) : ApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["role"] = "worker", ["Hangfire:Server"] = "true" };

    public override Task InitializeAsync()
    {
        ConnectionString = connectionString;
        _ = Services;
        return Task.CompletedTask;
    }
}

public sealed class TwoRoleFixture : IAsyncLifetime
{
    public ApiRoleFactory Api { get; } = new();
    public WorkerRoleFactory Worker { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Api.InitializeAsync();
        Worker = new WorkerRoleFactory(Api.ConnectionString);
        await Worker.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Worker.DisposeAsync();
        await Api.DisposeAsync();
    }
}

/// <summary>Scale-out: one API-only host and one worker-only host on one database run an import end to end.</summary>
public sealed class TwoRoleTests(TwoRoleFixture nodes) : IClassFixture<TwoRoleFixture>
{
    [Fact]
    public async Task An_import_uploaded_to_the_api_node_is_run_by_the_worker_node()
    {
        var ws = await nodes.Api.CreateWorkspaceAsync();
        var upload = await ws.UploadAsync("email,firstName,lastName\na@acme.io,Ann,Lee\nb@acme.io,Bo,Kim\nA@ACME.io,Ann,Again\n");
        upload.StatusCode.ShouldBe(HttpStatusCode.Accepted, await upload.Content.ReadAsStringAsync());
        var statusUrl = upload.Headers.Location!.ToString();

        var deadline = DateTime.UtcNow.AddSeconds(90);
        var status = await ws.Read.GetObjectAsync(statusUrl);
        while (status.Str("status") is "queued" or "running" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            status = await ws.Read.GetObjectAsync(statusUrl);
        }
        status.Str("status").ShouldBe("completed", status.ToJsonString());
        status.Long("created").ShouldBe(3);
        status.Long("duplicates").ShouldBe(1);
        (await ws.Read.GetObjectAsync("/api/leads"))["pagination"]!["total"]!.GetValue<long>().ShouldBe(3);
    }

    [Fact]
    public async Task The_api_node_runs_no_jobs_and_the_worker_node_serves_no_api()
    {
        bool RunsJobServer(ApiFactory f) => f.Services.GetServices<IHostedService>().Any(s => s.GetType().FullName!.Contains("Hangfire"));
        RunsJobServer(nodes.Api).ShouldBeFalse();
        RunsJobServer(nodes.Worker).ShouldBeTrue();
        var ws = await nodes.Api.CreateWorkspaceAsync();
        (await nodes.Worker.Client(ws.FullKey).GetAsync("/api/leads")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await nodes.Worker.Client().GetAsync("/health/ready")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await ws.Read.GetAsync("/api/leads")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
