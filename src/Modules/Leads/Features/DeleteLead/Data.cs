using Dapper;
using FastEndpoints;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.DeleteLead;

internal static class Data
{
    // A lead's events are its own and those of the leads merged into it (merges move no event row): both go,
    // explicitly — events have no foreign key to cascade (migration 0021). Then the tombstones of those merged
    // leads (their IDs now answer lead_not_found, not lead_merged into nothing), then the row; its tag links go
    // with it (ON DELETE CASCADE) and the counters follow through their trigger. The caller holds the row lock,
    // so no event can be added meanwhile (inserts key-share-lock their lead) and no merge can fold into it.
    private static readonly string DeleteSql = $"""
        DELETE FROM leads.events WHERE lead_id = ANY ({LeadEvents.TimelineLeadIdsSql("@Id")});
        DELETE FROM leads.merged_leads WHERE merged_into = @Id;
        DELETE FROM leads.leads WHERE id = @Id;
        """;

    public static Task DeleteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(DeleteSql, new { Id = id }, tx, cancellationToken: ct));
}
