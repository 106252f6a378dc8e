using Dapper;
using Modules.Leads.Data;
using Npgsql;
using NpgsqlTypes;

namespace Modules.Leads.Public;

/// <summary>
/// Sets of leads fixed at one moment (spec §12), for jobs that act on "every lead matching this filter" in chunks:
/// <see cref="FixAsync"/> records the IDs matching the list's filters now (one statement, so the count is the list's exact
/// total at that moment), <see cref="ChunkAsync"/> hands them out in order after a position, <see cref="ForgetAsync"/> drops them.
/// </summary>
public static class LeadSelections
{
    private const string ChunkSql = """
        SELECT lead_id FROM leads.selections WHERE selection_id = @SelectionId AND seq > @After ORDER BY seq LIMIT @Count
        """;

    private const string ForgetSql = "DELETE FROM leads.selections WHERE selection_id = @SelectionId";

    /// <summary>Records the leads of <paramref name="workspaceId"/> matching <paramref name="filters"/> (validated; sort is ignored) as selection <paramref name="selectionId"/>; returns how many.</summary>
    public static async Task<long> FixAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, LeadExportFilters filters, Guid selectionId,
        CancellationToken ct)
    {
        var f = Parse(workspaceId, filters);
        await using var cmd = new NpgsqlCommand($"""
            INSERT INTO leads.selections (selection_id, seq, lead_id)
            SELECT @SelectionId, row_number() OVER (ORDER BY l.id), l.id FROM leads.leads l WHERE {f.Where}
            """, conn, tx);
        f.Bind(cmd.Parameters);
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("SelectionId", NpgsqlDbType.Uuid) { TypedValue = selectionId });
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The exact number of leads <see cref="FixAsync"/> would record now (the list's total for these filters).</summary>
    public static async Task<long> CountAsync(NpgsqlConnection conn, Guid workspaceId, LeadExportFilters filters, CancellationToken ct) =>
        await Parse(workspaceId, filters).CountAsync(conn, ct);

    /// <summary>Up to <paramref name="count"/> lead IDs of the selection after position <paramref name="after"/> (0 = from the start), in order.</summary>
    public static async Task<Guid[]> ChunkAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid selectionId, long after, int count, CancellationToken ct) =>
        [.. await conn.QueryAsync<Guid>(new CommandDefinition(ChunkSql, new { SelectionId = selectionId, After = (int)after, Count = count }, tx, cancellationToken: ct))];

    public static Task ForgetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid selectionId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(ForgetSql, new { SelectionId = selectionId }, tx, cancellationToken: ct));

    private static LeadFilter Parse(Guid workspaceId, LeadExportFilters filters)
    {
        var (f, errors) = LeadFilter.Parse(workspaceId, filters);
        return f ?? throw new ArgumentException("Invalid filters: " + string.Join(" ", errors.Values), nameof(filters));
    }
}
