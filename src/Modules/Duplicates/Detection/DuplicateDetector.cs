using Dapper;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Duplicates.Detection;

/// <summary>
/// The matching policy (spec §4): a new lead whose normalised email or E.164 phone equals an existing
/// lead's is flagged against the primary of that lead's group — the oldest primary among the matches.
///
/// Race safety: before looking, the intake transaction takes a transaction-scoped advisory lock per match
/// key (workspace + key, in a fixed order). A concurrent intake of the same person waits on the same lock
/// until the first commits, and its statement snapshot then sees the first lead — so two unflagged leads
/// for one person cannot both commit. Before those, it takes the workspace's intake lock shared, so it waits
/// while a CSV import batch (which takes it exclusively, see <see cref="BulkDuplicateDetector"/>) is detected and
/// inserted; the locks and the first look at the matches are one round trip. The chosen primary is locked FOR KEY
/// SHARE so a concurrent delete or merge of it finishes first; if it vanished we look again.
/// </summary>
internal sealed class DuplicateDetector : IDuplicateDetector
{
    /// <inheritdoc />
    public string GroupMemberCte => Groups.GroupMembers.IntakeCte;

    private const string MatchesSql = """
        SELECT id, email_norm, phone_e164, duplicate_of
        FROM leads.v_leads
        WHERE workspace_id = @WorkspaceId
          AND ((@Email::text IS NOT NULL AND email_norm = @Email) OR (@Phone::text IS NOT NULL AND phone_e164 = @Phone))
        """;

    // The workspace's intake lock (shared) and the key locks (sorted; a null key takes none, the functions are strict),
    // left to right, then the matches — two statements in one round trip. The second statement takes its snapshot
    // after the first has returned (READ COMMITTED: one snapshot per statement), so it sees a same-person intake that
    // held a key lock before us and committed.
    private static readonly string LockThenMatchesSql = $"""
        SELECT pg_advisory_xact_lock_shared(hashtextextended(@IntakeKey, 0)),
               pg_advisory_xact_lock(hashtextextended(@Key1, 0)),
               pg_advisory_xact_lock(hashtextextended(@Key2, 0));
        {MatchesSql}
        """;

    // Single intake's fast-path guard (IDuplicateDetector.GuardNewLeads: a group commit's batch, or one lead alone). One
    // row per lock, in array order (the subquery, kept apart by OFFSET 0, scans unnest in order and computes each row's
    // lock once), sorted ordinally by the caller: a
    // workspace's intake lock key is a prefix of its key locks' keys, so every transaction takes its locks in one
    // global order (that of DetectAsync for one lead) and waits can form no cycle. A workspace's intake lock is only
    // TRIED: while an import chunk of that workspace holds it exclusively (seconds), its leads of the batch get no
    // locks and take the ordinary path, which waits for the chunk as before, instead of holding up the batch's other
    // workspaces. The workspaces locked are left in a transaction-local setting for the guard's predicate; a key
    // lock is taken (waiting) only under its workspace's lock.
    private const string BatchLockSql = """
        SELECT set_config('duplicates.intake_locked', coalesce(string_agg(ws, ',') FILTER (WHERE s AND locked), ''), true)
        FROM (SELECT ws, s,
                     CASE WHEN s THEN pg_try_advisory_xact_lock_shared(hashtextextended(k, 0))
                          WHEN pg_try_advisory_xact_lock_shared(hashtextextended(scope, 0))
                          THEN (SELECT true FROM pg_advisory_xact_lock(hashtextextended(k, 0)))
                          ELSE false END AS locked
              FROM unnest(@DupLockKeys::text[], @DupLockShared::boolean[], @DupLockScopes::text[], @DupLockWorkspaces::text[]) AS u(k, s, scope, ws)
              OFFSET 0) x
        """;

    // A lead without keys needs no lock; one with keys, its workspace's and its own, then two anti-joins rather than
    // one OR, so that each probes its own match-key index.
    private const string BatchNoMatchSql = """
        ((b.email_norm IS NULL AND b.phone_e164 IS NULL)
         OR (b.workspace_id = ANY(string_to_array(current_setting('duplicates.intake_locked', true), ',')::uuid[])
             AND NOT EXISTS (SELECT 1 FROM leads.v_leads v WHERE v.workspace_id = b.workspace_id AND v.email_norm = b.email_norm)
             AND NOT EXISTS (SELECT 1 FROM leads.v_leads v WHERE v.workspace_id = b.workspace_id AND v.phone_e164 = b.phone_e164)))
        """;

