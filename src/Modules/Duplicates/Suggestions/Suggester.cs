using Dapper;
using Npgsql;

namespace Modules.Duplicates.Suggestions;

/// <summary>
/// Spec §10 suggestions: leads that are probably the same person as a given lead but share neither match key (or share
/// one only in a form detection does not compare), best first. Five bounded index probes (migrations 0072, 0073) gather candidates;
/// each candidate is scored by <see cref="Score"/>. Nothing is written. Rules and weights: README.md ("Suggestions").
/// </summary>
internal static class Suggester
{
    public const int Max = 10;

    // The probes, each bounded, gather candidate IDs; the lead itself, its group and the leads dismissed against it are
    // then left out and the rest scored. Name probes use leads_suggest_name_company_idx (migration 0073), the others the
    // indexes of 0072; every expression here must stay identical to its index's. Same full name and:
    //  1. the same company key — an equality range of the index, so every such lead is found however common the name
    //     (the 50 oldest of at most 1,000: they all score alike and ties go to the oldest);
    //  2. another company key — the first 1,000 of the name's range with a company, ranked by pg_trgm similarity of the
    //     company keys, the best 50 at ≥ 0.3 (below that the pair is never suggested);
    //  3. a company missing on either side (weak evidence, 0.5) — the first 50 in index order (the lead has none: the
    //     whole name range; it has one: the range's null-key end, an index condition), so a common name costs 50 rows.
    // Then 4. the email's local part and 5. the phone's last ten digits, at most 200 each.
    private const string CandidatesSql = """
        WITH me AS (
            SELECT id, workspace_id, first_name, last_name, leads.company_key(company) AS company_key, email_norm, phone_e164, phone_digits,
                   coalesce(duplicate_of, id) AS grp
            FROM leads.v_lead_match_fields WHERE id = @Id AND workspace_id = @WorkspaceId),
        ids AS (
            (SELECT r.id FROM (
                SELECT c.id, c.created_at FROM leads.v_lead_match_fields c, me
                WHERE me.first_name IS NOT NULL AND me.last_name IS NOT NULL AND c.first_name IS NOT NULL AND c.last_name IS NOT NULL
                  AND c.workspace_id = me.workspace_id AND lower(c.last_name) = lower(me.last_name) AND lower(c.first_name) = lower(me.first_name)
                  AND leads.company_key(c.company) = me.company_key
                LIMIT 1000) r
             ORDER BY r.created_at LIMIT 50)
            UNION
            (SELECT r.id FROM (
                SELECT c.id, c.created_at, leads.company_key(c.company) AS company_key, me.company_key AS my_key
                FROM leads.v_lead_match_fields c, me
                WHERE me.first_name IS NOT NULL AND me.last_name IS NOT NULL AND c.first_name IS NOT NULL AND c.last_name IS NOT NULL
                  AND c.workspace_id = me.workspace_id AND lower(c.last_name) = lower(me.last_name) AND lower(c.first_name) = lower(me.first_name)
                  AND me.company_key IS NOT NULL AND leads.company_key(c.company) IS NOT NULL
                LIMIT 1000) r
             CROSS JOIN LATERAL (SELECT similarity(r.company_key, r.my_key) AS sim) t
             WHERE r.company_key <> r.my_key AND t.sim >= 0.3 ORDER BY t.sim DESC, r.created_at LIMIT 50)
            UNION
            (SELECT c.id FROM leads.v_lead_match_fields c, me
             WHERE me.first_name IS NOT NULL AND me.last_name IS NOT NULL AND c.first_name IS NOT NULL AND c.last_name IS NOT NULL
               AND c.workspace_id = me.workspace_id AND lower(c.last_name) = lower(me.last_name) AND lower(c.first_name) = lower(me.first_name)
               AND me.company_key IS NULL
             LIMIT 50)
            UNION
            (SELECT c.id FROM leads.v_lead_match_fields c, me
             WHERE me.first_name IS NOT NULL AND me.last_name IS NOT NULL AND c.first_name IS NOT NULL AND c.last_name IS NOT NULL
               AND c.workspace_id = me.workspace_id AND lower(c.last_name) = lower(me.last_name) AND lower(c.first_name) = lower(me.first_name)
               AND me.company_key IS NOT NULL AND leads.company_key(c.company) IS NULL
             LIMIT 50)
            UNION
            (SELECT c.id FROM leads.v_lead_match_fields c, me
             WHERE me.email_norm IS NOT NULL AND c.email_norm IS NOT NULL AND c.workspace_id = me.workspace_id
               AND split_part(split_part(c.email_norm, '@', 1), '+', 1) = split_part(split_part(me.email_norm, '@', 1), '+', 1)
             LIMIT 200)
            UNION
            (SELECT c.id FROM leads.v_lead_match_fields c, me
             WHERE length(me.phone_digits) >= 7 AND length(c.phone_digits) >= 7 AND c.workspace_id = me.workspace_id
               AND right(c.phone_digits, 10) = right(me.phone_digits, 10)
             LIMIT 200))
        SELECT c.id, c.created_at,
               lower(c.first_name) = lower(me.first_name) AND lower(c.last_name) = lower(me.last_name) AS same_name,
               k.company_key IS NOT NULL AND me.company_key IS NOT NULL AS both_companies,
               coalesce(similarity(k.company_key, me.company_key), 0)::float8 AS company_similarity,
               coalesce(split_part(split_part(c.email_norm, '@', 1), '+', 1) = split_part(split_part(me.email_norm, '@', 1), '+', 1)
                        AND split_part(c.email_norm, '@', 2) <> split_part(me.email_norm, '@', 2), false) AS same_local_part,
               coalesce(char_length(split_part(split_part(me.email_norm, '@', 1), '+', 1)) >= 3, false) AS local_part_long_enough,
               coalesce(lower(c.last_name) = lower(me.last_name), false) AS same_last_name,
               coalesce(right(c.phone_digits, 10) = right(me.phone_digits, 10) AND c.phone_e164 IS DISTINCT FROM me.phone_e164
                        AND length(c.phone_digits) >= 7, false) AS same_phone_digits
        FROM ids JOIN leads.v_lead_match_fields c ON c.id = ids.id
        CROSS JOIN me
        CROSS JOIN LATERAL (SELECT leads.company_key(c.company) AS company_key) k
        WHERE c.id <> me.id AND coalesce(c.duplicate_of, c.id) <> me.grp
          AND NOT EXISTS (SELECT 1 FROM duplicates.dismissed_pairs dp
                          WHERE (dp.lead_a = c.id AND dp.lead_b = me.id) OR (dp.lead_a = me.id AND dp.lead_b = c.id))
        """;

