using Npgsql;

namespace Modules.Leads.Public;

/// <summary>The group primary a new lead duplicates, and which match keys matched (<c>email</c>, <c>phone</c>).</summary>
public sealed record DuplicateMatch(Guid PrimaryId, string[] MatchedOn);

/// <summary>
/// Implemented by the Duplicates module, which owns the matching policy. Intake calls it inside its
/// transaction just before inserting the lead; the detector takes whatever locks make concurrent intake of
/// the same person safe (held until commit) and returns the primary to flag the new lead against, if any.
/// </summary>
public interface IDuplicateDetector
{
    Task<DuplicateMatch?> DetectAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId,
        string? emailNorm, string? phoneE164, CancellationToken ct);
}
