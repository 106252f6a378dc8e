using Npgsql;

namespace Modules.Duplicates.Detection;

/// <summary>
/// The seam for spec §10's dismissed pairs ("not a duplicate", issue #12): the leads a lead was dismissed against,
/// which detection must never flag it against again. Edit re-detection (<see cref="DuplicateDetector.RedetectAsync"/>)
/// already leaves them out of its matches and candidate primaries; nothing stores a dismissal yet, so the set is empty.
/// When §10 lands, this reads the Duplicates module's dismissed-pairs table (and intake detection calls it too).
/// </summary>
internal static class DismissedPairs
{
    private static readonly IReadOnlySet<Guid> None = new HashSet<Guid>();

    public static Task<IReadOnlySet<Guid>> PartnersAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid leadId, CancellationToken ct) =>
        Task.FromResult(None);
}
