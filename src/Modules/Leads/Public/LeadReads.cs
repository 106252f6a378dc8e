using Modules.Leads.Public;
using Dapper;
using Kernel.Security;
using Npgsql;

namespace Modules.Leads.Public;

/// <summary>Reads of a whole lead, shared by every slice that answers with the full lead.</summary>
public static class LeadReads
{
    // The full lead's columns over a lead row `l` (with its xmin), its source and its assignee; shared with the insert
    // that answers a creation from its own RETURNING. Member names come through Access's published view; a removed
    // member's leads are already unassigned. duplicateOf {id, matchedOn} is the Duplicates module's truth (its published
    // view, joined as `g`); isDuplicate is the list's flag, a copy of it kept in the same transaction.
    internal const string DetailFromSql = """
        SELECT l.id, l.first_name, l.last_name, l.email, l.phone, l.company, l.status, l.score,
               l.duplicate_of IS NOT NULL AS is_duplicate, l.created_at, l.phone_e164, l.notes, l.metadata, l.channel, l.updated_at, l.xmin::text::bigint AS version,
               s.id, s.name, CASE WHEN s.deleted_at IS NOT NULL THEN true END AS deleted,
               m.id, m.name,
               g.primary_id AS id, coalesce(g.matched_on, '{}') AS matched_on
        """;

    internal const string DetailJoinsSql = """
        LEFT JOIN leads.sources s ON s.id = l.source_id
        LEFT JOIN access.v_members m ON m.id = l.assigned_to
        """;

    internal const string GroupJoinSql = """
        LEFT JOIN duplicates.v_group_members g ON g.lead_id = l.id
        """;

    private const string DetailSql = $"""
        {DetailFromSql}
        FROM leads.leads l
        {DetailJoinsSql}
        {GroupJoinSql}
        WHERE l.id = @LeadId AND l.workspace_id = @WorkspaceId;

        SELECT tag_id AS id, name FROM tags.v_lead_tags WHERE lead_id = @LeadId ORDER BY lower(name), tag_id;
        """;

    // A write's last event and the answer it sends, in one round trip (the insert returns no rows, so the
    // reader's first result is the lead's).
    private const string AppendThenDetailSql = LeadEvents.InsertSql + ";\n" + DetailSql;

    public static Task<LeadDetail?> DetailAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        ReadDetailAsync(conn, new CommandDefinition(DetailSql, new { LeadId = id, WorkspaceId = workspaceId }, tx, cancellationToken: ct));

    /// <summary>Appends an event to a lead the caller has locked, then reads the whole lead — one round trip.</summary>
    public static Task<LeadDetail?> AppendEventThenDetailAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid leadId,
        string type, object data, Actor actor, CancellationToken ct) =>
        ReadDetailAsync(conn, new CommandDefinition(AppendThenDetailSql, LeadEvents.Args(workspaceId, leadId, type, data, actor), tx, cancellationToken: ct));

    /// <summary>Reads a full lead from a command whose first result is <see cref="DetailFromSql"/>'s columns and second its tags.</summary>
    internal static async Task<LeadDetail?> ReadDetailAsync(NpgsqlConnection conn, CommandDefinition command)
    {
        await using var grid = await conn.QueryMultipleAsync(command);
        return ReadDetail(grid);
    }

    /// <summary>Reads a full lead from a grid whose next result is <see cref="DetailFromSql"/>'s columns and the one after its tags.</summary>
    private static LeadDetail? ReadDetail(SqlMapper.GridReader grid)
    {
        var lead = ReadDetailRows(grid).SingleOrDefault();
        if (lead is null) return null;
        lead.Tags = grid.Read<TagRef>().AsList();
        return lead;
    }

    /// <summary>The leads of a grid result of <see cref="DetailFromSql"/>'s columns, without their tags.</summary>
    internal static IEnumerable<LeadDetail> ReadDetailRows(SqlMapper.GridReader grid) =>
        grid.Read<LeadDetail, SourceRef, UserRef, DuplicateRef, LeadDetail>((l, s, m, d) =>
        {
            l.Source = s;
            l.AssignedTo = m;
            l.DuplicateOf = d;
            return l;
        }, splitOn: "id,id,id");

    /// <summary>The full lead, or the right 404 (not found / merged).</summary>
    public static async Task<LeadDetail> RequireDetailAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        await DetailAsync(conn, workspaceId, id, ct) ?? throw await LeadLookup.MissingAsync(conn, null, workspaceId, id, ct);
}
