using Dapper;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Duplicates.Detection;

/// <summary>
/// The matching policy of <see cref="DuplicateDetector"/> applied to a whole batch at once: one query fetches
/// every existing lead sharing a key with the batch (and the age rank of their groups' primaries), then the
/// batch is walked in intake order in memory, each lead seeing the existing leads plus the batch's earlier
/// leads — exactly what one-at-a-time intake would have seen, without a round trip per lead.
/// Race safety comes from <see cref="LockWorkspaceAsync"/>: single intake takes the same lock shared.
/// </summary>
internal sealed class BulkDuplicateDetector : IBulkDuplicateDetector
{
    // rank orders live primaries by (created_at, id) as single intake does; null marks a group head that is no
    // longer a primary (single intake skips those too).
    private const string ExistingSql = """
        WITH m AS (
            SELECT id, email_norm, phone_e164, duplicate_of
            FROM leads.v_leads
            WHERE workspace_id = @WorkspaceId AND email_norm = ANY(@Emails)
            UNION
            SELECT id, email_norm, phone_e164, duplicate_of
            FROM leads.v_leads
            WHERE workspace_id = @WorkspaceId AND phone_e164 = ANY(@Phones)
        ),
        heads AS (
            SELECT p.id, row_number() OVER (ORDER BY p.created_at, p.id) AS rank
            FROM leads.v_leads p
            WHERE p.id IN (SELECT coalesce(duplicate_of, id) FROM m) AND p.duplicate_of IS NULL
        )
        SELECT m.id, m.email_norm, m.phone_e164, coalesce(m.duplicate_of, m.id) AS primary_id, heads.rank
        FROM m LEFT JOIN heads ON heads.id = coalesce(m.duplicate_of, m.id)
        """;

    private sealed record Existing(Guid Id, string? EmailNorm, string? PhoneE164, Guid PrimaryId, long? Rank);

    // A lead a later one can match: its keys, its group's primary and that primary's age rank (null: not eligible).
    private sealed record Member(Guid Id, string? EmailNorm, string? PhoneE164, Guid PrimaryId, long? Rank);

    private static readonly IReadOnlySet<(Guid, Guid)> NoPairs = new HashSet<(Guid, Guid)>();

    public Task RecordGroupsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, IReadOnlyList<(Guid LeadId, DuplicateMatch Match)> flagged,
        CancellationToken ct) => Groups.GroupMembers.RecordBatchAsync(conn, tx, workspaceId, flagged, ct);

    public Task LockWorkspaceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, CancellationToken ct) =>
        WorkspaceIntakeLock.ExclusiveAsync(conn, tx, workspaceId, ct);

    public async Task<DuplicateMatch?[]> DetectAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid workspaceId,
        IReadOnlyList<BulkMatchKeys> leads, bool skipDuplicates, IReadOnlySet<string>? unwrittenKeys, CancellationToken ct)
    {
        var emails = leads.Where(l => l.EmailNorm is not null).Select(l => l.EmailNorm!).Distinct().ToArray();
        var phones = leads.Where(l => l.PhoneE164 is not null).Select(l => l.PhoneE164!).Distinct().ToArray();
        var results = new DuplicateMatch?[leads.Count];
        if (emails.Length == 0 && phones.Length == 0) return results;

        var existing = (await conn.QueryAsync<Existing>(new CommandDefinition(ExistingSql,
            new { WorkspaceId = workspaceId, Emails = emails, Phones = phones }, tx, cancellationToken: ct))).AsList();
        var byEmail = new Dictionary<string, List<Member>>(StringComparer.Ordinal);
        var byPhone = new Dictionary<string, List<Member>>(StringComparer.Ordinal);
        foreach (var e in existing) Add(byEmail, byPhone, new Member(e.Id, e.EmailNorm, e.PhoneE164, e.PrimaryId, e.Rank));
        // Dismissed pairs among the existing leads the batch touches (the batch's own leads are new: in no pair), one query.
        var pairs = existing.Count == 0 ? NoPairs : await DismissedPairs.AmongAsync(conn, tx,
            DismissalRule.PairLookupIds(existing.Select(e => new DismissalRule.Matched(e.Id, e.EmailNorm, e.PhoneE164, e.PrimaryId))), ct);

        // Earlier leads the caller did not write rank before everything (they would be the oldest primaries).
        var unwritten = new Member(Guid.Empty, null, null, Guid.Empty, 0);
        // Batch leads that become primaries rank after every existing lead, in batch order.
        var batchRank = long.MaxValue / 2;
        var matches = new List<Member>();
        for (var i = 0; i < leads.Count; i++)
        {
            var (id, email, phone) = leads[i];
            matches.Clear();
            if (email is not null && byEmail.TryGetValue(email, out var me)) matches.AddRange(me);
            if (phone is not null && byPhone.TryGetValue(phone, out var mp)) matches.AddRange(mp);
            if (unwrittenKeys is not null)
            {
                if (email is not null && unwrittenKeys.Contains("e:" + email)) matches.Add(unwritten with { EmailNorm = email });
                if (phone is not null && unwrittenKeys.Contains("p:" + phone)) matches.Add(unwritten with { PhoneE164 = phone });
            }

            var barred = pairs.Count == 0 ? null : DismissalRule.Barred(email, phone,
                matches.Select(m => new DismissalRule.Matched(m.Id, m.EmailNorm, m.PhoneE164, m.PrimaryId)).ToList(), pairs);
            Member? head = null;
            foreach (var m in matches)
                if (m.Rank is { } r && (head is null || r < head.Rank) && barred?.Contains(m.PrimaryId) != true) head = m;
            if (head is null)
            {
                Add(byEmail, byPhone, new Member(id, email, phone, id, batchRank + i));
                continue;
            }
            var group = matches.Where(m => m.PrimaryId == head.PrimaryId).ToList();
            var matchedOn = new List<string>(2);
            if (email is not null && group.Any(m => m.EmailNorm == email)) matchedOn.Add("email");
            if (phone is not null && group.Any(m => m.PhoneE164 == phone)) matchedOn.Add("phone");
            results[i] = new DuplicateMatch(head.PrimaryId, [.. matchedOn]);
            if (!skipDuplicates) Add(byEmail, byPhone, new Member(id, email, phone, head.PrimaryId, head.Rank));
        }
        return results;
    }

    private static void Add(Dictionary<string, List<Member>> byEmail, Dictionary<string, List<Member>> byPhone, Member m)
    {
        if (m.EmailNorm is not null) Bucket(byEmail, m.EmailNorm).Add(m);
        if (m.PhoneE164 is not null) Bucket(byPhone, m.PhoneE164).Add(m);
    }

    private static List<Member> Bucket(Dictionary<string, List<Member>> index, string key)
    {
        if (!index.TryGetValue(key, out var list)) index[key] = list = new List<Member>(1);
        return list;
    }
}
