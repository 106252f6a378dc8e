using System.Reflection;
using Kernel.Ids;
using NJsonSchema;
using NJsonSchema.Generation;

namespace Leads.Host.Platform;

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
            schema.Type = JsonObjectType.String | (Nullable.GetUnderlyingType(p.PropertyType) is not null ? JsonObjectType.Null : 0);
            schema.Format = null;
            schema.Pattern = $"^{id.Prefix}_[0-7][0-9a-hjkmnp-tv-z]{{25}}$";
            schema.Example = TypeId.Format(id.Prefix, Guid.Parse("0196b1c3-8f2a-7cde-9a10-3b4c5d6e7f80"));
            schema.Description ??= $"TypeID with prefix `{id.Prefix}_`.";
        }
    }
}
