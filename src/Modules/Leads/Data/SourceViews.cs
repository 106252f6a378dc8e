using System.Text.Json;
using System.Text.Json.Serialization;
using Kernel.Ids;

namespace Modules.Leads.Data;

/// <summary>The member who created a source, read through Access's published <c>access.v_members</c>.</summary>
internal sealed class SourceCreator
{
    [TypeId(IdPrefix.User)] public Guid Id { get; init; }
    public string Name { get; init; } = "";
    public string Email { get; init; } = "";
}

/// <summary>A source as every <c>/api/sources</c> endpoint answers it (spec §6).</summary>
internal sealed class SourceView
{
    [TypeId(IdPrefix.Source)] public Guid Id { get; init; }
    public string Name { get; init; } = "";

    /// <summary>The credential of the source's inbound webhook: whoever holds it can create leads here.</summary>
    public string WebhookToken { get; init; } = "";

    /// <summary>Absolute URL to POST leads to: <c>…/api/webhooks/{webhookToken}</c>.</summary>
    public string WebhookUrl { get; set; } = "";

    /// <summary>Incoming field name → lead field (<c>email</c>, <c>firstName</c>, <c>lastName</c>, <c>phone</c>, <c>company</c>, <c>notes</c>).</summary>
    public IReadOnlyDictionary<string, string> FieldMappings { get; private set; } = new Dictionary<string, string>();

    /// <summary>The <c>field_mappings</c> jsonb column as Dapper reads it (text); typed so OpenAPI shows a string map.</summary>
    [JsonIgnore]
    public string FieldMappingsJson { init => FieldMappings = SourceMappingsJson.Parse(value); }

    public DateTime CreatedAt { get; init; }
    public SourceCreator? CreatedBy { get; set; }
}

internal static class SourceMappingsJson
{
    public static IReadOnlyDictionary<string, string> Parse(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? new Dictionary<string, string>();
}
