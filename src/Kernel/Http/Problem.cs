using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace Kernel.Http;

/// <summary>RFC 9457 problem body with the stable machine <c>code</c> of spec §1.</summary>
public sealed class ProblemBody
{
    public required string Type { get; init; }
    public required string Title { get; init; }
    public required int Status { get; init; }
    public string? Detail { get; init; }
    public required string Code { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IDictionary<string, string[]>? Errors { get; init; }

    public string? TraceId { get; init; }

    /// <summary>Extra members specific to one code (e.g. <c>mergedIntoId</c>), written at the top level.</summary>
    [JsonExtensionData]
    public IDictionary<string, object?>? Extensions { get; init; }
}

/// <summary>
/// Thrown anywhere below an endpoint to end the request with a problem response; the exception
/// middleware writes it. Keeps deep code (intake rules, merge) free of HTTP plumbing.
/// </summary>
public sealed class ApiProblemException(int status, string code, string title, string? detail = null,
    IDictionary<string, string[]>? errors = null, IDictionary<string, object?>? extensions = null) : Exception(detail ?? title)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;
    public IDictionary<string, string[]>? Errors { get; } = errors;
    public IDictionary<string, object?>? Extensions { get; } = extensions;

    /// <summary>Response headers the problem answer carries (a 412's current <c>ETag</c>).</summary>
    public IDictionary<string, string>? Headers { get; init; }

    public static ApiProblemException NotFound(string code, string what) => new(404, code, $"{what} not found",
        $"No {what.ToLowerInvariant()} with that ID exists in this workspace.");

    public static ApiProblemException Validation(string field, string message) =>
        new(400, ProblemCodes.ValidationFailed, "Validation failed", message, new Dictionary<string, string[]> { [field] = [message] });
}

public static class ProblemCodes
{
    public const string ValidationFailed = "validation_failed";
    public const string InvalidJson = "invalid_json";
    public const string UnknownProperty = "unknown_property";
    public const string NotFound = "not_found";
    public const string RouteNotFound = "route_not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string PayloadTooLarge = "payload_too_large";
    public const string MissingApiKey = "missing_api_key";
    public const string InvalidApiKey = "invalid_api_key";
    public const string ApiKeyInactive = "api_key_inactive";
    public const string ApiKeyExpired = "api_key_expired";
    public const string AmbiguousCredentials = "ambiguous_credentials";
    public const string InsufficientScope = "insufficient_scope";
    public const string InsufficientRole = "insufficient_role";
    public const string RateLimited = "rate_limited";
    public const string Conflict = "conflict";
    public const string PreconditionFailed = "precondition_failed";
    public const string InternalError = "internal_error";
    public const string DatabaseUnavailable = "database_unavailable";
}

public static class Problems
{
    public const string ContentType = "application/problem+json";

    public static ProblemBody Create(HttpContext ctx, int status, string code, string title, string? detail = null,
        IDictionary<string, string[]>? errors = null, IDictionary<string, object?>? extensions = null) => new()
    {
        Type = $"https://leads.dev/problems/{code.Replace('_', '-')}",
        Title = title,
        Status = status,
        Detail = detail,
        Code = code,
        Errors = errors,
        TraceId = Activity.Current?.TraceId.ToString() ?? ctx.TraceIdentifier,
        Extensions = extensions,
    };

    public static async Task WriteAsync(HttpContext ctx, int status, string code, string title, string? detail = null,
        IDictionary<string, string[]>? errors = null, IDictionary<string, object?>? extensions = null)
    {
        if (ctx.Response.HasStarted) return;
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = ContentType;
        var body = Create(ctx, status, code, title, detail, errors, extensions);
        await JsonSerializer.SerializeAsync(ctx.Response.Body, body, JsonConventions.Options, ctx.RequestAborted);
    }

    public static Task WriteAsync(HttpContext ctx, ApiProblemException p)
    {
        if (p.Headers is not null && !ctx.Response.HasStarted)
            foreach (var (name, value) in p.Headers) ctx.Response.Headers[name] = value;
        return WriteAsync(ctx, p.Status, p.Code, p.Title, p.Detail, p.Errors, p.Extensions);
    }
}

/// <summary>A response body that stands for one version of a resource: the response carries it as <c>ETag</c>.</summary>
public interface IHasETag
{
    string ETag { get; }
}
