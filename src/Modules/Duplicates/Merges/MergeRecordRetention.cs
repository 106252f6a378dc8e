using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Kernel.Data;
using Npgsql;

namespace Modules.Duplicates.Merges;

/// <summary>
/// Prunes merge records (<c>duplicates.merges</c>) older than <c>Duplicates:MergeRecordRetention</c> (30 days, never less
/// than the 30-day undo window): such a merge can no longer be undone (409 <c>unmerge_expired</c>), and the record's copy
/// of the absorbed lead is the bulk of this module's storage. Nothing else changes: the tombstone keeps answering
/// <c>lead_merged</c> and the absorbed lead's events stay on the survivor's timeline; the merge just leaves
/// <c>GET /api/leads/:id/merges</c>. Deletes go in bounded batches, each its own short transaction, so several nodes
/// running it only share the work; an unmerge racing the prune of its record finds it gone (404, as an expired merge).
/// </summary>
internal sealed class MergeRecordRetention(NpgsqlDataSource db, IConfiguration config, TimeProvider clock)
{
    private const int Batch = 1000;

    private const string PruneSql = """
        DELETE FROM duplicates.merges
        WHERE merged_lead_id = ANY(ARRAY(SELECT merged_lead_id FROM duplicates.merges WHERE merged_at < @Before ORDER BY merged_at LIMIT @Batch))
        """;

    /// <summary>How long a merge record is kept: the setting, but never less than the undo window.</summary>
    public TimeSpan Retention
    {
        get
        {
            var configured = config.GetValue("Duplicates:MergeRecordRetention", MergeRecords.Undoable);
            return configured < MergeRecords.Undoable ? MergeRecords.Undoable : configured;
        }
    }

    /// <summary>Deletes every record older than the retention; answers how many.</summary>
    public Task<long> RunAsync(CancellationToken ct) =>
        BatchedDelete.RepeatAsync(db, PruneSql, new { Before = clock.GetUtcNow().UtcDateTime - Retention, Batch }, Batch, ct);
}

/// <summary>Runs <see cref="MergeRecordRetention"/> every <c>Retention:SweepPeriod</c> on a worker node.</summary>
internal sealed class MergeRecordRetentionLoop(MergeRecordRetention retention, IConfiguration config, ILogger<MergeRecordRetentionLoop> log)
    : RetentionSweepLoop(config, log)
{
    protected override string What => "Merge record retention pass";

    protected override async Task PassAsync(CancellationToken ct)
    {
        if (await retention.RunAsync(ct) is > 0 and var n)
            Log.LogInformation("Retention: {Records} merge records past the undo window deleted", n);
    }
}
