using System.Net;
using System.Text.Json.Nodes;
using Kernel.Ids;

namespace Leads.Tests.Infrastructure;

public static class LeadHelpers
{
    /// <summary>Creates a lead through the API and returns its JSON (asserting 201).</summary>
    public static async Task<JsonObject> CreateLeadAsync(this TestWorkspace ws, object body)
    {
        var r = await ws.Full.PostJsonAsync("/api/leads", body);
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.Created, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    public static string Id(this JsonNode n) => n["id"]!.GetValue<string>();

    public static Guid Uuid(this JsonNode n, string prefix = "lead") =>
        TypeId.TryParse(n.Id(), prefix, out var g) ? g : throw new InvalidOperationException("bad id " + n.Id());

    public static async Task<JsonObject> GetObjectAsync(this HttpClient c, string url)
    {
        var r = await c.GetAsync(url);
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient c, string url, object body) => c.PutAsync(url, Http.Json(body));

    /// <summary>Ids of a list response's items, in order.</summary>
    public static string[] Ids(this JsonObject page) => page["data"]!.AsArray().Select(x => x!.Id()).ToArray();
}
