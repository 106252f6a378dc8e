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

    public static async Task<LeadDetail> WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IDuplicateDetector? detector,
        IntakeTarget target, NormalizedLead lead, int score, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        var match = detector is null ? null : await detector.DetectAsync(conn, tx, target.WorkspaceId, lead.EmailNorm, lead.PhoneE164, ct);
        var sql = detector is null ? NoGroupSql : (_withGroupSql ??= Sql(detector.GroupMemberCte));
        var detail = await LeadReads.ReadDetailAsync(conn, new CommandDefinition(sql, new
        {
            Id = id,
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
            DuplicateOf = match?.PrimaryId,
            MatchedOn = match?.MatchedOn,
            EventId = Guid.CreateVersion7(),
            FlagData = match is null ? null : JsonSerializer.Serialize(LeadEvents.DuplicateFlaggedData(match), JsonConventions.Options),
        }, tx, cancellationToken: ct));
        return detail ?? throw new InvalidOperationException("The insert returned no lead.");
    }
}
