using System.Text.Json;
using Dapper;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Npgsql;
using Modules.Leads.Public;
using NpgsqlTypes;

namespace Modules.Leads.Intake;

/// <summary>
/// The write step for a batch (CSV import, any batch of more than one lead): the workspace's intake lock (exclusive,
/// so single intake waits while the batch is detected and inserted), set-based duplicate detection, then binary COPY
/// into a session-local staging table and one INSERT … SELECT into <c>leads.leads</c>, inside the caller's
/// transaction. Rows end in the same state as single intake leaves them; no per-lead <c>created</c> event row is
/// written (the timeline synthesises it, as for every lead), only <c>duplicate_flagged</c> for flagged rows.
/// </summary>
internal static class BulkInsert
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
            notes                text,
            score                smallint NOT NULL,
            metadata             jsonb    NOT NULL,
            duplicate_of         uuid,
            flag_data            jsonb
        ) ON COMMIT DELETE ROWS
        """;

    private const string TruncateStageSql = "TRUNCATE pg_temp.lead_bulk_stage";

    private const string CopySql = """
        COPY pg_temp.lead_bulk_stage (id, email, email_norm, first_name, last_name, phone, phone_e164, company, notes, score, metadata,
                                      duplicate_of, flag_data)
        FROM STDIN (FORMAT BINARY)
        """;

    // One created_at for the batch, taken when the statement starts (after the caller's locks were granted), so
    // batches stay in commit order; within a batch the time-ordered IDs keep file order for "oldest" ties.
    private const string InsertSql = """
        INSERT INTO leads.leads (id, workspace_id, email, email_norm, first_name, last_name, phone, phone_e164, company,
                                 status, score, created_score, source_id, notes, metadata, channel, import_id,
                                 created_actor_type, created_actor_id, created_actor_name, duplicate_of,
                                 created_at, updated_at)
        SELECT id, @WorkspaceId, email, email_norm, first_name, last_name, phone, phone_e164, company,
               'new', score, score, @SourceId, notes, metadata, @Channel, @ImportId,
               @ActorType, @ActorId, @ActorName, duplicate_of,
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

    private sealed record Row(Guid Id, NormalizedLead Lead, int Score, DuplicateMatch? Duplicate);

    public static async Task<IntakeBatchResult> WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IBulkDuplicateDetector? detector,
        MonotonicUuidV7 ids, IntakeTarget target, NormalizedLead[] leads, int[] scores, IntakeWriteOptions options, CancellationToken ct)
    {
        var keys = new BulkMatchKeys[leads.Length];
        for (var i = 0; i < leads.Length; i++) keys[i] = new BulkMatchKeys(ids.Next(), leads[i].EmailNorm, leads[i].PhoneE164);
        var matches = new DuplicateMatch?[leads.Length];
        if (detector is not null)
        {
            if (!options.DryRun) await detector.LockWorkspaceAsync(conn, tx, target.WorkspaceId, ct);
            matches = await detector.DetectAsync(conn, tx, target.WorkspaceId, keys, options.SkipDuplicates, options.UnwrittenKeys, ct);
        }

        var result = new Guid?[leads.Length];
        var rows = new List<Row>(leads.Length);
        var taken = new List<string>();
        int duplicates = 0, skipped = 0;
        for (var i = 0; i < leads.Length; i++)
        {
            if (matches[i] is not null && options.SkipDuplicates) { skipped++; continue; }
            if (matches[i] is not null) duplicates++;
            result[i] = keys[i].Id;
            rows.Add(new Row(keys[i].Id, leads[i], scores[i], matches[i]));
            if (leads[i].EmailNorm is { } e) taken.Add("e:" + e);
            if (leads[i].PhoneE164 is { } p) taken.Add("p:" + p);
        }
        if (!options.DryRun && rows.Count > 0) await InsertAsync(conn, tx, detector, target, rows, ct);
        return new IntakeBatchResult(result, rows.Count, duplicates, skipped, [.. taken.Distinct(StringComparer.Ordinal)]);
    }

    private static async Task InsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IBulkDuplicateDetector? detector, IntakeTarget target,
        List<Row> rows, CancellationToken ct)
    {
        await conn.ExecuteAsync(new CommandDefinition(CreateStageSql, transaction: tx, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(TruncateStageSql, transaction: tx, cancellationToken: ct));
        await StageAsync(conn, rows, ct);
        var args = new
        {
            target.WorkspaceId,
            target.SourceId,
            target.ImportId,
            target.Channel,
            ActorType = target.Actor.Type,
            ActorId = target.Actor.Id,
            ActorName = target.Actor.Name,
        };
        await conn.ExecuteAsync(new CommandDefinition(InsertSql, args, tx, cancellationToken: ct));
        if (rows.Any(l => l.Duplicate is not null))
        {
            await conn.ExecuteAsync(new CommandDefinition(FlagEventsSql, args, tx, cancellationToken: ct));
            // The group truth (Duplicates' table); the rows just inserted carry the list's flag copy.
            await detector!.RecordGroupsAsync(conn, tx, target.WorkspaceId, [.. rows.Where(r => r.Duplicate is not null).Select(r => (r.Id, r.Duplicate!))], ct);
        }
    }

    private static async Task StageAsync(NpgsqlConnection conn, List<Row> leads, CancellationToken ct)
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
            await WriteTextAsync(copy, l.Notes, ct);
            await copy.WriteAsync((short)b.Score, NpgsqlDbType.Smallint, ct);
            await copy.WriteAsync(l.MetadataJson, NpgsqlDbType.Jsonb, ct);
            if (b.Duplicate is { } d)
            {
                await copy.WriteAsync(d.PrimaryId, NpgsqlDbType.Uuid, ct);
                await copy.WriteAsync(FlagData(d), NpgsqlDbType.Jsonb, ct);
            }
            else
            {
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
