using Kernel.Data;
using Kernel.Http;
using Microsoft.AspNetCore.Diagnostics;

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
        catch (Exception e)
        {
            log.LogError(e, "Unhandled exception on {Method} {Path}", ctx.Request.Method, ctx.Request.Path);
            await Problems.WriteAsync(ctx, 500, ProblemCodes.InternalError, "Internal server error",
                "An unexpected error occurred. Quote the traceId when reporting it.");
        }
    }

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
