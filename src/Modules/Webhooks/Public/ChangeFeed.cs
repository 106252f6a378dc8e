using System.Text.Json;
using Dapper;
using Kernel.Http;
using Npgsql;

namespace Modules.Webhooks.Public;

/// <summary>
/// The workspace change feed (spec §13): the one event log that <c>GET /api/events</c> reads and webhook
/// subscriptions deliver. Lead changes reach it by themselves (database triggers on the lead and timeline tables,
/// migration 0090), whichever path made them; other modules announce their own completions with
/// <see cref="AppendAsync"/> inside the transaction that completes the work, so an event exists exactly when the
/// change committed.
/// </summary>
public static class ChangeFeed
{
    public const string LeadCreated = "lead.created";
    public const string LeadUpdated = "lead.updated";
    public const string LeadMerged = "lead.merged";
    public const string LeadUnmerged = "lead.unmerged";
    public const string LeadDeleted = "lead.deleted";
    public const string ImportCompleted = "import.completed";
    public const string ExportCompleted = "export.completed";
    public const string BulkCompleted = "bulk.completed";

    /// <summary>Every feed event type, in the order the documentation lists them.</summary>
    public static readonly IReadOnlyList<string> All =
        [LeadCreated, LeadUpdated, LeadMerged, LeadUnmerged, LeadDeleted, ImportCompleted, ExportCompleted, BulkCompleted];

    private const string AppendSql = "SELECT webhooks.append_event(@WorkspaceId, @Type, @LeadId, @Data::jsonb)";

    /// <summary>
    /// Appends one event in the caller's transaction. <paramref name="data"/> is serialised with the API's JSON
    /// conventions and must be an object; IDs in it are formatted by the caller (TypeIDs, e.g. <c>blk_…</c>).
    /// </summary>
    public static Task AppendAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, string type, Guid? leadId,
        object data, CancellationToken ct)
    {
        if (!All.Contains(type)) throw new ArgumentOutOfRangeException(nameof(type), type, "Not a change feed event type.");
        var json = JsonSerializer.Serialize(data, JsonConventions.Options);
        return conn.ExecuteAsync(new CommandDefinition(AppendSql, new { WorkspaceId = workspaceId, Type = type, LeadId = leadId, Data = json },
            tx, cancellationToken: ct));
    }
}
