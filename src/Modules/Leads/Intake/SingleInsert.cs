using System.Text.Json;
using Dapper;
using Kernel.Http;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Intake;

/// <summary>
/// The write step for a lone lead (<c>POST /api/leads</c>, the inbound webhook): the detector's per-person locks and
/// match, then one statement that inserts the lead, appends its <c>duplicate_flagged</c> event when it was flagged and
/// returns the full lead for the answer — in the caller's transaction. A new lead has no tags and no assignee, so the
/// answer needs no read after the commit.
/// </summary>
/// <summary>A new lead for <see cref="SingleInsert.TryWriteNewBatchAsync"/>: its ID, where it goes, its fields and score, and the region it was prepared with.</summary>
internal sealed record NewLeadRow(Guid Id, IntakeTarget Target, NormalizedLead Lead, int Score, string Region);

internal static class SingleInsert
{
    // The Duplicates module's group row for a flagged lead (IDuplicateDetector.GroupMemberCte) rides in the same statement:
    // no extra round trip for a repeat, nothing for a new person (the CTE inserts no row). The answer's duplicateOf is
    // the values recorded (the CTE's row is not visible to the statement's own reads).
    private static string Sql(string groupCte) => $"""
        WITH l AS (
            INSERT INTO leads.leads (id, workspace_id, email, email_norm, first_name, last_name, phone, phone_e164, company,
                                     status, score, created_score, source_id, notes, metadata, channel,
                                     created_actor_type, created_actor_id, created_actor_name, duplicate_of)
            VALUES (@Id, @WorkspaceId, @Email, @EmailNorm, @FirstName, @LastName, @Phone, @PhoneE164, @Company,
                    'new', @Score, @Score, @SourceId, @Notes, @Metadata::jsonb, @Channel,
                    @ActorType, @ActorId, @ActorName, @DuplicateOf)
            RETURNING *, xmin
        ), flagged AS (
            INSERT INTO leads.events (id, workspace_id, lead_id, type, data, actor_type, actor_id, actor_name)
            SELECT @EventId, @WorkspaceId, @Id, 'duplicate_flagged', @FlagData::jsonb, @ActorType, @ActorId, @ActorName
            WHERE @FlagData::text IS NOT NULL
        ){groupCte}
        {LeadReads.DetailFromSql}
        FROM l
        {LeadReads.DetailJoinsSql}
        CROSS JOIN (SELECT @DuplicateOf::uuid AS primary_id, @MatchedOn::text[] AS matched_on) g;

        SELECT NULL::uuid AS id, NULL::text AS name WHERE false;
        """;

    private static readonly string NoGroupSql = Sql("");
    private static string? _withGroupSql;

    // One text per guard text (in practice one): built once, so Npgsql's automatic preparation sees the same statements;
    // a reference, so a thread never reads half of it.
    private sealed record GuardedText(string LockSql, string NoMatchSql, string Sql);

    // The fast path (IntakeBatcher: a group commit's batch, or one lead alone): the detector's locks for all the leads in
    // one statement, then one INSERT … SELECT over the arrays in which each row carries its own guard — its workspace's
    // region still the one it was prepared with, its source (if any) a live source of the workspace, no existing lead
    // matching it: a new lead with no flag, no event, no C# decision to make. Leads sharing a match key are never in
    // one batch (the statement could not see its own rows), so each row's guard is a lone lead's.
    // First, generic plans for this transaction: with array parameters PostgreSQL keeps choosing a custom plan, so the
    // INSERT was planned again on every call (0.8–0.9 ms, and its custom plan ran slower too: measured with
    // pg_stat_statements, a batch 0.81 + 1.75 ms → 1.83 ms, a lone lead 0.93 + 2.43 ms → 1.09 ms; docs/benchmarks.md).
    // Its plan does not depend on the values: index probes per row, whatever the batch's size.
    private static string BatchSql(NewLeadGuard guard) => $"""
        SELECT set_config('plan_cache_mode', 'force_generic_plan', true);
        {guard.LockSql};
        WITH b AS (
            SELECT * FROM unnest(@Ids::uuid[], @WorkspaceIds::uuid[], @Regions::text[], @SourceIds::uuid[], @Emails::text[],
                                 @EmailNorms::text[], @FirstNames::text[], @LastNames::text[], @Phones::text[], @PhoneE164s::text[],
                                 @Companies::text[], @Scores::integer[], @Notes::text[], @Metadata::text[], @Channels::text[],
                                 @ActorTypes::text[], @ActorIds::text[], @ActorNames::text[])
                AS b(id, workspace_id, region, source_id, email, email_norm, first_name, last_name, phone, phone_e164,
                     company, score, notes, metadata, channel, actor_type, actor_id, actor_name)
        ), l AS (
            INSERT INTO leads.leads (id, workspace_id, email, email_norm, first_name, last_name, phone, phone_e164, company,
                                     status, score, created_score, source_id, notes, metadata, channel,
                                     created_actor_type, created_actor_id, created_actor_name)
            SELECT b.id, b.workspace_id, b.email, b.email_norm, b.first_name, b.last_name, b.phone, b.phone_e164, b.company,
                   'new', b.score, b.score, b.source_id, b.notes, b.metadata::jsonb, b.channel,
                   b.actor_type, b.actor_id, b.actor_name
            FROM b
            WHERE coalesce((SELECT default_region FROM access.v_workspaces w WHERE w.id = b.workspace_id), 'US') = b.region
              AND (b.source_id IS NULL OR EXISTS (
                       SELECT 1 FROM leads.sources s WHERE s.id = b.source_id AND s.workspace_id = b.workspace_id AND s.deleted_at IS NULL))
              AND {guard.NoMatchSql}
            ORDER BY b.id
            RETURNING *, xmin
        )
        {LeadReads.DetailFromSql}
        FROM l
        {LeadReads.DetailJoinsSql}
        CROSS JOIN (SELECT NULL::uuid AS primary_id, NULL::text[] AS matched_on) g;
        """;

