using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Serialization;
using FastEndpoints;
using Kernel.Http;

namespace Leads.Host.Platform;

/// <summary>
/// Spec §8: a GET answers 400 <c>validation_failed</c> naming every query parameter it does not take
/// (<c>{"stauts": ["unknown parameter"]}</c>), so a misspelt filter can never widen a list, a count or an export to
/// the whole workspace. One rule for every FastEndpoints GET: the parameters it takes are its request DTO's
/// query-bound properties (their <c>[BindFrom]</c> name or their own, case-insensitive, as FastEndpoints binds them);
/// an endpoint without a request DTO takes none. Runs after authentication and authorisation, so a caller without
/// access still gets 401/403 first.
/// </summary>
internal sealed class UnknownQueryParameters(RequestDelegate next)
{
    public const string Message = "unknown parameter";

    private static readonly ConcurrentDictionary<Type, HashSet<string>> Taken = new();

    public Task InvokeAsync(HttpContext ctx)
    {
        if (!(HttpMethods.IsGet(ctx.Request.Method) || HttpMethods.IsHead(ctx.Request.Method)) || ctx.Request.Query.Count == 0
            || ctx.GetEndpoint()?.Metadata.GetMetadata<EndpointDefinition>() is not { } ep)
            return next(ctx);
        var taken = Taken.GetOrAdd(ep.ReqDtoType, QueryNames);
        Dictionary<string, string[]>? unknown = null;
        foreach (var name in ctx.Request.Query.Keys)
            if (!taken.Contains(name) && !ctx.Request.RouteValues.ContainsKey(name))
                (unknown ??= new(StringComparer.Ordinal))[name] = [Message];
        if (unknown is null) return next(ctx);
        throw new ApiProblemException(400, ProblemCodes.ValidationFailed, "Validation failed",
            $"Unknown query parameter{(unknown.Count == 1 ? "" : "s")}: {string.Join(", ", unknown.Keys)}. See errors.", unknown);
    }

    /// <summary>The names a request DTO binds from the query string; properties bound from elsewhere are not among them.</summary>
    private static HashSet<string> QueryNames(Type dto)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (dto == typeof(EmptyRequest)) return names;
        foreach (var p in dto.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.SetMethod is null && !p.CanWrite) continue;
            if (p.IsDefined(typeof(RouteParamAttribute)) || p.IsDefined(typeof(FromHeaderAttribute)) || p.IsDefined(typeof(FromClaimAttribute))
                || p.IsDefined(typeof(HasPermissionAttribute)) || p.IsDefined(typeof(FromBodyAttribute))
                || p.IsDefined(typeof(JsonIgnoreAttribute)))
                continue;
            names.Add(p.GetCustomAttributes<BindFromAttribute>().Select(b => b.Name).FirstOrDefault(n => !string.IsNullOrEmpty(n)) ?? p.Name);
        }
        return names;
    }
}
