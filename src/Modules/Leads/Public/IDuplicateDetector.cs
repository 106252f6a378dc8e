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

    /// <summary>
    /// Where an edited lead belongs now that its match keys changed (spec §9): the primary it should hang under, or null
    /// when it should be a primary. Called inside the edit's transaction with the lead locked and its new keys.
    /// </summary>
    Task<DuplicateMatch?> RedetectAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, EditedLeadKeys lead, CancellationToken ct);
}

/// <summary>An edited lead's identity, age, new match keys and current group link.</summary>
public sealed record EditedLeadKeys(Guid Id, DateTime CreatedAt, string? EmailNorm, string? PhoneE164, Guid? DuplicateOf);
