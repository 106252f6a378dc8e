using System.Text.Json.Nodes;
using Dapper;
using Kernel.Ids;
using Modules.Webhooks.Public;
using Npgsql;

namespace Modules.Webhooks.Feed;

/// <summary>Reads the change feed in commit-safe order (migration 0090 explains the horizon); shared by the API and delivery.</summary>
internal static class FeedReader
{
    // Only rows of transactions below the reading statement's xmin: they have all ended, so nothing can ever be
    // inserted behind the cursor this page hands out. (tx_id, position) > cursor walks the primary key.
    private const string ReadSql = """
        SELECT tx_id::text::bigint AS tx_id, position, id, type, lead_id, data, occurred_at
        FROM webhooks.feed_events
        WHERE workspace_id = @WorkspaceId
          AND (tx_id, position) > (@AfterTx::text::xid8, @AfterPosition)
          AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
          AND (@Types::text[] IS NULL OR type = ANY (@Types))
        ORDER BY tx_id, position
        LIMIT @Limit
        """;

    private const string ReadRangeSql = """
        SELECT tx_id::text::bigint AS tx_id, position, id, type, lead_id, data, occurred_at
        FROM webhooks.feed_events
        WHERE workspace_id = @WorkspaceId
          AND (tx_id, position) >= (@FromTx::text::xid8, @FromPosition)
          AND (tx_id, position) <= (@ToTx::text::xid8, @ToPosition)
          AND id = ANY (@Ids)
        ORDER BY tx_id, position
        """;

    internal sealed record Row(long TxId, long Position, Guid Id, string Type, Guid? LeadId, JsonObject Data, DateTime OccurredAt)
    {
        public FeedCursor Cursor => new(TxId, Position);
    }

    public static async Task<List<Row>> ReadAsync(NpgsqlConnection conn, Guid workspaceId, FeedCursor after, int limit,
        string[]? types, CancellationToken ct) =>
        (await conn.QueryAsync<Row>(new CommandDefinition(ReadSql, new
        {
            WorkspaceId = workspaceId,
            AfterTx = after.TxId,
            AfterPosition = after.Position,
            Types = types,
            Limit = limit,
        }, cancellationToken: ct))).AsList();

    /// <summary>The events of a delivered batch again, by the feed range it was cut from (empty once retention trimmed them).</summary>
    public static async Task<List<Row>> ReadRangeAsync(NpgsqlConnection conn, Guid workspaceId, FeedCursor from, FeedCursor to,
        Guid[] ids, CancellationToken ct) =>
        (await conn.QueryAsync<Row>(new CommandDefinition(ReadRangeSql, new
        {
            WorkspaceId = workspaceId,
            FromTx = from.TxId,
            FromPosition = from.Position,
            ToTx = to.TxId,
            ToPosition = to.Position,
            Ids = ids,
        }, cancellationToken: ct))).AsList();

    /// <summary>The published shape: lead.created's raw UUIDs (written set-based by a trigger) become TypeIDs.</summary>
    public static FeedEvent ToEvent(Row r)
    {
        var data = r.Data;
        if (r.Type == ChangeFeed.LeadCreated)
        {
            Format(data, "sourceId", IdPrefix.Source);
            Format(data, "importId", IdPrefix.Import);
        }
        return new FeedEvent { Id = r.Id, Type = r.Type, OccurredAt = r.OccurredAt, LeadId = r.LeadId, Data = data };
    }

    private static void Format(JsonObject data, string field, string prefix)
    {
        if (data[field] is JsonValue v && v.TryGetValue<string>(out var s) && Guid.TryParse(s, out var id))
            data[field] = TypeId.Format(prefix, id);
        else
            data.Remove(field);
    }
}
