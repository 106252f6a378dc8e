using System.Text.RegularExpressions;
using FastEndpoints;
using FluentValidation.Results;
using Kernel.Http;

namespace Leads.Host.Platform;

/// <summary>
/// FastEndpoints validation and binding failures as RFC 9457 problems: <c>errors</c> maps each camelCase
/// field to its messages. Unknown JSON members and malformed JSON get their own codes, and serializer
/// messages are rewritten so no .NET type name reaches the client.
/// </summary>
internal static partial class ValidationProblems
{
    /// <summary>The field FastEndpoints files body-level JSON errors under (configured at start-up).</summary>
    public const string SerializerErrorsField = "body";

    public static object Build(List<ValidationFailure> failures, HttpContext ctx, int status)
    {
        var errors = new Dictionary<string, List<string>>();
        var code = ProblemCodes.ValidationFailed;
        foreach (var f in failures)
        {
            var field = Camel(f.PropertyName);
            var message = f.ErrorMessage;
            if (UnmappedMember().Match(message) is { Success: true } m)
            {
                code = ProblemCodes.UnknownProperty;
                field = m.Groups[1].Value;
                message = $"Unknown property '{field}'.";
            }
            else if (string.IsNullOrEmpty(f.ErrorCode) && !message.StartsWith("Value [", StringComparison.Ordinal))
            {
                // Failures without a validator error code come from the JSON serializer (query/route binding
                // failures read "Value [x] is not valid…" and stay validation failures).
                if (code == ProblemCodes.ValidationFailed) code = ProblemCodes.InvalidJson;
                field = string.IsNullOrEmpty(field) || f.PropertyName == SerializerErrorsField ? "body" : field;
                if (WrongShape().Match(message) is { Success: true } w)
                {
                    // "could not be converted to Modules.….Request. Path: $.x": say what was expected, in JSON terms.
                    var path = w.Groups["path"].Value;
                    field = path is "$" or "" ? "body" : path.TrimStart('$', '.');
                    message = $"{(field == "body" ? "The body" : field)} must be {Expected(w.Groups["type"].Value)}.";
                }
                else message = TypeName().Replace(message, "").Trim();
            }
            (errors.TryGetValue(field, out var list) ? list : errors[field] = []).Add(message);
        }
        var title = code switch
        {
            ProblemCodes.UnknownProperty => "Unknown property",
            ProblemCodes.InvalidJson => "Malformed JSON",
            _ => "Validation failed",
        };
        return Problems.Create(ctx, status, code, title, "One or more fields are invalid; see errors.",
            errors.ToDictionary(e => e.Key, e => e.Value.ToArray()));
    }

    private static string Camel(string s) =>
        string.IsNullOrEmpty(s) ? "body" : string.Join('.', s.Split('.').Select(p => p.Length == 0 ? p : char.ToLowerInvariant(p[0]) + p[1..]));

    /// <summary>What a .NET target type is, as a JSON client knows it.</summary>
    private static string Expected(string type)
    {
        var t = type.TrimEnd('?');
        if (t.StartsWith("System.Nullable`1[", StringComparison.Ordinal)) t = t[18..].TrimEnd(']');
        return t switch
        {
            "System.String" => "a string",
            "System.Boolean" => "true or false",
            "System.Int32" or "System.Int64" or "System.Int16" or "System.Double" or "System.Decimal" or "System.Single" => "a number",
            "System.DateTime" or "System.DateTimeOffset" => "an ISO-8601 date-time string",
            "System.Guid" => "an ID string",
            _ when t.EndsWith("[]", StringComparison.Ordinal) || t.StartsWith("System.Collections.Generic.List", StringComparison.Ordinal)
                || t.StartsWith("System.Text.Json.Nodes.JsonArray", StringComparison.Ordinal) => "an array",
            _ => "a JSON object",
        };
    }

    [GeneratedRegex(@"could not be converted to (?<type>.+?)\. Path: (?<path>[^ |]*)")]
    private static partial Regex WrongShape();

    [GeneratedRegex("The JSON property '([^']*)' could not be mapped")]
    private static partial Regex UnmappedMember();

    [GeneratedRegex(@"(contained in type|to type|of type) '?[A-Za-z0-9_.`\[\], +]+'?\.?")]
    private static partial Regex TypeName();
}
