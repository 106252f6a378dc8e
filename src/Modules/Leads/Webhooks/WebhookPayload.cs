using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kernel.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Modules.Leads.Public;
using Modules.Leads.Sources;

namespace Modules.Leads.Webhooks;

/// <summary>A webhook payload turned into intake input, remembering which payload field filled each lead field.</summary>
internal sealed record MappedPayload(LeadInput Input, IReadOnlyDictionary<string, string> FilledFrom)
{
    /// <summary>
    /// Re-files intake's field errors under the payload names the sender used (<c>email_address</c> rather than
    /// <c>email</c>), so the sender can tell which of its fields was refused.
    /// </summary>
    public ApiProblemException Rename(ApiProblemException e)
    {
        if (e.Errors is null) return e;
        var errors = new Dictionary<string, string[]>();
        foreach (var (field, messages) in e.Errors)
        {
            var name = FilledFrom.GetValueOrDefault(field, field);
            errors[name] = errors.TryGetValue(name, out var earlier) ? [.. earlier, .. messages] : messages;
        }
        return new ApiProblemException(e.Status, e.Code, e.Title, e.Detail, errors, e.Extensions);
    }
}

/// <summary>
/// Reads and maps inbound webhook bodies (spec §6). The body is read with a hard cap, never buffered beyond
/// it; it must be one JSON object. A field named in the source's <c>fieldMappings</c> fills its lead field; the
/// names <c>email</c>, <c>firstName</c>, <c>lastName</c>, <c>phone</c>, <c>company</c> fill themselves; every
/// other field is kept in <c>metadata</c> with its JSON value as sent.
/// </summary>
internal static class WebhookPayload
{
    public const int MaxBytes = 64 * 1024;

    private static readonly JsonDocumentOptions ParseOptions = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    public static async Task<JsonObject> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBytes) throw TooLarge();
        // On Kestrel this also stops a chunked body early; the loop below enforces the cap everywhere.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBytes;

        var buffer = ArrayPool<byte>.Shared.Rent(MaxBytes + 1);
        try
        {
            var length = 0;
            int read;
            while (length <= MaxBytes && (read = await request.Body.ReadAsync(buffer.AsMemory(length, MaxBytes + 1 - length), ct)) > 0)
                length += read;
            if (length > MaxBytes) throw TooLarge();
            return Parse(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Parses (copying out of <paramref name="utf8"/>) one JSON object, or throws the 400 to answer.</summary>
    public static JsonObject Parse(ReadOnlySpan<byte> utf8)
    {
        if (utf8.StartsWith("\uFEFF"u8)) utf8 = utf8[3..];
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(utf8, documentOptions: ParseOptions);
        }
        catch (JsonException)
        {
            throw Invalid("body", "The body is not valid JSON (or repeats a property name).");
        }
        if (node is not JsonObject obj) throw Invalid("body", "The body must be a JSON object.");
        if (obj.Count == 0) throw ApiProblemException.Validation("body", "The payload is an empty JSON object.");
        return obj;
    }

    /// <summary>
    /// Maps a payload. Several payload fields may aim at one lead field: a mapped field beats a direct name, and
    /// among equals the first non-empty one in payload order wins; the others go to metadata, so nothing is lost.
    /// </summary>
    public static MappedPayload Map(JsonObject payload, IReadOnlyDictionary<string, string> fieldMappings)
    {
        var candidates = new List<(string Target, bool Mapped, string Name, string? Value, JsonNode? Node)>();
        var metadata = new JsonObject();
        foreach (var (name, node) in payload)
        {
            var mapped = fieldMappings.GetValueOrDefault(name);
            var target = mapped ?? (FieldMappings.DirectFields.Contains(name, StringComparer.Ordinal) ? name : null);
            if (target is null) metadata[name] = node?.DeepClone();
            else candidates.Add((target, mapped is not null, name, Text(name, node), node));
        }

        var chosen = new Dictionary<string, (string Name, string Value)>();
        foreach (var c in candidates.Where(c => !string.IsNullOrWhiteSpace(c.Value)).OrderBy(c => c.Mapped ? 0 : 1))
            if (!chosen.TryAdd(c.Target, (c.Name, c.Value!))) metadata[c.Name] = c.Node?.DeepClone();

        string? Field(string f) => chosen.TryGetValue(f, out var c) ? c.Value : null;
        var input = new LeadInput
        {
            Email = Field("email"), FirstName = Field("firstName"), LastName = Field("lastName"), Phone = Field("phone"),
            Company = Field("company"), Notes = Field("notes"), Metadata = metadata,
        };
        return new MappedPayload(input, chosen.ToDictionary(c => c.Key, c => c.Value.Name));
    }

    // Phones and postcodes often arrive as JSON numbers: their text is kept exactly as sent.
    private static string? Text(string name, JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => null,
        JsonValueKind.String => node.GetValue<string>(),
        JsonValueKind.Number => node.ToJsonString(),
        _ => throw Invalid(name, $"{name} must be a string or a number."),
    };

    private static ApiProblemException Invalid(string field, string message) =>
        new(400, ProblemCodes.InvalidJson, "Malformed JSON", message, new Dictionary<string, string[]> { [field] = [message] });

    public static ApiProblemException TooLarge() =>
        new(413, ProblemCodes.PayloadTooLarge, "Payload too large", $"A webhook payload may be at most {MaxBytes / 1024} KB.");
}
