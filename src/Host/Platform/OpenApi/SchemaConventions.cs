using System.Reflection;
using Kernel.Ids;
using NJsonSchema;
using NJsonSchema.Generation;

namespace Leads.Host.Platform.OpenApi;

/// <summary>
/// Slices name their types <c>Request</c>/<c>Response</c>; the folder is the name. Schema names follow
/// suit (<c>CreateLeadRequest</c>), instead of NSwag's numbered <c>Request11</c>.
/// </summary>
internal sealed class SliceSchemaNameGenerator : DefaultSchemaNameGenerator
{
    public override string Generate(Type type)
    {
        var name = base.Generate(type);
        var ns = type.Namespace ?? "";
        var marker = ns.IndexOf(".Features.", StringComparison.Ordinal);
        if (marker < 0 || type.IsGenericType) return name;
        var slice = ns[(marker + ".Features.".Length)..].Split('.')[0];
        return name.StartsWith(slice, StringComparison.Ordinal) ? name : slice + name;
    }
}

/// <summary>IDs are TypeIDs on the wire (<c>lead_01h…</c>), not UUIDs: document them as such.</summary>
internal sealed class TypeIdSchemaProcessor : ISchemaProcessor
{
    public void Process(SchemaProcessorContext context)
    {
        var type = context.ContextualType.Type;
        if (!type.IsClass || context.Schema.ActualProperties.Count == 0) return;
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetCustomAttribute<TypeIdAttribute>() is not { } id) continue;
            var name = char.ToLowerInvariant(p.Name[0]) + p.Name[1..];
            if (!context.Schema.Properties.TryGetValue(name, out var schema)) continue;
            schema.Type = JsonObjectType.String;
            if (Nullable.GetUnderlyingType(p.PropertyType) is not null) schema.IsNullableRaw = true;
            schema.Format = null;
            schema.Pattern = $"^{id.Prefix}_[0-7][0-9a-hjkmnp-tv-z]{{25}}$";
            schema.Example = TypeId.Format(id.Prefix, Guid.Parse("0196b1c3-8f2a-7cde-9a10-3b4c5d6e7f80"));
            schema.Description ??= $"TypeID with prefix `{id.Prefix}_`.";
        }
    }
}

/// <summary>A string property marked <see cref="Kernel.Http.OneOfAttribute"/> is published as an <c>enum</c>.</summary>
internal sealed class OneOfSchemaProcessor : ISchemaProcessor
{
    public void Process(SchemaProcessorContext context)
    {
        var type = context.ContextualType.Type;
        if (!type.IsClass || context.Schema.ActualProperties.Count == 0) return;
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetCustomAttribute<Kernel.Http.OneOfAttribute>() is not { } oneOf) continue;
            var name = char.ToLowerInvariant(p.Name[0]) + p.Name[1..];
            if (!context.Schema.Properties.TryGetValue(name, out var schema)) continue;
            schema.Enumeration.Clear();
            foreach (var v in oneOf.Values) schema.Enumeration.Add(v);
            if (schema.IsNullableRaw == true || schema.Type.HasFlag(JsonObjectType.Null)) schema.Enumeration.Add(null);
        }
    }
}

/// <summary>
/// <c>JsonObject</c> (lead <c>metadata</c>, event <c>data</c>) is a JSON object on the wire, not the key/value list
/// NSwag would infer from its <c>IEnumerable</c>; <c>JsonNode</c> is any JSON value.
/// </summary>
internal static class JsonTypeMappers
{
    public static void AddTo(JsonSchemaGeneratorSettings settings)
    {
        settings.TypeMappers.Add(new NJsonSchema.Generation.TypeMappers.PrimitiveTypeMapper(typeof(System.Text.Json.Nodes.JsonObject), s =>
        {
            s.Type = JsonObjectType.Object;
            s.AllowAdditionalProperties = true;
            s.AdditionalPropertiesSchema = new JsonSchema();
        }));
        settings.TypeMappers.Add(new NJsonSchema.Generation.TypeMappers.PrimitiveTypeMapper(typeof(System.Text.Json.Nodes.JsonNode), s => s.Type = JsonObjectType.None));
    }
}

/// <summary>Lists the properties a type leaves out of its JSON when null, for the required-properties convention.</summary>
internal sealed class PresenceSchemaProcessor : ISchemaProcessor
{
    public void Process(SchemaProcessorContext context)
    {
        var type = context.ContextualType.Type;
        if (!type.IsClass || context.Schema.Properties.Count == 0) return;
        var omitted = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<System.Text.Json.Serialization.JsonIgnoreAttribute>()?.Condition is
                System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull or System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)
            .Select(p => char.ToLowerInvariant(p.Name[0]) + p.Name[1..])
            .ToArray();
        if (omitted.Length == 0) return;
        context.Schema.ExtensionData ??= new Dictionary<string, object?>();
        context.Schema.ExtensionData["x-omitted-when-null"] = omitted;
    }
}
