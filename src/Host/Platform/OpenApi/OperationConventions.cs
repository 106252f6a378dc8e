using System.Reflection;
using System.Text.Json.Nodes;
using FastEndpoints;
using Kernel.Http;
using Microsoft.AspNetCore.Http.Metadata;

namespace Leads.Host.Platform.OpenApi;

/// <summary>What the conventions need to know about the endpoint behind one operation.</summary>
internal sealed record OperationSource(Type EndpointType, string Route, string FirstRoute, bool Anonymous, bool Idempotent,
    EntityTagged? EntityTag, IAcceptsMetadata? Accepts);

/// <summary>
/// The rules every operation of the published document follows, applied to NSwag's output in one pass so an
/// endpoint added later is covered without copying anything (docs/openapi.md says what each rule produces):
/// operationId and tag from the slice and module, the error statuses the shared pipeline can answer, the
/// headers it sends and honours, and the request bodies NSwag cannot infer from a raw-body endpoint.
/// </summary>
internal static class OperationConventions
{
    public const string ProblemSchemaRef = "#/components/schemas/ProblemBody";

    private static readonly Dictionary<int, string> ErrorDescriptions = new()
    {
        [400] = "Invalid input: `validation_failed` (with `errors` naming each field or parameter), `invalid_json` or `unknown_property`.",
        [401] = "Missing, unknown, inactive or expired API key (`WWW-Authenticate: ApiKey`).",
        [403] = "The key's scope (`insufficient_scope`) or its member's role (`insufficient_role`) does not allow this call.",
        [404] = "No such object in the caller's workspace (a malformed ID or one of another type is a 404 too).",
        [409] = "Conflict with the current state (the problem's `code` says which).",
        [412] = "`If-Match` names a version that is no longer current (`precondition_failed`); the current `ETag` is returned.",
        [413] = "The request body is larger than this endpoint accepts (`payload_too_large`).",
        [415] = "The body's `Content-Type` is not one this endpoint accepts (`unsupported_media_type`).",
        [422] = "Understood but refused (the problem's `code` says why).",
        [429] = "Rate limit exhausted (`rate_limited`: this key's budget, or too many failed keys from this address), or too many uploads/downloads at once (`too_many_transfers`); wait `Retry-After` seconds.",
        [503] = "The database is unreachable (`database_unavailable`); retry after `Retry-After` seconds.",
    };

    private static readonly Dictionary<string, string> ModuleDescriptions = new()
    {
        ["Access"] = "Workspace members and API keys.",
        ["Leads"] = "Leads, their timeline, stats and CSV export; sources and their inbound webhooks.",
        ["Tags"] = "Tags and the tags on a lead.",
        ["Duplicates"] = "Duplicate groups and merging.",
        ["Import"] = "Background CSV imports and exports.",
        ["Webhooks"] = "The change feed and outbound webhook subscriptions.",
    };

