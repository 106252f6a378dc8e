using System.Text.Json;
using System.Text.Json.Nodes;
using FastEndpoints;
using Microsoft.AspNetCore.Http.Metadata;
using NSwag.Generation;

namespace Leads.Host.Platform.OpenApi;

/// <summary>
/// Serves <c>/openapi/v1.json</c>: NSwag's document for the FastEndpoints endpoints, shaped once by
/// <see cref="OperationConventions"/> with the routing table of this host, then kept (it cannot change while the
/// process runs).
/// </summary>
internal sealed class PublishedDocument(IOpenApiDocumentGenerator generator, EndpointDataSource endpoints)
{
    public const string Path = "/openapi/v1.json";
    private readonly Lazy<Task<string>> json = new(() => BuildAsync(generator, endpoints));

    public Task<string> JsonAsync() => json.Value;

    private static async Task<string> BuildAsync(IOpenApiDocumentGenerator generator, EndpointDataSource endpoints)
    {
        var document = await generator.GenerateAsync("v1");
        var doc = JsonNode.Parse(document.ToJson())!.AsObject();
        OperationConventions.Apply(doc, Sources(endpoints), LoadExamples());
        return doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>Operation key (<c>GET /api/leads/{id}</c>) → what its endpoint declares.</summary>
    internal static Dictionary<string, OperationSource> Sources(EndpointDataSource endpoints)
    {
        var map = new Dictionary<string, OperationSource>(StringComparer.Ordinal);
        foreach (var e in endpoints.Endpoints.OfType<RouteEndpoint>())
        {
            if (e.Metadata.GetMetadata<EndpointDefinition>() is not { } def) continue;
            var route = Normalise(e.RoutePattern.RawText ?? "");
            var first = Normalise(def.Routes.FirstOrDefault() ?? route);
            foreach (var verb in e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
                map[$"{verb} {route}"] = new OperationSource(def.EndpointType, route, first,
                    def.AnonymousVerbs?.Contains(verb) == true,
                    Modules.Access.Public.IdempotencyExtensions.IdempotentRoutes.Contains($"{verb} {route}"),
                    e.Metadata.GetMetadata<Kernel.Http.EntityTagged>(),
                    e.Metadata.GetMetadata<IAcceptsMetadata>());
        }
        return map;
    }

    /// <summary><c>api/leads/{id:guid}</c> → <c>/api/leads/{id}</c>, the form of the document's paths.</summary>
    internal static string Normalise(string route)
    {
        var segments = route.Trim('/').Split('/').Select(s => s.StartsWith('{') ? "{" + s.Trim('{', '}').Split(':', '=', '?')[0] + "}" : s);
        return "/" + string.Join('/', segments);
    }

    private static JsonObject? LoadExamples()
    {
        using var stream = typeof(PublishedDocument).Assembly.GetManifestResourceStream("Leads.Host.openapi-examples.json");
        return stream is null ? null : JsonNode.Parse(stream)?.AsObject();
    }
}
