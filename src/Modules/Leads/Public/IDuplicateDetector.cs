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
    /// The Duplicates module's group row for a lead single intake flags, as one more common table expression of intake's
    /// insert statement (so a repeat costs no extra round trip). Starts with <c>, name AS (</c>; uses the insert's
    /// parameters <c>@Id</c>, <c>@WorkspaceId</c>, <c>@DuplicateOf</c> (null: nothing is written) and <c>@MatchedOn</c>.
    /// </summary>
    string GroupMemberCte { get; }

    /// <summary>
    /// Regroups an edited lead whose match keys changed (spec §9): decides the primary it should hang under (null: it
    /// should be a primary) and records the change — the group truth and the list's flag — in the edit's transaction
    /// (a primary joining an older group brings its own duplicates along). Called with the lead locked and its new keys;
    /// answers the match, for the caller's events.
    /// </summary>
    Task<DuplicateMatch?> RedetectAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, EditedLeadKeys lead, CancellationToken ct);

    /// <summary>
    /// The same locks and look as <see cref="DetectAsync"/>, for new leads written by one statement in one round trip
    /// (single intake's fast path: a group commit's batch, which keeps leads sharing a match key apart, or one lead
    /// alone): <see cref="NewLeadGuard.LockSql"/>, run first in the write's transaction, takes every lead's locks —
    /// each workspace's intake lock shared, the key locks — in one global order consistent with <see cref="DetectAsync"/>'s,
    /// so that batches, single intakes and edits cannot deadlock; <see cref="NewLeadGuard.NoMatchSql"/> is a predicate
    /// over the batch's row, aliased <c>b</c> with columns <c>workspace_id</c>, <c>email_norm</c> and <c>phone_e164</c>,
    /// evaluated by a later statement of that transaction (so after the locks), true when that lead matches no existing
    /// lead and its locks were taken — then <see cref="DetectAsync"/> would return null. A workspace whose intake lock a
    /// bulk write holds is skipped rather than waited for, and its leads fail the predicate. A lead whose predicate is
    /// false must not be written: the caller runs the ordinary path for it in a new transaction (which then waits).
    /// </summary>
    NewLeadGuard GuardNewLeads(IReadOnlyList<NewLeadKeys> leads);
}

/// <summary>A new lead's workspace and match keys (normalised email, E.164 phone), for <see cref="IDuplicateDetector.GuardNewLeads"/>.</summary>
public readonly record struct NewLeadKeys(Guid WorkspaceId, string? EmailNorm, string? PhoneE164);

/// <summary>
/// SQL the duplicate detector contributes to a one-round-trip intake: a statement taking its locks, a predicate that the
/// lead matches nobody, and their parameters (names prefixed <c>Dup</c>). The texts are the same for every batch, so
/// they are prepared once per connection.
/// </summary>
public sealed record NewLeadGuard(string LockSql, string NoMatchSql, IReadOnlyDictionary<string, object?> Parameters);

/// <summary>An edited lead's identity, age, new match keys and current group link.</summary>
public sealed record EditedLeadKeys(Guid Id, DateTime CreatedAt, string? EmailNorm, string? PhoneE164, Guid? DuplicateOf);
