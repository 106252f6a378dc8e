using System.Text.Json;
using Dapper;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Npgsql;
using NpgsqlTypes;

namespace Modules.Leads.Public;

/// <summary>A lead that passed <see cref="LeadRules"/> and <see cref="LeadScoring"/>, with its duplicate flag already decided.</summary>
public sealed record BulkLead(Guid Id, NormalizedLead Lead, int Score, DuplicateMatch? Duplicate);

/// <summary>Where a batch of bulk leads comes from: one import of one workspace.</summary>
public sealed record BulkOrigin(Guid WorkspaceId, Guid? SourceId, Guid ImportId, Actor Actor);

/// <summary>
/// The bulk intake path (CSV import): a batch of leads goes by binary COPY into a session-local staging table,
/// then into <c>leads.leads</c> with one set-based INSERT … SELECT, inside the caller's transaction — the
/// Leads module stays the only writer of its tables. Rows end in the same state as
/// <c>POST /api/leads</c> leaves them (channel <c>import</c>, the import as creating actor); no per-lead
/// <c>created</c> event row is written (the timeline synthesises it), only <c>duplicate_flagged</c> for flagged rows.
/// </summary>
public static class LeadsBulkWriter
{
    // Session-local, emptied at every commit: nothing to clean up after a crash, nothing shared between jobs.
    private const string CreateStageSql = """
        CREATE TEMP TABLE IF NOT EXISTS lead_bulk_stage (
            id                   uuid     NOT NULL,
            email                text,
            email_norm           text,
            first_name           text,
            last_name            text,
            phone                text,
            phone_e164           text,
            company              text,
            score                smallint NOT NULL,
            metadata             jsonb    NOT NULL,
            duplicate_of         uuid,
            duplicate_matched_on text[],
            flag_data            jsonb
        ) ON COMMIT DELETE ROWS
        """;

    private const string TruncateStageSql = "TRUNCATE pg_temp.lead_bulk_stage";

    private const string CopySql = """
        COPY pg_temp.lead_bulk_stage (id, email, email_norm, first_name, last_name, phone, phone_e164, company, score, metadata,
                                      duplicate_of, duplicate_matched_on, flag_data)
        FROM STDIN (FORMAT BINARY)
        """;

    // One created_at for the batch, taken when the statement starts (after the caller's locks were granted), so
    // batches stay in commit order; within a batch the time-ordered IDs keep file order for "oldest" ties.
    private const string InsertSql = """
        INSERT INTO leads.leads (id, workspace_id, email, email_norm, first_name, last_name, phone, phone_e164, company,
                                 status, score, created_score, source_id, notes, metadata, channel, import_id,
                                 created_actor_type, created_actor_id, created_actor_name, duplicate_of, duplicate_matched_on,
                                 created_at, updated_at)
        SELECT id, @WorkspaceId, email, email_norm, first_name, last_name, phone, phone_e164, company,
               'new', score, score, @SourceId, NULL, metadata, 'import', @ImportId,
               @ActorType, @ActorId, @ActorName, duplicate_of, duplicate_matched_on,
               statement_timestamp(), statement_timestamp()
        FROM pg_temp.lead_bulk_stage
        ORDER BY id
        """;

    private const string FlagEventsSql = """
        INSERT INTO leads.events (id, workspace_id, lead_id, type, data, actor_type, actor_id, actor_name)
        SELECT leads.uuid_v7(), @WorkspaceId, id, 'duplicate_flagged', flag_data, @ActorType, @ActorId, @ActorName
        FROM pg_temp.lead_bulk_stage
        WHERE flag_data IS NOT NULL
        ORDER BY id
        """;

    /// <summary>Inserts the batch; returns the number of leads written.</summary>
    public static async Task<int> InsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, BulkOrigin origin,
        IReadOnlyList<BulkLead> leads, CancellationToken ct)
    {
        if (leads.Count == 0) return 0;
        await conn.ExecuteAsync(new CommandDefinition(CreateStageSql, transaction: tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(TruncateStageSql, transaction: tx, cancellationToken: ct));
        await StageAsync(conn, leads, ct);
        var args = new
        {
            origin.WorkspaceId,
            origin.SourceId,
            origin.ImportId,
            ActorType = origin.Actor.Type,
            ActorId = origin.Actor.Id,
            ActorName = origin.Actor.Name,
        };
        var inserted = await conn.ExecuteAsync(new CommandDefinition(InsertSql, args, tx, cancellationToken: ct));
        if (leads.Any(l => l.Duplicate is not null))
            await conn.ExecuteAsync(new CommandDefinition(FlagEventsSql, args, tx, cancellationToken: ct));
        return inserted;
    }

    private static async Task StageAsync(NpgsqlConnection conn, IReadOnlyList<BulkLead> leads, CancellationToken ct)
    {
        await using var copy = await conn.BeginBinaryImportAsync(CopySql, ct);
        foreach (var b in leads)
        {
            var l = b.Lead;
            await copy.StartRowAsync(ct);
            await copy.WriteAsync(b.Id, NpgsqlDbType.Uuid, ct);
            await WriteTextAsync(copy, l.Email, ct);
            await WriteTextAsync(copy, l.EmailNorm, ct);
            await WriteTextAsync(copy, l.FirstName, ct);
            await WriteTextAsync(copy, l.LastName, ct);
            await WriteTextAsync(copy, l.Phone, ct);
            await WriteTextAsync(copy, l.PhoneE164, ct);
            await WriteTextAsync(copy, l.Company, ct);
            await copy.WriteAsync((short)b.Score, NpgsqlDbType.Smallint, ct);
            await copy.WriteAsync(l.MetadataJson, NpgsqlDbType.Jsonb, ct);
            if (b.Duplicate is { } d)
            {
                await copy.WriteAsync(d.PrimaryId, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(d.MatchedOn, NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
                await copy.WriteAsync(FlagData(d), NpgsqlDbType.Jsonb, ct);
            }
            else
            {
                await copy.WriteNullAsync(ct);
                await copy.WriteNullAsync(ct);
                await copy.WriteNullAsync(ct);
            }
        }
        await copy.CompleteAsync(ct);
    }

    /// <summary>The <c>duplicate_flagged</c> event data, serialised exactly as single intake writes it.</summary>
    private static string FlagData(DuplicateMatch d) =>
        JsonSerializer.Serialize(LeadEvents.DuplicateFlaggedData(d), JsonConventions.Options);

    private static async ValueTask WriteTextAsync(NpgsqlBinaryImporter copy, string? value, CancellationToken ct)
    {
        if (value is null) await copy.WriteNullAsync(ct);
        else await copy.WriteAsync(value, NpgsqlDbType.Text, ct);
    }
}
