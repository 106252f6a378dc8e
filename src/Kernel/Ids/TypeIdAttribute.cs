using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kernel.Ids;

/// <summary>
/// Serialises a <see cref="Guid"/> (or <c>Guid?</c>) property as a TypeID with the given prefix and reads
/// either form back, so response types hydrated by Dapper straight from <c>uuid</c> columns need no mapper.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class TypeIdAttribute(string prefix) : JsonConverterAttribute
{
    public string Prefix { get; } = prefix;

    public override JsonConverter? CreateConverter(Type typeToConvert) =>
        typeToConvert == typeof(Guid?) ? new NullableConverter(Prefix) : new Converter(Prefix);

    private sealed class Converter(string prefix) : JsonConverter<Guid>
    {
        public override Guid Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Kernel.Ids.TypeId.TryParse(reader.GetString(), prefix, out var id) ? id : throw new JsonException($"Expected a '{prefix}_' ID.");

        public override void Write(Utf8JsonWriter writer, Guid value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Kernel.Ids.TypeId.Format(prefix, value));
    }

    private sealed class NullableConverter(string prefix) : JsonConverter<Guid?>
    {
        public override bool HandleNull => true;

        public override Guid? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null) return null;
            return Kernel.Ids.TypeId.TryParse(reader.GetString(), prefix, out var id) ? id : throw new JsonException($"Expected a '{prefix}_' ID.");
        }

        public override void Write(Utf8JsonWriter writer, Guid? value, JsonSerializerOptions options)
        {
            if (value is { } v) writer.WriteStringValue(Kernel.Ids.TypeId.Format(prefix, v));
            else writer.WriteNullValue();
        }
    }
}
