using System.Net;
using System.Text.Json.Nodes;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Sources;

internal static class SourceTestExtensions
{
    public const string TimestampPattern = @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$";
    public const string TokenPattern = "^[A-Za-z0-9_-]{43}$";

    /// <summary>Creates a source through the API and returns its response body.</summary>
    public static async Task<JsonObject> CreateSourceAsync(this TestWorkspace ws, string name = "Website Form", object? fieldMappings = null)
    {
        var r = await ws.Full.PostJsonAsync("/api/sources", fieldMappings is null ? new { name } : new { name, fieldMappings });
        r.StatusCode.ShouldBe(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        return (await r.BodyAsync()).AsObject();
    }

    public static string Str(this JsonNode? node, string member) => node![member]!.GetValue<string>();

    public static Guid Uuid(string typeId) =>
        Kernel.Ids.TypeId.TryParseAny(typeId, out _, out var g) ? g : throw new ArgumentException($"not a TypeID: {typeId}");

    public static Task<HttpResponseMessage> PutJsonAsync(this HttpClient c, string url, object body) => c.PutAsync(url, Http.Json(body));

    /// <summary>Posts a raw JSON text to a webhook, anonymously.</summary>
    public static Task<HttpResponseMessage> PostWebhookAsync(this ApiFactory api, string token, string json, string route = "/api/webhooks/") =>
        api.Client().PostAsync(route + token, Http.Json(json));
}
