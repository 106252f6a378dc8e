using Dapper;
using FastEndpoints;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.DeleteLead;

internal static class Data
{
    // Events and tag links go with the row (ON DELETE CASCADE); the counters follow through their trigger.
    // Leads merged into this one go with it too: their IDs now answer lead_not_found, not lead_merged into nothing.
    private const string DeleteSql = """
        DELETE FROM leads.merged_leads WHERE merged_into = @Id;
        DELETE FROM leads.leads WHERE id = @Id;
        """;

    public static Task DeleteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(DeleteSql, new { Id = id }, tx, cancellationToken: ct));
}
