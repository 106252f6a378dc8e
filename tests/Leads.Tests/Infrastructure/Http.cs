using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Leads.Tests.Infrastructure;

public static class Http
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static StringContent Json(object body) => new(JsonSerializer.Serialize(body, Kernel.Http.JsonConventions.Options), Encoding.UTF8, "application/json");

    public static async Task<JsonNode> BodyAsync(this HttpResponseMessage r) =>
        JsonNode.Parse(await r.Content.ReadAsStringAsync()) ?? throw new InvalidOperationException("empty body");

    /// <summary>Asserts an RFC 9457 problem with the given status and code, and returns it.</summary>
    public static async Task<JsonObject> ShouldBeProblemAsync(this HttpResponseMessage r, HttpStatusCode status, string code)
    {
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(status, text);
        r.Content.Headers.ContentType?.MediaType.ShouldBe("application/problem+json");
        var p = JsonNode.Parse(text)!.AsObject();
        p["code"]!.GetValue<string>().ShouldBe(code, text);
        p["status"]!.GetValue<int>().ShouldBe((int)status);
        p["title"]!.GetValue<string>().ShouldNotBeNullOrWhiteSpace();
        p["type"]!.GetValue<string>().ShouldStartWith("https://");
        p["traceId"]!.GetValue<string>().ShouldNotBeNullOrWhiteSpace();
        text.ShouldNotContain("   at ");
        text.ShouldNotContain("Exception");
        return p;
    }

    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient c, string url, object body) => c.PostAsync(url, Json(body));
    public static Task<HttpResponseMessage> PatchJsonAsync(this HttpClient c, string url, object body) => c.PatchAsync(url, Json(body));
    public static Task<T?> GetJsonAsync<T>(this HttpClient c, string url) => c.GetFromJsonAsync<T>(url);
}