    public NewLeadGuard GuardNewLeads(IReadOnlyList<NewLeadKeys> leads)
    {
        var locks = new SortedDictionary<string, Guid>(StringComparer.Ordinal); // lock key → its workspace
        var intakeKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var lead in leads)
        {
            var keys = LockKeys(lead.WorkspaceId, lead.EmailNorm, lead.PhoneE164).ToList();
            if (keys.Count == 0) continue; // no key, no lock (as DetectAsync)
            var intake = WorkspaceIntakeLock.Key(lead.WorkspaceId);
            intakeKeys.Add(intake);
            locks[intake] = lead.WorkspaceId;
            foreach (var key in keys) locks[key] = lead.WorkspaceId;
        }
        return new NewLeadGuard(BatchLockSql, BatchNoMatchSql, new Dictionary<string, object?>
        {
            ["DupLockKeys"] = locks.Keys.ToArray(),
            ["DupLockShared"] = locks.Keys.Select(intakeKeys.Contains).ToArray(),
            ["DupLockScopes"] = locks.Values.Select(WorkspaceIntakeLock.Key).ToArray(),
            ["DupLockWorkspaces"] = locks.Values.Select(w => w.ToString()).ToArray(),
        });
    }

    private const string OldestLivePrimarySql = """
        SELECT id FROM leads.v_leads
        WHERE id = ANY(@Ids) AND duplicate_of IS NULL
        ORDER BY created_at, id
        LIMIT 1
        FOR KEY SHARE
        """;

    private sealed record Match(Guid Id, string? EmailNorm, string? PhoneE164, Guid? DuplicateOf);

    public async Task<DuplicateMatch?> DetectAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId,
        string? emailNorm, string? phoneE164, CancellationToken ct)
    {
        if (emailNorm is null && phoneE164 is null) return null;
        var matches = await LockThenMatchAsync(conn, tx, workspaceId, emailNorm, phoneE164, ct);

        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (attempt > 0)
                matches = (await conn.QueryAsync<Match>(new CommandDefinition(MatchesSql,
                    new { WorkspaceId = workspaceId, Email = emailNorm, Phone = phoneE164 }, tx, cancellationToken: ct))).AsList();
            if (matches.Count == 0) return null;
            var primaries = await EligiblePrimariesAsync(conn, tx, emailNorm, phoneE164, matches, ct);
            if (primaries.Length == 0) return null; // every group it matches is kept apart by a dismissal (DismissalRule)
            var chosen = await conn.ExecuteScalarAsync<Guid?>(new CommandDefinition(OldestLivePrimarySql, new { Ids = primaries }, tx, cancellationToken: ct));
            if (chosen is not { } primary) continue; // deleted or demoted under us: look again
            var group = matches.Where(m => m.Id == primary || m.DuplicateOf == primary).ToList();
            var matchedOn = new List<string>(2);
            if (emailNorm is not null && group.Any(m => m.EmailNorm == emailNorm)) matchedOn.Add("email");
            if (phoneE164 is not null && group.Any(m => m.PhoneE164 == phoneE164)) matchedOn.Add("phone");
            return new DuplicateMatch(primary, [.. matchedOn]);
        }
        throw new InvalidOperationException("Duplicate group kept changing while flagging a new lead.");
    }

    // The matches' primaries less those a dismissed pair bars (DismissalRule); the pair lookup only runs when the
    // matches span two groups, since one group alone can never be barred.
    private static async Task<Guid[]> EligiblePrimariesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string? emailNorm, string? phoneE164,
        List<Match> matches, CancellationToken ct)
    {
        var matched = matches.Select(m => new DismissalRule.Matched(m.Id, m.EmailNorm, m.PhoneE164, m.DuplicateOf ?? m.Id)).ToList();
        var primaries = matched.Select(m => m.PrimaryId).Distinct().ToArray();
        if (!DismissalRule.SpansGroups(matched)) return primaries;
        var pairs = await DismissedPairs.AmongAsync(conn, tx, DismissalRule.PairLookupIds(matched), ct);
        var barred = DismissalRule.Barred(emailNorm, phoneE164, matched, pairs);
        return [.. primaries.Where(p => !barred.Contains(p))];
    }

    // Takes the intake and key locks and reads the matches in one round trip (see LockThenMatchesSql).
    private static async Task<List<Match>> LockThenMatchAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId,
        string? emailNorm, string? phoneE164, CancellationToken ct)
    {
        var keys = LockKeys(workspaceId, emailNorm, phoneE164).ToList();
        await using var grid = await conn.QueryMultipleAsync(new CommandDefinition(LockThenMatchesSql, new
        {
            IntakeKey = WorkspaceIntakeLock.Key(workspaceId),
            Key1 = keys[0],
            Key2 = keys.Count > 1 ? keys[1] : null,
            WorkspaceId = workspaceId,
            Email = emailNorm,
            Phone = phoneE164,
        }, tx, cancellationToken: ct));
        await grid.ReadAsync();
        return (await grid.ReadAsync<Match>()).AsList();
    }

    // Live primaries among the candidates that are older than the edited lead, oldest first.
    private const string OldestOlderPrimarySql = """
        SELECT id FROM leads.v_leads
        WHERE id = ANY(@Ids) AND duplicate_of IS NULL AND (created_at, id) < (@CreatedAt, @LeadId)
        ORDER BY created_at, id
        LIMIT 1
        FOR KEY SHARE
        """;

    /// <summary>
    /// Spec §9. A duplicate stays in its group while one of its new keys still equals a key of the group (its
    /// primary or a sibling). Otherwise — and for a lead that is a primary — it joins the group of the oldest live
    /// primary among its matches that is older than itself (an edit never pulls an older lead under a younger one), or
    /// stands alone as a primary. Same locks as intake, so an edit and an intake of the same person serialise.
    /// </summary>
    public async Task<DuplicateMatch?> RedetectAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, EditedLeadKeys lead, CancellationToken ct)
    {
        var match = await DecideAsync(conn, tx, workspaceId, lead, ct);
        if (match?.PrimaryId == lead.DuplicateOf)
        {
            if (match is not null) await Groups.GroupMembers.SetMatchedOnAsync(conn, tx, lead.Id, match.MatchedOn, ct); // the reason may have changed
            return match;
        }
        await Groups.GroupMembers.SetAsync(conn, tx, workspaceId, lead.Id, match?.PrimaryId, match?.MatchedOn, ct);
        // A primary that joins an older group brings its own duplicates along: groups stay one level deep.
        if (match is not null && lead.DuplicateOf is null) await Groups.GroupMembers.RepointAsync(conn, tx, workspaceId, lead.Id, match.PrimaryId, ct);
        return match;
    }

    private async Task<DuplicateMatch?> DecideAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, EditedLeadKeys lead, CancellationToken ct)
    {
        if (lead.EmailNorm is null && lead.PhoneE164 is null) return null;
        var all = await LockThenMatchAsync(conn, tx, workspaceId, lead.EmailNorm, lead.PhoneE164, ct);
        var dismissed = await DismissedPairs.PartnersAsync(conn, tx, lead.Id, ct);
        var matches = all.Where(m => m.Id != lead.Id && !dismissed.Contains(m.Id)).ToList();
        if (lead.DuplicateOf is { } current && !dismissed.Contains(current) && GroupMatch(lead, matches, current) is { } stays)
            return stays;

        var primaries = matches.Select(m => m.DuplicateOf ?? m.Id).Where(p => p != lead.Id && !dismissed.Contains(p)).Distinct().ToArray();
        if (primaries.Length == 0) return null;
        var chosen = await conn.ExecuteScalarAsync<Guid?>(new CommandDefinition(OldestOlderPrimarySql,
            new { Ids = primaries, lead.CreatedAt, LeadId = lead.Id }, tx, cancellationToken: ct));
        return chosen is { } primary ? GroupMatch(lead, matches, primary) : null;
    }

    private static DuplicateMatch? GroupMatch(EditedLeadKeys lead, List<Match> matches, Guid primary)
    {
        var group = matches.Where(m => m.Id == primary || m.DuplicateOf == primary).ToList();
        var matchedOn = new List<string>(2);
        if (lead.EmailNorm is not null && group.Any(m => m.EmailNorm == lead.EmailNorm)) matchedOn.Add("email");
        if (lead.PhoneE164 is not null && group.Any(m => m.PhoneE164 == lead.PhoneE164)) matchedOn.Add("phone");
        return matchedOn.Count == 0 ? null : new DuplicateMatch(primary, [.. matchedOn]);
    }

    /// <summary>One lock key per match key, sorted, so every transaction takes them in the same order.</summary>
    internal static IEnumerable<string> LockKeys(Guid workspaceId, string? emailNorm, string? phoneE164)
    {
        var keys = new List<string>(2);
        if (emailNorm is not null) keys.Add($"dup:{workspaceId:N}:e:{emailNorm}");
        if (phoneE164 is not null) keys.Add($"dup:{workspaceId:N}:p:{phoneE164}");
        keys.Sort(StringComparer.Ordinal);
        return keys;
    }
}
