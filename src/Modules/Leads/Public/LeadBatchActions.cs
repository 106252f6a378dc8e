using Dapper;
using Kernel.Security;
using AssignData = Modules.Leads.Features.AssignLead.Data;
using Npgsql;
using DeleteSql = Modules.Leads.Features.DeleteLead.Data;
using Kernel.Ids;

namespace Modules.Leads.Public;

/// <summary>What one batch of a bulk action did: leads found (still there, now locked) and leads changed.</summary>
public readonly record struct BatchResult(int Found, int Changed);

/// <summary>
/// The single-lead writes of spec §3.4 applied to many leads at once (spec §12), inside the caller's transaction: the same
/// row changes (so the counters, the change log and the list cache follow through their triggers), the same timeline
/// events with the same data — plus <paramref name="extra"/>'s fields, e.g. <c>bulkId</c> —, rescoring where the single
/// write rescores. Leads are locked in ascending ID order, like every multi-lead writer; leads gone meanwhile are skipped.
/// </summary>
public sealed class LeadBatchActions(IEnumerable<ILeadDeletionParticipant> deletionParticipants)
{
    private const string LockRowsSql = """
        SELECT id, workspace_id, email, first_name, last_name, phone, phone_e164, company, notes, status, score,
               source_id, assigned_to, (SELECT count(*) FROM jsonb_object_keys(metadata))::int AS metadata_keys, duplicate_of,
               xmin::text::bigint AS version
        FROM leads.leads
        WHERE workspace_id = @WorkspaceId AND id = ANY(@Ids)
        ORDER BY id
        FOR UPDATE
        """;

    // Status and the rescore in one statement: one new row version per lead instead of two (every index of
    // leads.leads maintained once, the row triggers run once), which is most of a bulk set_status's cost.
    private const string SetStatusSql = """
        UPDATE leads.leads l SET status = @Status, score = u.score, updated_at = now()
        FROM unnest(@Ids, @Scores) AS u(id, score) WHERE l.id = u.id
        """;
    private const string AssignSql = "UPDATE leads.leads SET assigned_to = @UserId, updated_at = now() WHERE id = ANY(@Ids)";

    private static Task<List<LeadRow>> LockRowsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid[] ids, CancellationToken ct) =>
        conn.QueryAsync<LeadRow>(new CommandDefinition(LockRowsSql, new { WorkspaceId = workspaceId, Ids = ids }, tx, cancellationToken: ct))
            .ContinueWith(t => t.Result.AsList(), ct, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>PUT /status for each lead: <c>status_changed</c> (none when unchanged), then rescoring's <c>score_changed</c>.</summary>
    public async Task<BatchResult> SetStatusAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid[] ids, string status,
        Actor actor, IReadOnlyDictionary<string, object?> extra, CancellationToken ct)
    {
        if (!LeadStatuses.All.Contains(status)) throw new ArgumentException($"Unknown status '{status}'.", nameof(status));
        var rows = await LockRowsAsync(conn, tx, workspaceId, ids, ct);
        var changing = rows.Where(r => r.Status != status).ToList();
        if (changing.Count == 0) return new(rows.Count, 0);
        var scored = changing.Select(r => (Row: r, Result: LeadScoring.Compute((r with { Status = status }).ToScoreInput()))).ToList();
        await conn.ExecuteAsync(new CommandDefinition(SetStatusSql, new
        {
            Status = status,
            Ids = scored.Select(x => x.Row.Id).ToArray(),
            Scores = scored.Select(x => (short)x.Result.Score).ToArray(),
        }, tx, cancellationToken: ct));
        await LeadEvents.AppendManyAsync(conn, tx, workspaceId, LeadEvents.StatusChanged,
            changing.Select(r => (r.Id, With(extra, ("from", r.Status), ("to", status)))).ToList(), actor, ct);

        var rescored = scored.Where(x => x.Result.Score != x.Row.Score).ToList();
        if (rescored.Count > 0)
            await LeadEvents.AppendManyAsync(conn, tx, workspaceId, LeadEvents.ScoreChanged, rescored.Select(x => (x.Row.Id, With(extra,
                ("from", x.Row.Score), ("to", x.Result.Score),
                ("reasons", x.Result.Reasons.Select(r => new { rule = r.Rule, points = r.Points }).ToList())))).ToList(), actor, ct);
        return new(rows.Count, changing.Count);
    }

    /// <summary>
    /// PUT /assign for each lead (<paramref name="userId"/> null unassigns): an <c>assigned</c> event <c>{from, to}</c> where it
    /// changes. Throws <see cref="InvalidOperationException"/> when <paramref name="userId"/> is no longer a member — checked
    /// after the locks, as the single write does (a member removed meanwhile has already unassigned their leads).
    /// </summary>
    public async Task<BatchResult> AssignAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid[] ids, Guid? userId,
        Actor actor, IReadOnlyDictionary<string, object?> extra, CancellationToken ct)
    {
        var rows = await LockRowsAsync(conn, tx, workspaceId, ids, ct);
        if (userId is { } uid && !await AssignData.MemberExistsAsync(conn, tx, workspaceId, uid, ct))
            throw new InvalidOperationException("userId no longer names a member of this workspace.");
        var changing = rows.Where(r => r.AssignedTo != userId).ToList();
        if (changing.Count == 0) return new(rows.Count, 0);
        await conn.ExecuteAsync(new CommandDefinition(AssignSql, new { UserId = userId, Ids = changing.Select(r => r.Id).ToArray() }, tx, cancellationToken: ct));
        await LeadEvents.AppendManyAsync(conn, tx, workspaceId, LeadEvents.Assigned, changing.Select(r => (r.Id, With(extra,
            ("from", r.AssignedTo is { } f ? TypeId.Format(IdPrefix.User, f) : null),
            ("to", userId is { } t ? TypeId.Format(IdPrefix.User, t) : null)))).ToList(), actor, ct);
        return new(rows.Count, changing.Count);
    }

    /// <summary>DELETE for each lead, one at a time through the same steps (deletion participants, then the row and its events).</summary>
    public async Task<BatchResult> DeleteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid[] ids, CancellationToken ct)
    {
        var deleted = 0;
        foreach (var id in ids.Order())
        {
            var lead = await LeadLocks.TryLockAsync(conn, tx, workspaceId, id, ct);
            if (lead is null) continue;
            foreach (var p in deletionParticipants) await p.OnLeadDeletingAsync(conn, tx, lead, ct);
            await DeleteSql.DeleteAsync(conn, tx, id, ct);
            deleted++;
        }
        return new(deleted, deleted);
    }

    private static Dictionary<string, object?> With(IReadOnlyDictionary<string, object?> extra, params (string Key, object? Value)[] fields)
    {
        var d = fields.ToDictionary(f => f.Key, f => f.Value);
        foreach (var (k, v) in extra) d[k] = v;
        return d;
    }
}