    private static GuardedText? _batchSql;

    /// <summary>
    /// New leads (one or several) in ONE round trip and one implicit transaction on <paramref name="conn"/> (which must
    /// have none open: the statements of one command run in one implicit transaction that commits when they all succeed):
    /// returns, per lead in order, the lead as committed, or null for one whose guard failed (it matches an existing lead,
    /// its workspace's region changed, its source is not live, or an import chunk holds its workspace's intake lock) — that
    /// one was not written and takes the ordinary path (<see cref="WriteAsync"/>), which decides those cases exactly. The
    /// leads must not share a match key within a workspace. Throws when the statement fails; then nothing was written (one
    /// transaction), unless the connection broke after the commit.
    /// </summary>
    public static async Task<LeadDetail?[]> TryWriteNewBatchAsync(NpgsqlConnection conn, IDuplicateDetector detector,
        IReadOnlyList<NewLeadRow> rows, CancellationToken ct)
    {
        var guard = detector.GuardNewLeads([.. rows.Select(r => new NewLeadKeys(r.Target.WorkspaceId, r.Lead.EmailNorm, r.Lead.PhoneE164))]);
        var cached = _batchSql;
        if (cached is null || cached.LockSql != guard.LockSql || cached.NoMatchSql != guard.NoMatchSql)
            _batchSql = cached = new GuardedText(guard.LockSql, guard.NoMatchSql, BatchSql(guard));
        var sql = cached.Sql;
        var args = new DynamicParameters(new
        {
            Ids = rows.Select(r => r.Id).ToArray(),
            WorkspaceIds = rows.Select(r => r.Target.WorkspaceId).ToArray(),
            Regions = rows.Select(r => r.Region).ToArray(),
            SourceIds = rows.Select(r => r.Target.SourceId).ToArray(),
            Emails = rows.Select(r => r.Lead.Email).ToArray(),
            EmailNorms = rows.Select(r => r.Lead.EmailNorm).ToArray(),
            FirstNames = rows.Select(r => r.Lead.FirstName).ToArray(),
            LastNames = rows.Select(r => r.Lead.LastName).ToArray(),
            Phones = rows.Select(r => r.Lead.Phone).ToArray(),
            PhoneE164s = rows.Select(r => r.Lead.PhoneE164).ToArray(),
            Companies = rows.Select(r => r.Lead.Company).ToArray(),
            Scores = rows.Select(r => r.Score).ToArray(),
            Notes = rows.Select(r => r.Lead.Notes).ToArray(),
            Metadata = rows.Select(r => r.Lead.MetadataJson).ToArray(),
            Channels = rows.Select(r => r.Target.Channel).ToArray(),
            ActorTypes = rows.Select(r => r.Target.Actor.Type).ToArray(),
            ActorIds = rows.Select(r => r.Target.Actor.Id).ToArray(),
            ActorNames = rows.Select(r => r.Target.Actor.Name).ToArray(),
        });
        args.AddDynamicParams(guard.Parameters);
        await using var grid = await conn.QueryMultipleAsync(new CommandDefinition(sql, args, cancellationToken: ct));
        await grid.ReadAsync(); // the plan mode
        await grid.ReadAsync(); // the locks
        var written = LeadReads.ReadDetailRows(grid).ToDictionary(l => l.Id);
        foreach (var lead in written.Values) lead.Tags = []; // a new lead has none
        var result = new LeadDetail?[rows.Count];
        for (var i = 0; i < result.Length; i++) result[i] = written.GetValueOrDefault(rows[i].Id);
        return result;
    }

    public static async Task<LeadDetail> WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IDuplicateDetector? detector,
        IntakeTarget target, NormalizedLead lead, int score, CancellationToken ct)
    {
        var match = detector is null ? null : await detector.DetectAsync(conn, tx, target.WorkspaceId, lead.EmailNorm, lead.PhoneE164, ct);
        var sql = detector is null ? NoGroupSql : (_withGroupSql ??= Sql(detector.GroupMemberCte));
        var args = LeadColumns(target, lead, score);
        args.AddDynamicParams(new
        {
            DuplicateOf = match?.PrimaryId,
            MatchedOn = match?.MatchedOn,
            EventId = Guid.CreateVersion7(),
            FlagData = match is null ? null : JsonSerializer.Serialize(LeadEvents.DuplicateFlaggedData(match), JsonConventions.Options),
        });
        var detail = await LeadReads.ReadDetailAsync(conn, new CommandDefinition(sql, args, tx, cancellationToken: ct));
        return detail ?? throw new InvalidOperationException("The insert returned no lead.");
    }

    /// <summary>The new lead's columns as the ordinary path's insert binds them (a fresh UUIDv7 as its ID).</summary>
    private static DynamicParameters LeadColumns(IntakeTarget target, NormalizedLead lead, int score) => new(new
    {
        Id = Guid.CreateVersion7(),
        target.WorkspaceId,
        lead.Email,
        lead.EmailNorm,
        lead.FirstName,
        lead.LastName,
        lead.Phone,
        lead.PhoneE164,
        lead.Company,
        Score = score,
        target.SourceId,
        lead.Notes,
        Metadata = lead.MetadataJson,
        target.Channel,
        ActorType = target.Actor.Type,
        ActorId = target.Actor.Id,
        ActorName = target.Actor.Name,
    });
}
