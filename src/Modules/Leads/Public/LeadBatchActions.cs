using System.Text.Json;
using Dapper;
using Kernel.Http;
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

    // Only what scoring reads (notes and the other wide columns stay on disk).
    private const string LockStatusRowsSql = """
        SELECT id, email, first_name, last_name, phone_e164, company, status, score, source_id,
               (SELECT count(*) FROM jsonb_object_keys(metadata))::int AS metadata_keys
        FROM leads.leads
        WHERE workspace_id = @WorkspaceId AND id = ANY(@Ids)
        ORDER BY id
        FOR UPDATE
        """;

    // A chunk's whole change in one statement: status and the rescore in one UPDATE (one new row version per lead, so
    // every index of leads.leads is maintained once and the row triggers run once per chunk), and both kinds of event
    // in one INSERT (the events' statement triggers — the live-lead check and the change feed — run once, not twice).
    // Event data is built here, with the same members the single write serialises (jsonb orders them itself):
    // status_changed {from, to}, then — only where the score moves — score_changed {from, to, reasons}; @Extra (e.g.
    // bulkId) is merged last, as the single path's extra fields are. All status_changed rows come first, in lead order,
    // so each lead's status_changed precedes its score_changed on the timeline (clock_timestamp(), UUIDv7 order).
    private const string SetStatusSql = """
        WITH u AS (
            SELECT u.id, u.from_status, u.from_score, u.to_score, u.reasons, u.n
            FROM unnest(@Ids, @FromStatuses, @FromScores, @ToScores, @Reasons) WITH ORDINALITY AS u(id, from_status, from_score, to_score, reasons, n)
        ), changed AS (
            UPDATE leads.leads l SET status = @Status, score = u.to_score, updated_at = now()
            FROM u WHERE l.id = u.id
        )
        INSERT INTO leads.events (id, workspace_id, lead_id, type, data, actor_type, actor_id, actor_name)
        SELECT leads.uuid_v7(), @WorkspaceId, e.id, e.type, e.data || @Extra::jsonb, @ActorType, @ActorId, @ActorName
        FROM (
            SELECT 1 AS k, u.n, u.id, 'status_changed' AS type, jsonb_build_object('from', u.from_status, 'to', @Status::text) AS data
            FROM u
            UNION ALL
            SELECT 2, u.n, u.id, 'score_changed', jsonb_build_object('from', u.from_score, 'to', u.to_score, 'reasons', u.reasons::jsonb)
            FROM u WHERE u.to_score <> u.from_score
        ) e
        ORDER BY e.k, e.n
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
        var rows = (await conn.QueryAsync<LeadRow>(new CommandDefinition(LockStatusRowsSql, new { WorkspaceId = workspaceId, Ids = ids }, tx,
            cancellationToken: ct))).AsList();
        var changing = rows.Where(r => r.Status != status).ToList();
        if (changing.Count == 0) return new(rows.Count, 0);
        var toScores = new short[changing.Count];
        var reasons = new string?[changing.Count];
        // Leads with the same reasons (the same rules met) share one serialised list.
        var reasonsJson = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < changing.Count; i++)
        {
            var result = LeadScoring.Compute((changing[i] with { Status = status }).ToScoreInput());
            toScores[i] = (short)result.Score;
            if (result.Score == changing[i].Score) continue;
            var key = string.Join(',', result.Reasons.Select(r => r.Rule));
            if (!reasonsJson.TryGetValue(key, out var json))
                reasonsJson[key] = json = JsonSerializer.Serialize(result.Reasons.Select(r => new { rule = r.Rule, points = r.Points }), JsonConventions.Options);
            reasons[i] = json;
        }
        var args = new DynamicParameters(new
        {
            WorkspaceId = workspaceId,
            Status = status,
            Ids = changing.Select(r => r.Id).ToArray(),
            FromStatuses = changing.Select(r => r.Status).ToArray(),
            FromScores = changing.Select(r => (short)r.Score).ToArray(),
            ToScores = toScores,
            Reasons = reasons,
            Extra = JsonSerializer.Serialize(extra, JsonConventions.Options),
            ActorType = actor.Type,
            ActorId = actor.Id,
            ActorName = actor.Name,
        });
        await conn.ExecuteAsync(new CommandDefinition(SetStatusSql, args, tx, cancellationToken: ct));
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
