using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Leads.Host.Platform;
using Leads.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Leads.Tests.Security;

/// <summary>Values PostgreSQL cannot hold or compare are the request's fault: a 400/422 naming it, never a 500.</summary>
public sealed class DataErrorTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Theory]
    [InlineData("endDate=9999-12-31")]
    [InlineData("endDate=9999-12-31T23:59:59.9999999Z")]
    [InlineData("startDate=0001-01-01&endDate=9999-12-31")]
    [InlineData("startDate=9999-12-31")]
    [InlineData("startDate=0001-01-01T00:00:00Z")]
    public async Task Dates_at_the_ends_of_the_calendar_answer_on_list_stats_export_and_async_export(string query)
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { firstName = "Ada" });
        var everything = !query.StartsWith("startDate=9999", StringComparison.Ordinal);

        var list = await ws.Read.GetObjectAsync($"/api/leads?{query}");
        list["pagination"]!["total"]!.GetValue<long>().ShouldBe(everything ? 1 : 0);
        var stats = await ws.Read.GetAsync($"/api/leads/stats?{query}");
        stats.StatusCode.ShouldBe(HttpStatusCode.OK, await stats.Content.ReadAsStringAsync());
        var export = await ws.Read.GetAsync($"/api/leads/export?{query}");
        export.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await export.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length.ShouldBe(everything ? 2 : 1);

        var body = new JsonObject();
        foreach (var pair in query.Split('&')) body[pair[..pair.IndexOf('=')]] = pair[(pair.IndexOf('=') + 1)..];
        var started = await ws.Full.PostJsonAsync("/api/leads/exports", body);
        started.StatusCode.ShouldBe(HttpStatusCode.Accepted, await started.Content.ReadAsStringAsync());
        var exportId = (await started.BodyAsync())["id"]!.GetValue<string>();
        Kernel.Ids.TypeId.TryParse(exportId, "exp", out var g).ShouldBeTrue();
        await api.Services.GetRequiredService<Modules.Import.Jobs.ExportLeadsJob>().RunAsync(g, CancellationToken.None);
        var done = await ws.Read.GetObjectAsync($"/api/leads/exports/{exportId}");
        done["status"]!.GetValue<string>().ShouldBe("completed", done.ToJsonString());
        done["rowCount"]!.GetValue<long>().ShouldBe(everything ? 1 : 0);
    }

    [Theory]
    [InlineData("22008", 400)] // datetime field overflow
    [InlineData("22021", 400)] // invalid byte sequence (NUL)
    [InlineData("22001", 400)] // string too long
    [InlineData("23514", 422)] // check violation
    [InlineData("54000", 422)] // program limit exceeded (row or index entry too large)
    public async Task A_database_data_error_becomes_a_problem_never_a_500(string sqlState, int status)
    {
        var ctx = new DefaultHttpContext();
        ctx.Response.Body = new MemoryStream();
        var middleware = new ProblemMiddleware(_ => throw new PostgresException("secret detail: 'value'", "ERROR", "ERROR", sqlState,
            columnName: "first_name"), NullLogger<ProblemMiddleware>.Instance);
        await middleware.InvokeAsync(ctx);

        ctx.Response.StatusCode.ShouldBe(status);
        ctx.Response.ContentType.ShouldBe("application/problem+json");
        var body = JsonNode.Parse(Encoding.UTF8.GetString(((MemoryStream)ctx.Response.Body).ToArray()))!;
        body["code"]!.GetValue<string>().ShouldBe("validation_failed");
        body["errors"]!["firstName"].ShouldNotBeNull();
        body.ToJsonString().ShouldNotContain("secret");
    }

    [Fact]
    public async Task Other_database_errors_stay_internal_errors()
    {
        var ctx = new DefaultHttpContext();
        ctx.Response.Body = new MemoryStream();
        var middleware = new ProblemMiddleware(_ => throw new PostgresException("boom", "ERROR", "ERROR", "42P01"), NullLogger<ProblemMiddleware>.Instance);
        await middleware.InvokeAsync(ctx);
        ctx.Response.StatusCode.ShouldBe(500);
    }
}
