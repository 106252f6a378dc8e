using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using FastEndpoints;
using FluentValidation.Results;

namespace Kernel.Http;

/// <summary>
/// Applies <see cref="TextRule"/> to every string of every bound request DTO, for every endpoint (registered once as a
/// global pre-processor): string properties, strings in lists and arrays, dictionary keys and values, strings and
/// property names inside JSON values (lead metadata), and nested objects. A violation is a 400 naming the field;
/// otherwise the strings are put back NFC-normalised. Route parameters (IDs) are left to their own parsers, which
/// answer 404 for any ID that does not parse. New endpoints are covered without doing anything.
/// </summary>
public sealed class TextRulePreProcessor : IGlobalPreProcessor
{
    public const string ErrorCode = "text_rule";
    private const int MaxDepth = 6;

    private static readonly ConcurrentDictionary<Type, PropertyInfo[]> Properties = new();

    public async Task PreProcessAsync(IPreProcessorContext ctx, CancellationToken ct)
    {
        if (ctx.Request is null || ctx.HttpContext.Response.HasStarted) return;
        var failures = new List<ValidationFailure>();
        Visit(ctx.Request, "", failures, 0);
        if (failures.Count == 0) return;
        foreach (var f in failures) ctx.ValidationFailures.Add(f);
        await ctx.HttpContext.Response.SendErrorsAsync(ctx.ValidationFailures, 400, cancellation: ct);
    }

    /// <summary>Checks (and normalises in place) every string reachable from <paramref name="o"/>; for tests and non-DTO callers.</summary>
    public static IReadOnlyList<ValidationFailure> Check(object o)
    {
        var failures = new List<ValidationFailure>();
        Visit(o, "", failures, 0);
        return failures;
    }

    private static void Visit(object o, string path, List<ValidationFailure> failures, int depth)
    {
        if (depth > MaxDepth) return;
        foreach (var p in Properties.GetOrAdd(o.GetType(), Readable))
        {
            var field = Join(path, JsonNamingPolicy.CamelCase.ConvertName(p.Name));
            var value = p.GetValue(o);
            switch (value)
            {
                case null:
                    break;
                case string s:
                    if (Fix(s, field, failures) is { } fixedS && !ReferenceEquals(fixedS, s) && p.CanWrite) p.SetValue(o, fixedS);
                    break;
                default:
                    VisitValue(value, field, failures, depth + 1);
                    break;
            }
        }
    }

    private static void VisitValue(object value, string field, List<ValidationFailure> failures, int depth)
    {
        switch (value)
        {
            case JsonNode node:
                VisitJson(node, field, failures);
                break;
            case JsonElement e:
                VisitJson(JsonNode.Parse(e.GetRawText()), field, failures);
                break;
            case IDictionary<string, string?> d:
                foreach (var k in d.Keys.ToList())
                {
                    var key = Fix(k, field, failures);
                    var v = d[k] is { } dv ? Fix(dv, field, failures) : null;
                    if (key is null || (d[k] is not null && v is null)) continue;
                    if (!ReferenceEquals(key, k)) d.Remove(k);
                    d[key] = v;
                }
                break;
            case IList<string?> list when list is Array || !list.IsReadOnly:
                for (var i = 0; i < list.Count; i++)
                    if (list[i] is { } s && Fix(s, field, failures) is { } f && !ReferenceEquals(f, s)) list[i] = f;
                break;
            case IEnumerable<string?> strings:
                foreach (var s in strings)
                    if (s is not null) Fix(s, field, failures);
                break;
            case IEnumerable items when value is not string:
                foreach (var item in items)
                    if (item is not null && IsOurs(item.GetType())) Visit(item, field, failures, depth);
                break;
            default:
                if (IsOurs(value.GetType())) Visit(value, field, failures, depth);
                break;
        }
    }

    private static void VisitJson(JsonNode? node, string field, List<ValidationFailure> failures)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (k, v) in obj)
                {
                    Fix(k, field, failures);
                    VisitJson(v, field, failures);
                }
                break;
            case JsonArray arr:
                foreach (var v in arr) VisitJson(v, field, failures);
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                Fix(v.GetValue<string>(), field, failures);
                break;
        }
    }

    /// <summary>The NFC form of <paramref name="s"/>, or null (with a failure recorded once per field) when it breaks the rule.</summary>
    private static string? Fix(string s, string field, List<ValidationFailure> failures)
    {
        if (TextRule.Violation(s, field) is { } message)
        {
            if (!failures.Any(f => f.PropertyName == field)) failures.Add(new ValidationFailure(field, message) { ErrorCode = ErrorCode });
            return null;
        }
        return TextRule.Normalize(s);
    }

    private static PropertyInfo[] Readable(Type t) => t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && p.GetCustomAttribute<RouteParamAttribute>() is null)
        .ToArray();

    // The project's own DTO types: walked into. Framework types (streams, IFormFile, ...) are not.
    private static bool IsOurs(Type t) => t.IsClass && t.Assembly.GetName().Name is { } a
        && (a == "Kernel" || a.StartsWith("Modules.", StringComparison.Ordinal) || a == "Host");

    private static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
}
