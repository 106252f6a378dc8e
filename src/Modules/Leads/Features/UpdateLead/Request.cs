using System.Text.Json;
using System.Text.Json.Nodes;
using Kernel.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Modules.Leads.Features.UpdateLead;

/// <summary>
/// The documented shape of a <c>PATCH /api/leads/:id</c> body (OpenAPI only): every member optional, <c>null</c> clears.
/// The endpoint reads the body itself (<see cref="LeadPatch"/>), because a bound DTO cannot tell an absent member from a null one.
/// </summary>
internal sealed class PatchDocument
{
    public string? Email { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Phone { get; init; }
    public string? Company { get; init; }

    /// <summary>A source of this workspace (<c>src_…</c> or UUID), or null for none.</summary>
    public string? SourceId { get; init; }

    /// <summary>JSON Merge Patch (RFC 7396) of the custom fields: a member set to null is removed, objects merge; null removes all.</summary>
    public JsonObject? Metadata { get; init; }
}

/// <summary>A parsed merge patch: which members were present, with their values (null = clear).</summary>
internal sealed class LeadPatch
{
    public const int MaxBytes = 128 * 1024;

    public static readonly string[] TextFields = ["email", "firstName", "lastName", "phone", "company"];

    public Dictionary<string, string?> Text { get; } = new(StringComparer.Ordinal);
    public bool HasSourceId { get; private set; }
    public string? SourceId { get; private set; }
    public bool HasMetadata { get; private set; }
    public JsonObject? Metadata { get; private set; }

    public bool IsEmpty => Text.Count == 0 && !HasSourceId && !HasMetadata;

    public static async Task<LeadPatch> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBytes) throw TooLarge();
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBytes;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, ct);
        if (buffer.Length > MaxBytes) throw TooLarge();
        JsonNode? root;
        try
        {
            root = buffer.Length == 0 ? new JsonObject() : JsonNode.Parse(buffer.ToArray(), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 64 });
        }
        catch (JsonException)
        {
            throw Invalid("body", "The body is not valid JSON.");
        }
        if (root is not JsonObject doc) throw Invalid("body", "The body must be a JSON object (a merge patch of the lead).");

        var patch = new LeadPatch();
        foreach (var (name, value) in doc)
        {
            if (TextFields.Contains(name, StringComparer.Ordinal))
                patch.Text[name] = TextOf(name, value);
            else if (name == "sourceId")
                (patch.HasSourceId, patch.SourceId) = (true, TextOf(name, value));
            else if (name == "metadata")
                (patch.HasMetadata, patch.Metadata) = (true, value switch
                {
                    null => null,
                    JsonObject o => o,
                    _ => throw Invalid(name, "metadata must be a JSON object or null."),
                });
            else
                throw new ApiProblemException(400, ProblemCodes.UnknownProperty, "Unknown property", "One or more fields are invalid; see errors.",
                    new Dictionary<string, string[]> { [name] = [$"Unknown property '{name}'."] });
        }
        return patch;
    }

    /// <summary>RFC 7396: <paramref name="patch"/> applied to a copy of <paramref name="target"/>.</summary>
    public static JsonObject MergePatch(JsonObject target, JsonObject? patch)
    {
        if (patch is null) return new JsonObject();
        var result = (JsonObject)target.DeepClone();
        foreach (var (key, value) in patch)
        {
            if (value is null) result.Remove(key);
            else if (value is JsonObject inner) result[key] = MergePatch(result[key] as JsonObject ?? new JsonObject(), inner);
            else result[key] = value.DeepClone();
        }
        return result;
    }

    private static string? TextOf(string name, JsonNode? value) => value switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw Invalid(name, $"{name} must be a string or null."),
    };

    private static ApiProblemException Invalid(string field, string message) =>
        new(400, ProblemCodes.InvalidJson, "Malformed JSON", "One or more fields are invalid; see errors.",
            new Dictionary<string, string[]> { [field] = [message] });

    private static ApiProblemException TooLarge() =>
        new(413, ProblemCodes.PayloadTooLarge, "Payload too large", $"A lead patch is at most {MaxBytes / 1024} KB.");
}
