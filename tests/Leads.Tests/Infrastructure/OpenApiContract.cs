using System.Globalization;
using System.Text.Json.Nodes;
using NJsonSchema;
using NSwag;

namespace Leads.Tests.Infrastructure;

/// <summary>
/// The published OpenAPI document as a checker: every response a test receives must be an operation's documented
/// status, with a documented media type, a JSON body that validates against that status's schema, and every header
/// the document marks required. Sits in every test client (<see cref="ContractValidatingHandler"/>), so the document
/// cannot drift from the code.
/// </summary>
public sealed class OpenApiContract
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static OpenApiContract? loaded;

    private readonly OpenApiDocument document;
    private readonly JsonObject raw;
    private readonly List<(string[] Segments, string Path)> paths;

    private OpenApiContract(OpenApiDocument document, JsonObject raw)
    {
        this.document = document;
        this.raw = raw;
        paths = [.. raw["paths"]!.AsObject().Select(kv => (kv.Key.Trim('/').Split('/'), kv.Key))];
    }

    public string Json => raw.ToJsonString();

    /// <summary>The document is the same for every test host (it depends on code, not settings): loaded once per run.</summary>
    public static async Task<OpenApiContract> GetAsync(HttpMessageHandler server) =>
        await TryGetAsync(server) ?? throw new InvalidOperationException("The host serves no /openapi/v1.json.");

    /// <summary>Null when this host serves no document (a worker-role node serves no API at all).</summary>
    public static async Task<OpenApiContract?> TryGetAsync(HttpMessageHandler server)
    {
        if (loaded is not null) return loaded;
        await Gate.WaitAsync();
        try
        {
            if (loaded is not null) return loaded;
            using var client = new HttpClient(server, disposeHandler: false) { BaseAddress = new Uri("http://localhost") };
            using var r = await client.GetAsync("/openapi/v1.json");
            if (!r.IsSuccessStatusCode) return null;
            var json = await r.Content.ReadAsStringAsync();
            return loaded = new OpenApiContract(await OpenApiDocument.FromJsonAsync(json), JsonNode.Parse(json)!.AsObject());
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>The document's path template a request path matches; literal segments beat parameters.</summary>
    public string? Match(string requestPath)
    {
        var segments = requestPath.Trim('/').Split('/');
        return paths
            .Where(p => p.Segments.Length == segments.Length && p.Segments.Zip(segments).All(x => x.First.StartsWith('{') || string.Equals(x.First, x.Second, StringComparison.Ordinal)))
            .OrderByDescending(p => p.Segments.Count(s => !s.StartsWith('{')))
            .Select(p => p.Path)
            .FirstOrDefault();
    }

    public async Task CheckAsync(HttpRequestMessage request, HttpResponseMessage response)
    {
        var path = request.RequestUri!.AbsolutePath;
        if (!path.StartsWith("/api/", StringComparison.Ordinal)) return; // health, metrics, dashboard, the document itself
        var method = request.Method.Method.ToLowerInvariant();
        var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        var template = Match(path);
        var op = template is null ? null : raw["paths"]![template]![method] as JsonObject;
        if (op is null || await IsRoutingAnswerAsync(response))
        {
            // No operation: only routing's own 404/405 problem may answer.
            if (status is not ("404" or "405")) Fail(request, response, $"{method.ToUpperInvariant()} {path} is no documented operation, yet it answered {status}.");
            await CheckBodyAsync(request, response, Problems(), "application/problem+json");
            return;
        }
        if (op["responses"]?[status] is not JsonObject documented)
        {
            Fail(request, response, $"{op["operationId"]} does not document status {status}. Body: {await SnippetAsync(response)}");
            return;
        }
        foreach (var (name, header) in documented["headers"]?.AsObject() ?? [])
            if (header?["required"]?.GetValue<bool>() == true && !HasHeader(response, name))
                Fail(request, response, $"{op["operationId"]} {status} documents the required header {name}, which is missing.");

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var content = documented["content"] as JsonObject;
        if (mediaType is null)
        {
            var length = response.Content.Headers.ContentLength;
            if (length > 0) Fail(request, response, $"{op["operationId"]} {status} sent a body without a Content-Type.");
            return;
        }
        if (content is null || !content.ContainsKey(mediaType))
        {
            Fail(request, response, $"{op["operationId"]} {status} answered {mediaType}, which the document does not list ({string.Join(", ", content?.Select(kv => kv.Key) ?? [])}). Body: {await SnippetAsync(response)}");
            return;
        }
        if (!IsJson(mediaType)) return;
        var schema = document.Paths[template!][method].ActualResponses[status].Content[mediaType].Schema;
        await CheckBodyAsync(request, response, schema, mediaType, $"{op["operationId"]} {status}");
    }

    /// <summary>Routing's own 404/405 (a node that serves no API, a verb the path lacks) is no operation's answer.</summary>
    private static async Task<bool> IsRoutingAnswerAsync(HttpResponseMessage r)
    {
        if ((int)r.StatusCode is not (404 or 405) || r.Content.Headers.ContentType?.MediaType != "application/problem+json") return false;
        await r.Content.LoadIntoBufferAsync();
        var code = JsonNode.Parse(await r.Content.ReadAsStringAsync())?["code"]?.GetValue<string>();
        return code is "route_not_found" or "method_not_allowed";
    }

    private JsonSchema Problems() => document.Components.Schemas["ProblemBody"];

    private static async Task CheckBodyAsync(HttpRequestMessage request, HttpResponseMessage response, JsonSchema? schema, string expectedType, string? what = null)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is null) return;
        if (mediaType != expectedType) Fail(request, response, $"{what ?? "routing"} answered {mediaType}, expected {expectedType}.");
        if (schema is null) Fail(request, response, $"{what} documents no schema for its JSON body.");
        await response.Content.LoadIntoBufferAsync();
        var body = await response.Content.ReadAsStringAsync();
        var errors = schema!.Validate(body, SchemaType.OpenApi3);
        if (errors.Count > 0)
            Fail(request, response, $"{what ?? "routing"}: the body does not match the published schema: " +
                string.Join("; ", errors.Select(e => $"{e.Path}: {e.Kind}{(e is NJsonSchema.Validation.ChildSchemaValidationError c ? " [" + string.Join(", ", c.Errors.SelectMany(x => x.Value).Select(x => $"{x.Path}: {x.Kind}")) + "]" : "")}")) +
                $". Body: {Truncate(body)}");
    }

    private static bool IsJson(string mediaType) => mediaType.EndsWith("json", StringComparison.Ordinal);

    private static bool HasHeader(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out _) || r.Content.Headers.TryGetValues(name, out _);

    private static async Task<string> SnippetAsync(HttpResponseMessage r)
    {
        if (r.Content.Headers.ContentType?.MediaType is not { } t || !IsJson(t)) return "(not JSON)";
        await r.Content.LoadIntoBufferAsync();
        return Truncate(await r.Content.ReadAsStringAsync());
    }

    private static string Truncate(string s) => s.Length > 600 ? s[..600] + "…" : s;

    private static void Fail(HttpRequestMessage request, HttpResponseMessage response, string message) =>
        throw new OpenApiContractException($"OpenAPI contract: {request.Method} {request.RequestUri!.PathAndQuery} → {(int)response.StatusCode}: {message}");
}

public sealed class OpenApiContractException(string message) : Exception(message);

/// <summary>
/// Checks each response against <see cref="OpenApiContract"/> before the test sees it. A 500 is never an answer a test
/// expects: it fails the request at once with the errors the host logged meanwhile (<see cref="ServerLog"/>), so the
/// cause is in the test's result rather than in a console nobody sees.
/// </summary>
public sealed class ContractValidatingHandler(Func<HttpMessageHandler> server, ServerLog? log = null) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var mark = log?.Count ?? 0;
        var response = await base.SendAsync(request, cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.InternalServerError)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var logged = log?.Since(mark) ?? [];
            throw new UnexpectedServerErrorException(
                $"{request.Method} {request.RequestUri!.PathAndQuery} → 500 {body}{Environment.NewLine}" +
                (logged.Count == 0 ? "The host logged no error for it." : "The host logged:" + Environment.NewLine + string.Join(Environment.NewLine, logged)));
        }
        if (await OpenApiContract.TryGetAsync(server()) is { } contract) await contract.CheckAsync(request, response);
        return response;
    }
}

public sealed class UnexpectedServerErrorException(string message) : Exception(message);
