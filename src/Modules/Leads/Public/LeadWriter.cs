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
    private const string SetScoreSql = "UPDATE leads.leads SET score = @Score, updated_at = now() WHERE id = @Id";

    public static Task TouchAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid leadId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(TouchSql, new { Id = leadId }, tx, cancellationToken: ct));

    /// <summary>
    /// Recomputes the score of a locked lead from its current state; when it changes, stores it and appends a
    /// <c>score_changed</c> event listing every rule and its points.
    /// </summary>
    public static async Task<int> RescoreAsync(NpgsqlConnection conn, NpgsqlTransaction tx, LeadRow lead, Actor actor, CancellationToken ct)
    {
        var result = LeadScoring.Compute(lead.ToScoreInput());
        if (result.Score == lead.Score) return lead.Score;
        await conn.ExecuteAsync(new CommandDefinition(SetScoreSql, new { lead.Id, result.Score }, tx, cancellationToken: ct));
        await LeadEvents.AppendAsync(conn, tx, lead.WorkspaceId, lead.Id, LeadEvents.ScoreChanged, new
        {
            from = lead.Score,
            to = result.Score,
            reasons = result.Reasons.Select(r => new { rule = r.Rule, points = r.Points }),
        }, actor, ct);
        return result.Score;
    }
}
