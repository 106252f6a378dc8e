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

    // The fast path (TryWriteNewAsync): the detector's locks, then one statement that inserts the lead only if the
    // workspace's region is still the one the lead was prepared with, the source (if any) is a live source of the
    // workspace, and the lead matches nobody — a new lead with no flag, no event, no C# decision to make.
    private static string FastSql(NewLeadGuard guard) => $"""
        {guard.LockSql};
        WITH go AS (
            SELECT 1 WHERE coalesce((SELECT default_region FROM access.v_workspaces WHERE id = @WorkspaceId), 'US') = @Region
              AND (@SourceId::uuid IS NULL OR EXISTS (
                       SELECT 1 FROM leads.sources WHERE id = @SourceId AND workspace_id = @WorkspaceId AND deleted_at IS NULL))
              AND {guard.NoMatchSql}
        ), l AS (
            INSERT INTO leads.leads (id, workspace_id, email, email_norm, first_name, last_name, phone, phone_e164, company,
                                     status, score, created_score, source_id, notes, metadata, channel,
                                     created_actor_type, created_actor_id, created_actor_name)
            SELECT @Id, @WorkspaceId, @Email, @EmailNorm, @FirstName, @LastName, @Phone, @PhoneE164, @Company,
                   'new', @Score, @Score, @SourceId, @Notes, @Metadata::jsonb, @Channel,
                   @ActorType, @ActorId, @ActorName
            FROM go
            RETURNING *, xmin
        )
        {LeadReads.DetailFromSql}
        FROM l
        {LeadReads.DetailJoinsSql}
        CROSS JOIN (SELECT NULL::uuid AS primary_id, NULL::text[] AS matched_on) g;

        SELECT NULL::uuid AS id, NULL::text AS name WHERE false;
        """;

    // One text per guard text (in practice one): built once, so Npgsql's automatic preparation sees the same statements.
    private static (NewLeadGuard Guard, string Sql)? _fastSql;

    /// <summary>
    /// A lone new lead in ONE round trip and its own transaction (autocommit on <paramref name="conn"/>, which must have
    /// none open): the statements of one command run in one implicit transaction that commits when they all succeed.
    /// Returns the lead as committed, or null when nothing was written because the lead matches an existing lead, the
    /// workspace's region is no longer <paramref name="region"/>, or the source is not a live source of the workspace —
    /// the caller then runs the ordinary path (<see cref="WriteAsync"/>), which decides those cases exactly as before.
    /// </summary>
    public static async Task<LeadDetail?> TryWriteNewAsync(NpgsqlConnection conn, IDuplicateDetector detector, IntakeTarget target,
        NormalizedLead lead, int score, string region, CancellationToken ct)
    {
        var guard = detector.GuardNewLead(target.WorkspaceId, lead.EmailNorm, lead.PhoneE164);
        var cached = _fastSql;
        string sql;
        if (cached is { } c && c.Guard.LockSql == guard.LockSql && c.Guard.NoMatchSql == guard.NoMatchSql) sql = c.Sql;
        else _fastSql = (guard, sql = FastSql(guard));
        var args = LeadColumns(target, lead, score);
        args.Add("Region", region);
        args.AddDynamicParams(guard.Parameters);
        await using var grid = await conn.QueryMultipleAsync(new CommandDefinition(sql, args, cancellationToken: ct));
        await grid.ReadAsync(); // the locks
        return LeadReads.ReadDetail(grid);
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

    /// <summary>The new lead's columns, as both inserts bind them (a fresh UUIDv7 as its ID).</summary>
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