    internal sealed class Candidate
    {
        public Guid Id { get; init; }
        public DateTime CreatedAt { get; init; }
        public bool? SameName { get; init; }
        public bool BothCompanies { get; init; }
        public double CompanySimilarity { get; init; }
        public bool SameLocalPart { get; init; }
        public bool LocalPartLongEnough { get; init; }
        public bool SameLastName { get; init; }
        public bool SamePhoneDigits { get; init; }
    }

    public sealed record Suggestion(Guid Id, double Confidence, string[] Reasons);

    public static async Task<List<Suggestion>> SuggestAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct)
    {
        var candidates = await conn.QueryAsync<Candidate>(new CommandDefinition(CandidatesSql, new { Id = id, WorkspaceId = workspaceId }, cancellationToken: ct));
        return [.. candidates
            .Select(c => (c, s: Score(c)))
            .Where(x => x.s is not null)
            .OrderByDescending(x => x.s!.Confidence).ThenBy(x => x.c.CreatedAt).ThenBy(x => x.c.Id)
            .Take(Max)
            .Select(x => x.s!)];
    }

    /// <summary>The rules (README.md "Suggestions"); null when no rule holds.</summary>
    internal static Suggestion? Score(Candidate c)
    {
        var parts = new List<(string Reason, double Confidence)>(3);
        if (c.SameName == true)
        {
            if (!c.BothCompanies) parts.Add(("same_name", 0.5));
            else if (c.CompanySimilarity >= 0.3) parts.Add(("same_name_similar_company", 0.55 + 0.4 * c.CompanySimilarity));
        }
        if (c.SameLocalPart && c.LocalPartLongEnough && c.SameLastName) parts.Add(("same_email_local_part", 0.8));
        if (c.SamePhoneDigits) parts.Add(("same_phone_digits", 0.75));
        if (parts.Count == 0) return null;
        var miss = parts.Aggregate(1.0, (m, p) => m * (1 - p.Confidence));
        return new Suggestion(c.Id, Math.Round(Math.Min(0.99, 1 - miss), 2), [.. parts.Select(p => p.Reason)]);
    }
}
