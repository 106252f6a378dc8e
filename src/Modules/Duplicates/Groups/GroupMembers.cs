using Dapper;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Duplicates.Groups;

/// <summary>
/// The duplicate groups' truth, <c>duplicates.group_members</c> (migration 0120): one row per lead flagged a duplicate, with
/// its primary and the keys it matched on; a primary has none (groups are one level deep). Every change here also sets the
/// list's flag copy (<see cref="LeadDuplicateFlags"/>) of the leads it changed, in the caller's transaction, so the copy
/// equals the truth at every commit. The caller holds the locks the change needs (the leads' rows, or intake's key locks).
/// </summary>
internal static class GroupMembers
{
    // matchedOn when none is given: the keys the lead shares with its new primary (as a re-point computes them); an existing
    // membership keeps its own when none is given.
    private const string JoinSql = """
        INSERT INTO duplicates.group_members AS g (lead_id, workspace_id, primary_id, matched_on)
        SELECT d.id, d.workspace_id, p.id, coalesce(@MatchedOn::text[], array_remove(ARRAY[
                    CASE WHEN d.email_norm = p.email_norm THEN 'email' END,
                    CASE WHEN d.phone_e164 = p.phone_e164 THEN 'phone' END], NULL))
        FROM leads.v_leads d, leads.v_leads p
        WHERE d.id = @Id AND p.id = @Primary AND d.workspace_id = @WorkspaceId AND p.workspace_id = @WorkspaceId
        ON CONFLICT (lead_id) DO UPDATE SET primary_id = EXCLUDED.primary_id, matched_on = coalesce(@MatchedOn::text[], g.matched_on)
        """;

    private const string LeaveSql = "DELETE FROM duplicates.group_members WHERE lead_id = @Id";

    // matchedOn is recomputed against the new primary; a member that shares no key with it keeps its old reason (it is
    // still in the group through the one it matched).
    private const string RepointSql = """
        UPDATE duplicates.group_members g
        SET primary_id = @To,
            matched_on = coalesce(nullif(array_remove(ARRAY[
                    CASE WHEN d.email_norm = p.email_norm THEN 'email' END,
                    CASE WHEN d.phone_e164 = p.phone_e164 THEN 'phone' END], NULL), '{}'), g.matched_on)
        FROM leads.v_leads d, leads.v_leads p
        WHERE g.primary_id = @From AND g.lead_id <> @To AND d.id = g.lead_id AND p.id = @To
        RETURNING g.lead_id
        """;

    // Members of a primary that are still under it, among some leads (an unmerge moves them back), keeping their reason.
    private const string MoveSql = """
        UPDATE duplicates.group_members SET primary_id = @To
        WHERE lead_id = ANY(@Ids) AND primary_id = @From
        RETURNING lead_id
        """;

    private const string OldestMemberSql = """
        SELECT g.lead_id FROM duplicates.group_members g JOIN leads.v_leads l ON l.id = g.lead_id
        WHERE g.primary_id = @Id
        ORDER BY l.created_at, l.id
        LIMIT 1
        """;

    // What a merge needs of the lead it absorbs, and its own membership taken away (its row is about to be deleted).
    private const string DetachSql = """
        SELECT lead_id FROM duplicates.group_members WHERE primary_id = @Id ORDER BY lead_id;
        DELETE FROM duplicates.group_members WHERE lead_id = @Id RETURNING primary_id, matched_on;
        """;

    private const string IsLivePrimarySql = """
        SELECT EXISTS (SELECT 1 FROM leads.v_leads WHERE id = @Id AND workspace_id = @WorkspaceId)
           AND NOT EXISTS (SELECT 1 FROM duplicates.group_members WHERE lead_id = @Id)
        """;

    private const string RecordSql = """
        INSERT INTO duplicates.group_members (lead_id, workspace_id, primary_id, matched_on)
        VALUES (@Id, @WorkspaceId, @Primary, @MatchedOn)
        """;

    // Intake's flagged leads (single: a CTE of the insert statement; bulk: one statement per batch). Their rows were
    // inserted with the flag copy already set.
    internal const string IntakeCte = """
        , grouped AS (
            INSERT INTO duplicates.group_members (lead_id, workspace_id, primary_id, matched_on)
            SELECT @Id, @WorkspaceId, @DuplicateOf, @MatchedOn
            WHERE @DuplicateOf::uuid IS NOT NULL
        )
        """;

    private const string RecordBatchSql = """
        INSERT INTO duplicates.group_members (lead_id, workspace_id, primary_id, matched_on)
        SELECT f.id, @WorkspaceId, f.primary_id, array_remove(ARRAY[CASE WHEN f.email THEN 'email' END, CASE WHEN f.phone THEN 'phone' END], NULL)
        FROM unnest(@Ids::uuid[], @Primaries::uuid[], @Email::boolean[], @Phone::boolean[]) f(id, primary_id, email, phone)
        """;

    private const string MatchedOnSql = "UPDATE duplicates.group_members SET matched_on = @MatchedOn WHERE lead_id = @Id AND matched_on IS DISTINCT FROM @MatchedOn";

    internal sealed class Membership
    {
        public Guid PrimaryId { get; init; }
        public string[] MatchedOn { get; init; } = [];
    }

