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

/// <summary>
/// The list's denormalised duplicate flag (<c>leads.leads.duplicate_of</c>), a copy of the Duplicates module's group truth
/// (its group members table) that the list filter, the counters and the change log key on. Duplicates calls this
/// in the same transaction as every group change it makes, with the leads it changed and their new primary (null: a
/// primary), so the copy equals the truth at every commit.
/// </summary>
public static class LeadDuplicateFlags
{
    private const string SetSql = """
        UPDATE leads.leads l SET duplicate_of = f.primary_id, updated_at = now()
        FROM unnest(@Ids::uuid[], @Primaries::uuid[]) f(id, primary_id)
        WHERE l.id = f.id AND l.workspace_id = @WorkspaceId AND l.duplicate_of IS DISTINCT FROM f.primary_id
        """;

    /// <summary>Sets the flag of each lead to its primary (null: it is a primary), in one statement; leads already so flagged are not touched.</summary>
    public static Task SetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid[] leadIds, Guid?[] primaryIds, CancellationToken ct)
    {
        if (leadIds.Length != primaryIds.Length) throw new ArgumentException("One primary per lead.", nameof(primaryIds));
        return leadIds.Length == 0 ? Task.CompletedTask
            : conn.ExecuteAsync(new CommandDefinition(SetSql, new { WorkspaceId = workspaceId, Ids = leadIds, Primaries = primaryIds }, tx, cancellationToken: ct));
    }

    /// <summary>One lead's flag.</summary>
    public static Task SetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid leadId, Guid? primaryId, CancellationToken ct) =>
        SetAsync(conn, tx, workspaceId, [leadId], [primaryId], ct);
}
