using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Duplicates;

/// <summary>Database invariants of duplicate groups and merges, checked after every race.</summary>
public static class Invariants
{
    public static async Task AssertAsync(ApiFactory api, TestWorkspace ws)
    {
        await using var db = await api.OpenDbAsync();
        // No lead is both merged away and live.
        (await db.ExecuteScalarAsync<long>("""
            SELECT count(*) FROM leads.merged_leads m JOIN leads.leads l ON l.id = m.id WHERE m.workspace_id = @Id
            """, new { ws.Id })).ShouldBe(0, "a lead is both merged and live");
        // Every tombstone points at a live lead (no chains to dead ends).
        (await db.ExecuteScalarAsync<long>("""
            SELECT count(*) FROM leads.merged_leads m LEFT JOIN leads.leads l ON l.id = m.merged_into
            WHERE m.workspace_id = @Id AND l.id IS NULL AND NOT EXISTS (SELECT 1 FROM leads.merged_leads x WHERE x.id = m.merged_into)
            """, new { ws.Id })).ShouldBe(0, "a tombstone points nowhere");
        // Groups (the truth: duplicates.group_members) are one level deep and acyclic: a duplicate's primary is a primary.
        (await db.ExecuteScalarAsync<long>("""
            SELECT count(*) FROM duplicates.group_members d JOIN duplicates.group_members p ON p.lead_id = d.primary_id
            WHERE d.workspace_id = @Id
            """, new { ws.Id })).ShouldBe(0, "a duplicate points at a duplicate");
        // No lead hangs under a lead it was dismissed against (spec §10).
        (await db.ExecuteScalarAsync<long>("""
            SELECT count(*) FROM duplicates.dismissed_pairs dp
            JOIN duplicates.group_members g ON (g.lead_id = dp.lead_a AND g.primary_id = dp.lead_b) OR (g.lead_id = dp.lead_b AND g.primary_id = dp.lead_a)
            WHERE dp.workspace_id = @Id
            """, new { ws.Id })).ShouldBe(0, "a dismissed pair is flagged again");
        await AssertFlagCopyAsync(api, ws);
        // Every merge record (spec §10) is of a lead that is merged away now, whose events are still kept.
        (await db.ExecuteScalarAsync<long>("""
            SELECT count(*) FROM duplicates.merges m
            WHERE m.workspace_id = @Id AND NOT EXISTS (SELECT 1 FROM leads.merged_leads t WHERE t.id = m.merged_lead_id)
            """, new { ws.Id })).ShouldBe(0, "a merge record of a lead that is not merged away");
        // Every event is on a live lead's timeline: written for a live lead, or for one merged into a live lead.
        // Events have no foreign key (merges leave them keyed by the merged-away lead), so deletes must take them.
        (await db.ExecuteScalarAsync<long>("""
            SELECT count(*) FROM leads.events e
            WHERE e.workspace_id = @Id
              AND NOT EXISTS (SELECT 1 FROM leads.leads l WHERE l.id = e.lead_id)
              AND NOT EXISTS (SELECT 1 FROM leads.merged_leads m JOIN leads.leads l ON l.id = m.merged_into WHERE m.id = e.lead_id)
            """, new { ws.Id })).ShouldBe(0, "an event is on no live lead's timeline (orphan)");
        // Counters agree with the rows.
        (await db.ExecuteScalarAsync<long>("SELECT coalesce(sum(n), 0) FROM leads.lead_counts WHERE workspace_id = @Id", new { ws.Id }))
            .ShouldBe(await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id", new { ws.Id }));
    }

    /// <summary>
    /// The list's flag (<c>leads.leads.duplicate_of</c>) is an exact copy of the group truth (<c>duplicates.group_members</c>):
    /// every flagged lead has its membership row with the same primary, every membership row is of a live lead of the
    /// workspace flagged with that primary, and every primary is live.
    /// </summary>
    public static async Task AssertFlagCopyAsync(ApiFactory api, TestWorkspace ws)
    {
        await using var db = await api.OpenDbAsync();
        var diff = (await db.QueryAsync<string>("""
            SELECT coalesce(l.id, g.lead_id)::text || ' flag=' || coalesce(l.duplicate_of::text, '-') || ' truth=' || coalesce(g.primary_id::text, '-')
            FROM (SELECT id, duplicate_of FROM leads.leads WHERE workspace_id = @Id AND duplicate_of IS NOT NULL) l
            FULL JOIN (SELECT lead_id, primary_id FROM duplicates.group_members WHERE workspace_id = @Id) g ON g.lead_id = l.id
            WHERE l.duplicate_of IS DISTINCT FROM g.primary_id
            UNION ALL
            SELECT g.lead_id::text || ' member of another workspace or a dead primary'
            FROM duplicates.group_members g LEFT JOIN leads.leads p ON p.id = g.primary_id AND p.workspace_id = g.workspace_id
            JOIN leads.leads d ON d.id = g.lead_id
            WHERE g.workspace_id = @Id AND (p.id IS NULL OR d.workspace_id <> g.workspace_id)
            """, new { ws.Id })).ToList();
        diff.ShouldBeEmpty("the list's duplicate flag differs from the group truth");
    }

    /// <summary>
    /// The event rows on the timelines of <paramref name="leadIds"/> (ID → type): each lead's own and those of the
    /// leads merged into it — the test's own statement of what a timeline holds, independent of the service's query.
    /// </summary>
    public static async Task<Dictionary<Guid, string>> TimelineEventsAsync(ApiFactory api, params Guid[] leadIds)
    {
        await using var db = await api.OpenDbAsync();
        return (await db.QueryAsync<(Guid Id, string Type)>("""
            SELECT e.id, e.type FROM leads.events e
            WHERE e.lead_id = ANY(@Ids) OR e.lead_id IN (SELECT m.id FROM leads.merged_leads m WHERE m.merged_into = ANY(@Ids))
            """, new { Ids = leadIds })).ToDictionary(r => r.Id, r => r.Type);
    }

    /// <summary>Every row of the workspace's leads, events, tag links and tombstones, as text.</summary>
    public static async Task<string> SnapshotAsync(ApiFactory api, TestWorkspace ws)
    {
        await using var db = await api.OpenDbAsync();
        var rows = await db.QueryAsync<string>("""
            SELECT 'l' || row_to_json(l)::text FROM leads.leads l WHERE workspace_id = @Id
            UNION ALL SELECT 'e' || row_to_json(e)::text FROM leads.events e WHERE workspace_id = @Id
            UNION ALL SELECT 't' || row_to_json(t)::text FROM tags.lead_tags t WHERE workspace_id = @Id
            UNION ALL SELECT 'm' || row_to_json(m)::text FROM leads.merged_leads m WHERE workspace_id = @Id
            UNION ALL SELECT 'c' || row_to_json(c)::text FROM leads.lead_counts c WHERE workspace_id = @Id
            ORDER BY 1
            """, new { ws.Id });
        return string.Join("\n", rows);
    }
}
