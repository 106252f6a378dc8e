using Dapper;
using Npgsql;

namespace Modules.Duplicates.Features.MergeLeads;

internal static class Data
{
    private const string DuplicatesOfSql = "SELECT id FROM leads.v_leads WHERE duplicate_of = @Id ORDER BY id";

    /// <summary>The lead's own duplicates (a merge re-points them; the merge record keeps them for an unmerge).</summary>
    public static async Task<Guid[]> DuplicatesOfAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        [.. await conn.QueryAsync<Guid>(new CommandDefinition(DuplicatesOfSql, new { Id = id }, tx, cancellationToken: ct))];
}
