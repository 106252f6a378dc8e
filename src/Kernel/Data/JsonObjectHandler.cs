using System.Data;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace Kernel.Data;

/// <summary>jsonb ⇄ <see cref="JsonObject"/>, so metadata and event data hydrate straight into response types.</summary>
internal sealed class JsonObjectHandler : SqlMapper.TypeHandler<JsonObject>
{
    public override void SetValue(IDbDataParameter parameter, JsonObject? value)
    {
        parameter.Value = value?.ToJsonString() ?? (object)DBNull.Value;
        if (parameter is NpgsqlParameter p) p.NpgsqlDbType = NpgsqlDbType.Jsonb;
    }

    public override JsonObject? Parse(object value) => value switch
    {
        string s => JsonNode.Parse(s)?.AsObject(),
        _ => throw new DataException($"Cannot read {value.GetType().Name} as a JSON object."),
    };
}
