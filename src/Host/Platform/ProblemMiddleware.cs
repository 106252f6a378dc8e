using Kernel.Data;
using Kernel.Http;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Leads.Host.Platform;

/// <summary>
/// Last line of defence: every exception becomes an RFC 9457 problem response with a stable code and a
/// trace id, never a stack trace. <see cref="ApiProblemException"/> carries its own status and code; a
/// database that cannot be reached is a 503 so clients retry instead of giving up.
/// </summary>
internal sealed class ProblemMiddleware(RequestDelegate next, ILogger<ProblemMiddleware> log)
{
    public async Task InvokeAsync(HttpContext ctx)
    {
        try
        {
            await next(ctx);
        }
        catch (ApiProblemException p)
        {
            await Problems.WriteAsync(ctx, p);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
        catch (BadHttpRequestException e)
        {
            var (code, title) = e.StatusCode switch
            {
                413 => (ProblemCodes.PayloadTooLarge, "Payload too large"),
                415 => (ProblemCodes.UnsupportedMediaType, "Unsupported media type"),
                _ => (ProblemCodes.ValidationFailed, "Bad request"),
            };
            await Problems.WriteAsync(ctx, e.StatusCode, code, title, e.Message);
        }
        catch (Exception e) when (IsDatabaseUnavailable(e))
        {
            log.LogWarning("Database unavailable: {Message}", e.Message);
            ctx.Response.Headers.RetryAfter = "5";
            await Problems.WriteAsync(ctx, 503, ProblemCodes.DatabaseUnavailable, "Service unavailable",
                "The database is not reachable right now. Retry shortly.");
        }
        catch (Exception e) when (DataError(e) is { } p)
        {
            // A value the validators let through but PostgreSQL refuses is the request's fault, not the server's. The
            // server's message is not echoed (it can quote the value or name internal types); the SQLSTATE is logged.
            log.LogWarning("Request refused by the database on {Method} {Path}: SQLSTATE {SqlState} ({Column})",
                ctx.Request.Method, Route(ctx), p.SqlState, p.ColumnName);
            var (status, detail) = p.SqlState.StartsWith("22", StringComparison.Ordinal)
                ? (400, "A value in the request is outside what can be stored or compared (too large, out of range or malformed).")
                : (422, "A value in the request breaks a rule of the stored data (too large as a whole, or not allowed).");
            var errors = p.ColumnName is { Length: > 0 } c ? new Dictionary<string, string[]> { [JsonNamingPolicyCamel(c)] = [detail] } : null;
            await Problems.WriteAsync(ctx, status, ProblemCodes.ValidationFailed, "Validation failed", detail, errors);
        }
        catch (Exception e)
        {
            log.LogError(e, "Unhandled exception on {Method} {Route}", ctx.Request.Method, Route(ctx));
            await Problems.WriteAsync(ctx, 500, ProblemCodes.InternalError, "Internal server error",
                "An unexpected error occurred. Quote the traceId when reporting it.");
        }
    }

    /// <summary>
    /// A PostgreSQL error caused by the data sent: class 22 (data exception: out of range, invalid text, NUL), a check
    /// or not-null violation, or a program limit (a value too large to index or store).
    /// </summary>
    internal static PostgresException? DataError(Exception e) => e switch
    {
        PostgresException p when p.SqlState.StartsWith("22", StringComparison.Ordinal)
            || p.SqlState is "23502" or "23514" or "54000" => p,
        _ => e.InnerException is null ? null : DataError(e.InnerException),
    };

    private static string JsonNamingPolicyCamel(string column) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(
        string.Concat(column.Split('_').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..])));

    /// <summary>The matched route's template (<c>/api/webhooks/{token}</c>), never the path: paths carry webhook tokens.</summary>
    private static string Route(HttpContext ctx) =>
        (ctx.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(no route)";

    internal static bool IsDatabaseUnavailable(Exception e) => DbErrors.IsUnavailable(e);
}

/// <summary>Gives routing and framework status codes without a body (404 unknown route, 405) a problem body too.</summary>
internal static class StatusCodeProblems
{
    public static Task WriteAsync(StatusCodeContext context)
    {
        var ctx = context.HttpContext;
        if (ctx.Response.HasStarted || ctx.Response.ContentLength > 0 || ctx.Response.ContentType is not null) return Task.CompletedTask;
        var status = ctx.Response.StatusCode;
        var (code, title, detail) = status switch
        {
            404 => (ProblemCodes.RouteNotFound, "Not found", $"No endpoint serves {ctx.Request.Method} {ctx.Request.Path}."),
            405 => (ProblemCodes.MethodNotAllowed, "Method not allowed", $"{ctx.Request.Method} is not allowed on {ctx.Request.Path}."),
            413 => (ProblemCodes.PayloadTooLarge, "Payload too large", "The request body is larger than this endpoint accepts."),
            415 => (ProblemCodes.UnsupportedMediaType, "Unsupported media type", "Send the body as application/json."),
            401 => (ProblemCodes.MissingApiKey, "Unauthorized", "Send an API key in X-API-Key or Authorization: ApiKey."),
            403 => (ProblemCodes.InsufficientScope, "Forbidden", "This API key may not call this endpoint."),
            >= 500 => (ProblemCodes.InternalError, "Server error", "An unexpected error occurred."),
            _ => (ProblemCodes.ValidationFailed, "Bad request", (string?)null),
        };
        return Problems.WriteAsync(ctx, status, code, title, detail);
    }
}
