using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Kernel.Ids;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Modules.Import.Jobs;

namespace Leads.Tests.Import;

/// <summary>Uploading CSV text and running the import job in-process (the test host runs no Hangfire server).</summary>
public static class ImportTestKit
{
    public static HttpContent Multipart(byte[] file, string fileName = "leads.csv", IDictionary<string, string>? fields = null)
    {
        var form = new MultipartFormDataContent();
        foreach (var (k, v) in fields ?? new Dictionary<string, string>()) form.Add(new StringContent(v), k);
        var part = new ByteArrayContent(file);
        part.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(part, "file", fileName);
        return form;
    }

    public static HttpContent Raw(byte[] file)
    {
        var c = new ByteArrayContent(file);
        c.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        return c;
    }

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    public static Task<HttpResponseMessage> UploadAsync(this TestWorkspace ws, string csv, string query = "") =>
        ws.Full.PostAsync("/api/leads/import" + query, Multipart(Utf8(csv)));

    /// <summary>Uploads (asserting 202), runs the job to its end, and returns the import's status.</summary>
    public static async Task<JsonObject> ImportAsync(this TestWorkspace ws, byte[] file, string query = "", string fileName = "leads.csv")
    {
        var r = await ws.Full.PostAsync("/api/leads/import" + query, Multipart(file, fileName));
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.Accepted, text);
        var id = JsonNode.Parse(text)!["id"]!.GetValue<string>();
        await ws.Api.RunImportAsync(id);
        return await ws.Read.GetObjectAsync($"/api/leads/imports/{id}");
    }

    public static Task<JsonObject> ImportAsync(this TestWorkspace ws, string csv, string query = "") => ws.ImportAsync(Utf8(csv), query);

    public static ImportLeadsJob Job(this ApiFactory api) => api.Services.GetRequiredService<ImportLeadsJob>();

    public static async Task RunImportAsync(this ApiFactory api, string id, ImportLeadsJob? job = null)
    {
        TypeId.TryParse(id, "imp", out var g).ShouldBeTrue();
        await (job ?? api.Job()).RunAsync(g, CancellationToken.None);
    }

    public static async Task<JsonObject> ReadFromJsonObjectAsync(this HttpContent c) => JsonNode.Parse(await c.ReadAsStringAsync())!.AsObject();

    /// <summary>A new source's ID.</summary>
    public static async Task<string> SourceAsync(this TestWorkspace ws, string name) =>
        (await Sources.SourceTestExtensions.CreateSourceAsync(ws, name)).Id();

    public static long Long(this JsonNode n, string name) => n[name]!.GetValue<long>();

    public static string Str(this JsonNode n, string name) => n[name]!.GetValue<string>();

    /// <summary>The (line, message) pairs of the status's <c>errors</c>.</summary>
    public static (long Line, string Message)[] Errors(this JsonObject status) =>
        status["errors"]!.AsArray().Select(e => (e!["line"]!.GetValue<long>(), e["message"]!.GetValue<string>())).ToArray();

    /// <summary>Counters always reconcile: rows read = created + skipped + failed, and duplicates are some of the created.</summary>
    public static void ShouldReconcile(this JsonObject s)
    {
        s.Long("processedRows").ShouldBe(s.Long("created") + s.Long("skipped") + s.Long("failed"), s.ToJsonString());
        s.Long("duplicates").ShouldBeLessThanOrEqualTo(s.Long("created"));
        if (s.Str("status") == "completed") s.Long("processedRows").ShouldBe(s.Long("totalRows"), s.ToJsonString());
    }

    /// <summary>The workspace's leads, oldest first, as the list endpoint shows them.</summary>
    public static async Task<JsonObject[]> LeadsAsync(this TestWorkspace ws)
    {
        var page = await ws.Read.GetObjectAsync("/api/leads?limit=100");
        return page["data"]!.AsArray().Select(x => x!.AsObject()).Reverse().ToArray();
    }
}
