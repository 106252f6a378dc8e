using Dapper;
using Kernel.Security;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Intake;

/// <summary>
/// The write step for a lone lead (<c>POST /api/leads</c>, the inbound webhook): the detector's per-person locks and
/// match, then the insert and, for a flagged lead, its <c>duplicate_flagged</c> event — in the caller's transaction.
/// </summary>
internal static class SingleInsert
{
    private const string InsertSql = """
        INSERT INTO leads.leads (id, workspace_id, email, email_norm, first_name, last_name, phone, phone_e164, company,
                                 status, score, created_score, source_id, notes, metadata, channel,
                                 created_actor_type, created_actor_id, created_actor_name, duplicate_of, duplicate_matched_on)
        VALUES (@Id, @WorkspaceId, @Email, @EmailNorm, @FirstName, @LastName, @Phone, @PhoneE164, @Company,
                'new', @Score, @Score, @SourceId, @Notes, @Metadata::jsonb, @Channel,
                @ActorType, @ActorId, @ActorName, @DuplicateOf, @MatchedOn)
        """;

    public static async Task<(Guid Id, bool Flagged)> WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IDuplicateDetector? detector,
        IntakeTarget target, NormalizedLead lead, int score, CancellationToken ct)
    {
        var id = Guid.CreateVersion7();
        var match = detector is null ? null : await detector.DetectAsync(conn, tx, target.WorkspaceId, lead.EmailNorm, lead.PhoneE164, ct);
        await conn.ExecuteAsync(new CommandDefinition(InsertSql, new
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
        }, tx, cancellationToken: ct));
        if (match is not null)
            await LeadEvents.AppendAsync(conn, tx, target.WorkspaceId, id, LeadEvents.DuplicateFlagged, LeadEvents.DuplicateFlaggedData(match), target.Actor, ct);
        return (id, match is not null);
    }
}
