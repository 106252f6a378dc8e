using Dapper;
using Kernel.Security;
using Npgsql;

namespace Modules.Leads.Public;

/// <summary>
/// Writes other modules make to leads (Tags, Duplicates, Import), always inside the caller's transaction,
/// so the Leads module stays the only writer of its tables.
/// </summary>
public static class LeadWriter
{
    private const string TouchSql = "UPDATE leads.leads SET updated_at = now() WHERE id = @Id";
    // The new score and its score_changed event in one round trip.
    private const string SetScoreSql = "UPDATE leads.leads SET score = @Score, updated_at = now() WHERE id = @Id;\n" + LeadEvents.InsertSql;

    public static Task TouchAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid leadId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(TouchSql, new { Id = leadId }, tx, cancellationToken: ct));

    private const string TouchAllWithEventSql = """
        WITH touched AS (
            UPDATE leads.leads SET updated_at = now()
            WHERE workspace_id = @WorkspaceId AND id = ANY(@Ids)
            RETURNING id
        )
        INSERT INTO leads.events (id, workspace_id, lead_id, type, data, actor_type, actor_id, actor_name)
        SELECT leads.uuid_v7(), @WorkspaceId, id, @EventType, @EventData::jsonb, @ActorType, @ActorId, @ActorName
        FROM touched
        ORDER BY id
        """;

    /// <summary>
    /// <see cref="TouchAsync"/> and the same event for each of many (locked) leads, in one statement whatever their
    /// number; returns how many leads it found.
    /// </summary>
    public static Task<int> TouchAllWithEventAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid[] leadIds,
        string type, object data, Actor actor, CancellationToken ct)
    {
        var args = new DynamicParameters(LeadEvents.Args(workspaceId, Guid.Empty, type, data, actor));
        args.Add("Ids", leadIds);
        return conn.ExecuteAsync(new CommandDefinition(TouchAllWithEventSql, args, tx, cancellationToken: ct));
    }

    /// <summary>
    /// Recomputes the score of a locked lead from its current state; when it changes, stores it and appends a
    /// <c>score_changed</c> event listing every rule and its points.
    /// </summary>
    public static async Task<int> RescoreAsync(NpgsqlConnection conn, NpgsqlTransaction tx, LeadRow lead, Actor actor, CancellationToken ct)
    {
        var result = LeadScoring.Compute(lead.ToScoreInput());
        if (result.Score == lead.Score) return lead.Score;
        var args = new DynamicParameters(new { lead.Id, result.Score });
        args.AddDynamicParams(LeadEvents.Args(lead.WorkspaceId, lead.Id, LeadEvents.ScoreChanged, new
        {
            from = lead.Score,
            to = result.Score,
            reasons = result.Reasons.Select(r => new { rule = r.Rule, points = r.Points }),
        }, actor));
        await conn.ExecuteAsync(new CommandDefinition(SetScoreSql, args, tx, cancellationToken: ct));
        return result.Score;
    }
}

/// <summary>Duplicate-group links on lead rows, written for the Duplicates module (which owns the policy).</summary>
public static class DuplicateLinks
{
    private const string PromoteSql = """
        UPDATE leads.leads SET duplicate_of = NULL, duplicate_matched_on = NULL, updated_at = now() WHERE id = @Id
        """;

    // matchedOn is recomputed against the new primary; a member that shared no key with it keeps its old
    // reason (it is still in the group through the one it matched).
    private const string RepointSql = """
        UPDATE leads.leads d
        SET duplicate_of = @To,
            duplicate_matched_on = coalesce(nullif(array_remove(ARRAY[
                    CASE WHEN d.email_norm = p.email_norm THEN 'email' END,
                    CASE WHEN d.phone_e164 = p.phone_e164 THEN 'phone' END], NULL), '{}'), d.duplicate_matched_on),
            updated_at = now()
        FROM leads.leads p
        WHERE p.id = @To AND d.duplicate_of = @From AND d.id <> @To
        """;

    private const string OldestDuplicateSql = """
        SELECT id FROM leads.leads WHERE duplicate_of = @Id ORDER BY created_at, id LIMIT 1
        """;

    public static Task PromoteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid leadId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(PromoteSql, new { Id = leadId }, tx, cancellationToken: ct));

    /// <summary>Moves every duplicate of <paramref name="from"/> (except <paramref name="to"/> itself) to the primary <paramref name="to"/>.</summary>
    public static Task<int> RepointAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid from, Guid to, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(RepointSql, new { From = from, To = to }, tx, cancellationToken: ct));

    public static Task<Guid?> OldestDuplicateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid primaryId, CancellationToken ct) =>
        conn.ExecuteScalarAsync<Guid?>(new CommandDefinition(OldestDuplicateSql, new { Id = primaryId }, tx, cancellationToken: ct));

    private const string LinkSql = """
        UPDATE leads.leads SET duplicate_of = @PrimaryId,
               duplicate_matched_on = CASE WHEN @PrimaryId::uuid IS NULL THEN NULL ELSE duplicate_matched_on END,
               updated_at = now()
        WHERE id = @Id
        """;

    /// <summary>Points a lead at another primary (keeping its matchedOn), or makes it a primary (null).</summary>
    public static Task LinkAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid leadId, Guid? primaryId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(LinkSql, new { Id = leadId, PrimaryId = primaryId }, tx, cancellationToken: ct));
}
