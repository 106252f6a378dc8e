using Kernel.Observability;
using Dapper;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Intake;

/// <summary>
/// The single-lead intake pipeline shared by <c>POST /api/leads</c> and the inbound webhook:
/// <see cref="LeadIntakeRules.Prepare"/> (normalise → validate → score) → duplicate detection → insert, in one
/// transaction. CSV import runs the same <see cref="LeadIntakeRules"/> over whole files.
/// </summary>
internal sealed class LeadIntake(NpgsqlDataSource db, IEnumerable<IDuplicateDetector> detectors)
{
    private const string InsertSql = """
        INSERT INTO leads.leads (id, workspace_id, email, email_norm, first_name, last_name, phone, phone_e164, company,
                                 status, score, created_score, source_id, notes, metadata, channel,
                                 created_actor_type, created_actor_id, created_actor_name, duplicate_of, duplicate_matched_on)
        VALUES (@Id, @WorkspaceId, @Email, @EmailNorm, @FirstName, @LastName, @Phone, @PhoneE164, @Company,
                'new', @Score, @Score, @SourceId, @Notes, @Metadata::jsonb, @Channel,
                @ActorType, @ActorId, @ActorName, @DuplicateOf, @MatchedOn)
        """;

    public async Task<Guid> CreateAsync(Guid workspaceId, LeadInput input, Guid? sourceId, string channel, Actor actor, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var prepared = LeadIntakeRules.Prepare(input, await LeadIntakeRules.ContextAsync(conn, workspaceId, sourceId, ct));
        if (prepared.Lead is not { } lead)
            throw new ApiProblemException(400, ProblemCodes.ValidationFailed, "Validation failed", "One or more fields are invalid; see errors.",
                prepared.Errors.ToDictionary(e => e.Key, e => new[] { e.Value }));
        if (sourceId is { } sid && !await IntakeLookups.SourceExistsAsync(conn, null, workspaceId, sid, ct))
            throw ApiProblemException.Validation("sourceId", "sourceId does not name a source of this workspace.");

        var id = Guid.CreateVersion7();

        await using var tx = await conn.BeginTransactionAsync(ct);
        DuplicateMatch? match = null;
        foreach (var d in detectors)
            match ??= await d.DetectAsync(conn, tx, workspaceId, lead.EmailNorm, lead.PhoneE164, ct);
        await conn.ExecuteAsync(new CommandDefinition(InsertSql, new
        {
            Id = id,
            WorkspaceId = workspaceId,
            lead.Email,
            lead.EmailNorm,
            lead.FirstName,
            lead.LastName,
            lead.Phone,
            lead.PhoneE164,
            lead.Company,
            prepared.Score,
            SourceId = sourceId,
            lead.Notes,
            Metadata = lead.MetadataJson,
            Channel = channel,
            ActorType = actor.Type,
            ActorId = actor.Id,
            ActorName = actor.Name,
            DuplicateOf = match?.PrimaryId,
            MatchedOn = match?.MatchedOn,
        }, tx, cancellationToken: ct));
        if (match is not null)
            await LeadEvents.AppendAsync(conn, tx, workspaceId, id, LeadEvents.DuplicateFlagged, LeadEvents.DuplicateFlaggedData(match), actor, ct);
        await tx.CommitAsync(ct);
        LeadsTelemetry.LeadsCreated(channel);
        return id;
    }
}