    /// <summary>
    /// Puts a lead under a primary (with <paramref name="matchedOn"/>, or its existing reason, or the keys it shares with the
    /// primary), or makes it a primary (null).
    /// </summary>
    public static async Task SetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid leadId, Guid? primaryId, string[]? matchedOn,
        CancellationToken ct)
    {
        if (primaryId is { } p)
        {
            var n = await conn.ExecuteAsync(new CommandDefinition(JoinSql, new { Id = leadId, Primary = p, WorkspaceId = workspaceId, MatchedOn = matchedOn },
                tx, cancellationToken: ct));
            if (n != 1) throw new InvalidOperationException($"Lead {leadId} or its primary {p} is not a live lead of the workspace.");
        }
        else await conn.ExecuteAsync(new CommandDefinition(LeaveSql, new { Id = leadId }, tx, cancellationToken: ct));
        await LeadDuplicateFlags.SetAsync(conn, tx, workspaceId, leadId, primaryId, ct);
    }

    /// <summary>The matchedOn of a lead that stays under the same primary (its flag does not change).</summary>
    public static Task SetMatchedOnAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid leadId, string[] matchedOn, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(MatchedOnSql, new { Id = leadId, MatchedOn = matchedOn }, tx, cancellationToken: ct));

    /// <summary>Moves every duplicate of <paramref name="from"/> (except <paramref name="to"/> itself) under the primary <paramref name="to"/>.</summary>
    public static async Task<Guid[]> RepointAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid from, Guid to, CancellationToken ct)
    {
        Guid[] moved = [.. await conn.QueryAsync<Guid>(new CommandDefinition(RepointSql, new { From = from, To = to }, tx, cancellationToken: ct))];
        await LeadDuplicateFlags.SetAsync(conn, tx, workspaceId, moved, [.. moved.Select(_ => (Guid?)to)], ct);
        return moved;
    }

    /// <summary>Moves those of <paramref name="ids"/> still under <paramref name="from"/> under <paramref name="to"/>, keeping their reasons.</summary>
    public static async Task MoveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid[] ids, Guid from, Guid to, CancellationToken ct)
    {
        if (ids.Length == 0) return;
        Guid[] moved = [.. await conn.QueryAsync<Guid>(new CommandDefinition(MoveSql, new { Ids = ids, From = from, To = to }, tx, cancellationToken: ct))];
        await LeadDuplicateFlags.SetAsync(conn, tx, workspaceId, moved, [.. moved.Select(_ => (Guid?)to)], ct);
    }

    public static Task<Guid?> OldestMemberAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid primaryId, CancellationToken ct) =>
        conn.ExecuteScalarAsync<Guid?>(new CommandDefinition(OldestMemberSql, new { Id = primaryId }, tx, cancellationToken: ct));

    /// <summary>
    /// Before a merge deletes <paramref name="leadId"/>'s row: its own duplicates (still under it; the caller re-points them)
    /// and its membership, which is removed (the row carrying the flag copy goes with the merge).
    /// </summary>
    public static async Task<(Guid[] Members, Membership? Own)> DetachAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid leadId, CancellationToken ct)
    {
        await using var grid = await conn.QueryMultipleAsync(new CommandDefinition(DetachSql, new { Id = leadId }, tx, cancellationToken: ct));
        Guid[] members = [.. await grid.ReadAsync<Guid>()];
        var own = await grid.ReadSingleOrDefaultAsync<Membership>();
        return (members, own);
    }

    /// <summary>Removes a lead's membership before its row is deleted (the row carrying the flag copy goes too).</summary>
    public static Task ForgetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid leadId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(LeaveSql, new { Id = leadId }, tx, cancellationToken: ct));

    public static Task<bool> IsLivePrimaryAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid id, CancellationToken ct) =>
        conn.ExecuteScalarAsync<bool>(new CommandDefinition(IsLivePrimarySql, new { Id = id, WorkspaceId = workspaceId }, tx, cancellationToken: ct));

    /// <summary>The membership of a lead whose row was just written with the flag copy already set (unmerge's restore).</summary>
    public static Task RecordAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid leadId, Guid primaryId, string[] matchedOn,
        CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(RecordSql, new { Id = leadId, WorkspaceId = workspaceId, Primary = primaryId, MatchedOn = matchedOn },
            tx, cancellationToken: ct));

    /// <summary>The memberships of a bulk batch's flagged leads, just inserted with their flag copy: one statement.</summary>
    public static Task RecordBatchAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, IReadOnlyList<(Guid LeadId, DuplicateMatch Match)> flagged,
        CancellationToken ct)
    {
        if (flagged.Count == 0) return Task.CompletedTask;
        return conn.ExecuteAsync(new CommandDefinition(RecordBatchSql, new
        {
            WorkspaceId = workspaceId,
            Ids = flagged.Select(f => f.LeadId).ToArray(),
            Primaries = flagged.Select(f => f.Match.PrimaryId).ToArray(),
            Email = flagged.Select(f => f.Match.MatchedOn.Contains("email")).ToArray(),
            Phone = flagged.Select(f => f.Match.MatchedOn.Contains("phone")).ToArray(),
        }, tx, cancellationToken: ct));
    }
}
