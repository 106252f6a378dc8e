using Npgsql;

namespace Modules.Leads.Public;

/// <summary>The match keys of one lead of a bulk batch (its ID is the one it will be inserted with).</summary>
public readonly record struct BulkMatchKeys(Guid Id, string? EmailNorm, string? PhoneE164);

/// <summary>
/// Set-based duplicate detection for <see cref="LeadIntake.WriteBatchAsync"/> batches, implemented by the Duplicates module
/// (which owns the matching policy). For a batch in intake order it returns, per lead, the flag that single
/// intake (<see cref="IDuplicateDetector"/>) would have given it had the leads arrived one at a time in that
/// order: matched against existing leads and against the batch's earlier leads.
/// </summary>
public interface IBulkDuplicateDetector
{
    /// <summary>
    /// Serialises the caller's transaction against every other intake into the workspace (held until commit):
    /// single intake takes the same lock shared, so it waits while a batch is detected and inserted.
    /// </summary>
    Task LockWorkspaceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, CancellationToken ct);

    /// <param name="skipDuplicates">Flagged leads will not be written, so later leads of the batch must not match them.</param>
    /// <param name="unwrittenKeys">
    /// Match keys (<c>e:</c>email or <c>p:</c>phone) of earlier leads the caller took in without writing them (a dry
    /// run's earlier batches); a lead matching one is flagged with an empty primary ID.
    /// </param>
    Task<DuplicateMatch?[]> DetectAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid workspaceId,
        IReadOnlyList<BulkMatchKeys> leads, bool skipDuplicates, IReadOnlySet<string>? unwrittenKeys, CancellationToken ct);

    /// <summary>
    /// Records the groups of the flagged leads of a batch just inserted (their rows already carry the list's flag), in the
    /// batch's transaction: one statement whatever their number.
    /// </summary>
    Task RecordGroupsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, IReadOnlyList<(Guid LeadId, DuplicateMatch Match)> flagged,
        CancellationToken ct);
}