    public static void Apply(JsonObject doc, IReadOnlyDictionary<string, OperationSource> sources, JsonObject? examples)
    {
        doc.Remove("servers");
        var usedTags = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (path, item) in doc["paths"]!.AsObject())
        {
            foreach (var (method, node) in item!.AsObject())
            {
                if (node is not JsonObject op || !sources.TryGetValue($"{method.ToUpperInvariant()} {path}", out var source)) continue;
                var module = ModuleOf(source.EndpointType);
                op["operationId"] = OperationId(source);
                op["tags"] = new JsonArray(module);
                if (op["description"] is null && op["summary"] is { } summary) op["description"] = summary.DeepClone();
                usedTags.Add(module);
                AddRequestHeaders(op, source);
                if (method is not ("get" or "head" or "delete")) ShapeRequestBody(op, source);
                else op.Remove("requestBody");
                AddErrorResponses(op, path, method, source);
                AddResponseHeaders(op, path, source);
                if (examples?[op["operationId"]!.GetValue<string>()] is JsonObject example) AddExamples(op, example);
            }
        }
        RemoveUnusedSchemas(doc);
        MarkResponsePropertiesRequired(doc);
        TypeNullableReferences(doc);
        doc["tags"] = new JsonArray([.. usedTags.Select(t => new JsonObject
        {
            ["name"] = t,
            ["description"] = ModuleDescriptions.GetValueOrDefault(t, t),
        })]);
    }

    /// <summary>FastEndpoints publishes each request DTO as a schema even when its fields are all path or query parameters.</summary>
    private static void RemoveUnusedSchemas(JsonObject doc)
    {
        if (doc["components"]?["schemas"] is not JsonObject schemas) return;
        var used = Reachable(schemas, [doc["paths"]]);
        foreach (var name in schemas.Select(kv => kv.Key).Where(n => !used.Contains(n)).ToList()) schemas.Remove(name);
    }

    /// <summary>
    /// The service writes every property of a response object, null or not (<c>JsonIgnoreCondition.Never</c>), except
    /// those <see cref="PresenceSchemaProcessor"/> listed as omitted when null: so a schema only responses use lists
    /// every other property as required, and a generated client gets <c>id: string</c>, not <c>id?: string</c>.
    /// Request schemas keep what the validators say.
    /// </summary>
    private static void MarkResponsePropertiesRequired(JsonObject doc)
    {
        if (doc["components"]?["schemas"] is not JsonObject schemas) return;
        var operations = doc["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(o => o.Value)).OfType<JsonObject>().ToList();
        var requestSide = Reachable(schemas, operations.SelectMany(o => new[] { o["requestBody"], o["parameters"] }));
        var responseSide = Reachable(schemas, operations.Select(o => o["responses"]));
        foreach (var (name, node) in schemas)
        {
            if (node is not JsonObject schema) continue;
            var optional = (schema["x-omitted-when-null"] as JsonArray)?.Select(n => n!.GetValue<string>()).ToHashSet() ?? [];
            schema.Remove("x-omitted-when-null");
            if (!responseSide.Contains(name) || requestSide.Contains(name) || schema["properties"] is not JsonObject properties) continue;
            schema["required"] = new JsonArray([.. properties.Select(p => p.Key).Where(p => !optional.Contains(p)).Select(p => JsonValue.Create(p))]);
        }
    }

    /// <summary>
    /// NSwag writes a nullable reference as <c>{nullable: true, oneOf: [{$ref}]}</c>. OpenAPI 3.0 ignores <c>nullable</c>
    /// without a <c>type</c>, and validators check the <c>oneOf</c> on its own, so a null there fails (Spectral refuses
    /// the examples). Publish it as "the schema, or null": <c>oneOf: [{$ref}, {type: object, nullable: true, enum: [null]}]</c>,
    /// which every 3.0 validator and generator reads the same way (<c>X | null</c>).
    /// </summary>
    private static void TypeNullableReferences(JsonObject doc)
    {
        var pending = new Stack<JsonNode?>([doc["paths"], doc["components"]]);
        while (pending.TryPop(out var node))
        {
            if (node is JsonArray a)
            {
                foreach (var child in a) pending.Push(child);
                continue;
            }
            if (node is not JsonObject o) continue;
            if (o["nullable"]?.GetValue<bool>() == true && o["type"] is null
                && (o["oneOf"] ?? o["allOf"] ?? o["anyOf"]) is JsonArray { Count: 1 } one && one[0]?["$ref"] is not null)
            {
                var reference = one[0]!.DeepClone();
                o.Remove("nullable");
                o.Remove("allOf");
                o.Remove("anyOf");
                o["oneOf"] = new JsonArray(reference, new JsonObject { ["type"] = "object", ["nullable"] = true, ["enum"] = new JsonArray((JsonNode?)null) });
                continue;
            }
            foreach (var (_, child) in o) pending.Push(child);
        }
    }

    private static HashSet<string> Reachable(JsonObject schemas, IEnumerable<JsonNode?> roots)
    {
        const string prefix = "#/components/schemas/";
        var used = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<JsonNode?>(roots);
        while (pending.TryPop(out var node))
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (key, child) in o)
                    {
                        if (key == "$ref" && child?.GetValue<string>() is { } r && r.StartsWith(prefix, StringComparison.Ordinal))
                        {
                            if (used.Add(r[prefix.Length..])) pending.Push(schemas[r[prefix.Length..]]);
                        }
                        else pending.Push(child);
                    }
                    break;
                case JsonArray a:
                    foreach (var child in a) pending.Push(child);
                    break;
            }
        }
        return used;
    }

    /// <summary><c>Modules.Leads.Features.ListLeads.Endpoint</c> → <c>listLeads</c>; a second route of one endpoint adds its own words.</summary>
    internal static string OperationId(OperationSource s)
    {
        var name = SliceOf(s.EndpointType);
        var id = char.ToLowerInvariant(name[0]) + name[1..];
        if (s.Route == s.FirstRoute) return id;
        var first = s.FirstRoute.Split('/');
        return id + string.Concat(s.Route.Split('/')
            .Where(seg => seg.Length > 0 && !seg.StartsWith('{') && !first.Contains(seg))
            .Select(seg => string.Concat(seg.Split('-').Select(w => char.ToUpperInvariant(w[0]) + w[1..]))));
    }

    internal static string SliceOf(Type t)
    {
        var ns = t.Namespace ?? "";
        var i = ns.IndexOf(".Features.", StringComparison.Ordinal);
        return i < 0 ? t.Name : ns[(i + ".Features.".Length)..].Split('.')[0];
    }

    internal static string ModuleOf(Type t)
    {
        var parts = (t.Namespace ?? "").Split('.');
        return parts is ["Modules", var module, ..] ? module : "Platform";
    }

    private static void AddRequestHeaders(JsonObject op, OperationSource s)
    {
        if (s.Idempotent)
            Parameters(op).Add(HeaderParameter("Idempotency-Key",
                "Makes a retry safe: the first request with a key runs, a repeat within 24 h gets the stored answer (`Idempotent-Replayed: true`). " +
                "1–255 visible ASCII characters, scoped to the workspace.",
                new JsonObject { ["type"] = "string", ["minLength"] = 1, ["maxLength"] = 255, ["pattern"] = "^[!-~]+$" }));
        if (s.EntityTag is { AcceptsIfMatch: true })
            Parameters(op).Add(HeaderParameter("If-Match",
                "The lead's `ETag` from an earlier read: the write happens only if the lead has not changed since (else 412). Without it the last write wins.",
                new JsonObject { ["type"] = "string" }));
    }

    private static JsonArray Parameters(JsonObject op) => op["parameters"] as JsonArray ?? (JsonArray)(op["parameters"] = new JsonArray());

    private static JsonObject HeaderParameter(string name, string description, JsonObject schema) => new()
    {
        ["name"] = name,
        ["in"] = "header",
        ["required"] = false,
        ["description"] = description,
        ["schema"] = schema,
    };

    /// <summary>
    /// Endpoints that read the raw body declare what they accept with <c>Accepts&lt;T&gt;(…)</c>; NSwag drops those without
    /// a bound request DTO. Build the body from that: a form of <c>T</c>'s properties for multipart (an <see cref="IFormFile"/>
    /// is a binary part), a plain string for <c>text/*</c>, <c>T</c>'s schema for JSON. The <c>*/*</c> that only keeps
    /// routing lenient is not published.
    /// </summary>
    private static void ShapeRequestBody(JsonObject op, OperationSource s)
    {
        if (s.Accepts is not { ContentTypes.Count: > 0 } accepts) return;
        var types = accepts.ContentTypes.Where(t => t != "*/*").ToList();
        if (types.Count == 0) return;
        var existing = op["requestBody"]?["content"] as JsonObject;
        var content = new JsonObject();
        foreach (var type in types)
        {
            if (existing?[type] is JsonObject known && type.Contains("json", StringComparison.Ordinal))
            {
                content[type] = known.DeepClone();
                continue;
            }
            if (existing?.FirstOrDefault(kv => kv.Key.Contains("json", StringComparison.Ordinal)).Value is JsonObject json && type.Contains("json", StringComparison.Ordinal))
            {
                content[type] = json.DeepClone();
                continue;
            }
            content[type] = new JsonObject
            {
                ["schema"] = type switch
                {
                    "multipart/form-data" or "application/x-www-form-urlencoded" => FormSchema(accepts.RequestType),
                    _ when type.StartsWith("text/", StringComparison.Ordinal) => new JsonObject { ["type"] = "string" },
                    _ when type.Contains("json", StringComparison.Ordinal) => new JsonObject { ["type"] = "object", ["additionalProperties"] = true },
                    _ => new JsonObject { ["type"] = "string", ["format"] = "binary" },
                },
            };
        }
        // Optional only for routing (senders that omit Content-Type); an empty body is refused all the same.
        op["requestBody"] = new JsonObject { ["required"] = true, ["content"] = content };
        if (content.ContainsKey("multipart/form-data") && content["multipart/form-data"]?["schema"]?["properties"] is JsonObject fields)
            foreach (var (name, schema) in fields)
            {
                if (schema?["format"]?.GetValue<string>() == "binary" || Parameters(op).Any(p => p?["name"]?.GetValue<string>() == name)) continue;
                var copy = schema!.DeepClone().AsObject();
                var description = copy["description"]?.GetValue<string>();
                copy.Remove("description");
                Parameters(op).Add(new JsonObject
                {
                    ["name"] = name,
                    ["in"] = "query",
                    ["required"] = false,
                    ["description"] = (description is null ? "" : description + " ") + "Or as a form field of the same name.",
                    ["schema"] = copy,
                });
            }
    }

    private static JsonObject FormSchema(Type? type)
    {
        var properties = new JsonObject();
        var required = new JsonArray();
        var nullability = new NullabilityInfoContext();
        foreach (var p in type?.GetProperties(BindingFlags.Public | BindingFlags.Instance) ?? [])
        {
            var name = char.ToLowerInvariant(p.Name[0]) + p.Name[1..];
            var t = Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType;
            var schema = t == typeof(IFormFile) ? new JsonObject { ["type"] = "string", ["format"] = "binary" }
                : t == typeof(bool) ? new JsonObject { ["type"] = "boolean" }
                : t == typeof(int) || t == typeof(long) ? new JsonObject { ["type"] = "integer" }
                : new JsonObject { ["type"] = "string" };
            if (p.GetCustomAttribute<OneOfAttribute>() is { } oneOf) schema["enum"] = new JsonArray([.. oneOf.Values.Select(v => JsonValue.Create(v))]);
            if (p.GetCustomAttribute<System.ComponentModel.DescriptionAttribute>() is { } d) schema["description"] = d.Description;
            properties[name] = schema;
            if (nullability.Create(p).ReadState == NullabilityState.NotNull) required.Add(name);
        }
        var form = new JsonObject { ["type"] = "object", ["properties"] = properties };
        if (required.Count > 0) form["required"] = required;
        return form;
    }

    private static void AddErrorResponses(JsonObject op, string path, string method, OperationSource s)
    {
        var responses = op["responses"]!.AsObject();
        var hasBody = op["requestBody"] is not null;
        var hasQuery = op["parameters"] is JsonArray ps && ps.Any(p => p?["in"]?.GetValue<string>() == "query");
        var statuses = new SortedSet<int> { 503 };
        if (!s.Anonymous) statuses.UnionWith([401, 403, 429]);
        if (path.Contains('{')) statuses.Add(404);
        // A write may always carry a body (even where none is expected: unknown properties are refused), and every GET
        // refuses a query parameter it does not take (UnknownQueryParameters), with or without parameters of its own.
        if (hasBody || hasQuery || s.Idempotent || method is "get" or "post" or "put" or "patch") statuses.Add(400);
        if (hasBody) statuses.UnionWith([413, 415]);
        if (s.Idempotent) statuses.UnionWith([409, 422]);
        if (s.EntityTag is { AcceptsIfMatch: true }) statuses.Add(412);
        foreach (var status in statuses)
        {
            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (responses[key] is null) responses[key] = new JsonObject();
        }
        // Every 4xx/5xx, whether an endpoint declared it or a rule above added it, is one problem+json shape.
        foreach (var (key, node) in responses.ToList())
        {
            if (!int.TryParse(key, out var status) || status < 400) continue;
            var r = node!.AsObject();
            r["description"] = r["description"]?.GetValue<string>() is { Length: > 0 } d && !d.StartsWith("Client Error", StringComparison.Ordinal) && !d.StartsWith("Server Error", StringComparison.Ordinal)
                ? d : ErrorDescriptions.GetValueOrDefault(status, "Error.");
            r["content"] = new JsonObject { [Problems.ContentType] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = ProblemSchemaRef } } };
        }
        op["responses"] = new JsonObject([.. responses.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone()))]);
    }

    private static void AddResponseHeaders(JsonObject op, string path, OperationSource s)
    {
        var responses = op["responses"]!.AsObject();
        var creates = responses.Any(kv => kv.Key is "201" or "202") && responses["200"] is null;
        foreach (var (key, node) in responses)
        {
            var status = int.Parse(key, System.Globalization.CultureInfo.InvariantCulture);
            var headers = new JsonObject();
            if (path.StartsWith("/api/", StringComparison.Ordinal))
                headers["Cache-Control"] = Header("Always `no-store`: API responses are never cached.", required: true);
            if (!s.Anonymous && status != 401)
            {
                // A 503 may come before the limiter: the key itself could not be looked up; a 429 too, when the client's
                // address is throttled for failed keys (Auth:FailuresPerIpPerMinute) and no key is looked up.
                var counted = status is not (503 or 429);
                headers["RateLimit-Limit"] = Header("Requests allowed per window for this key.", required: counted, type: "integer");
                headers["RateLimit-Remaining"] = Header("Requests left in the current window.", required: counted, type: "integer");
                headers["RateLimit-Reset"] = Header("Seconds until the window resets.", required: counted, type: "integer");
            }
            if (status == 401) headers["WWW-Authenticate"] = Header("`ApiKey`: how to authenticate.", required: true);
            if (status is 429 or 503) headers["Retry-After"] = Header("Seconds to wait before retrying.", required: true, type: "integer");
            if (creates && status is 201 or 202) headers["Location"] = Header("URL of the created object (or of the job's status).", required: true);
            if (s.EntityTag is not null && status is >= 200 and < 300 and not 204 or 412)
                headers["ETag"] = Header("The lead's current version; send it back in `If-Match`.", required: status == 412 || s.EntityTag.OnEverySuccess);
            if (s.Idempotent && status < 300)
                headers["Idempotent-Replayed"] = Header("`true` when this is the stored answer to an earlier request with the same `Idempotency-Key`.", required: false);
            if (headers.Count > 0) node!.AsObject()["headers"] = headers;
        }
    }

    private static JsonObject Header(string description, bool required, string type = "string") => new()
    {
        ["description"] = description,
        ["required"] = required,
        ["schema"] = new JsonObject { ["type"] = type },
    };

    /// <summary>Examples (from the API spec) keyed by operationId: <c>request</c> for the body, <c>responses</c> by status.</summary>
    private static void AddExamples(JsonObject op, JsonObject example)
    {
        if (example["request"] is { } request && op["requestBody"]?["content"] is JsonObject content)
            foreach (var (type, media) in content)
                if (type.Contains("json", StringComparison.Ordinal) || (type.StartsWith("text/", StringComparison.Ordinal) && request is JsonValue))
                    media!.AsObject()["example"] = request.DeepClone();
        if (example["responses"] is JsonObject responses)
            foreach (var (status, value) in responses)
                if (op["responses"]?[status]?["content"] is JsonObject rc)
                    foreach (var (_, media) in rc)
                        media!.AsObject()["example"] = value?.DeepClone();
        if (example["parameters"] is JsonObject parameters && op["parameters"] is JsonArray ps)
            foreach (var p in ps.OfType<JsonObject>())
                if (parameters[p["name"]!.GetValue<string>()] is { } v)
                    p["example"] = v.DeepClone();
    }
}

