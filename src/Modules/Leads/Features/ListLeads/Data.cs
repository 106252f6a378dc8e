using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;
using NpgsqlTypes;

namespace Modules.Leads.Features.ListLeads;

internal static class Data
{
    /// <summary>
    /// The page statement for this filter. The inner query finds the page's IDs on an index alone (deep pages skip
    /// index entries, not rows); only those rows are then read and joined. The row limit is a literal, rounded up
    /// to <see cref="LimitBucket"/>: a generic plan for <c>LIMIT $n</c> assumes a tenth of the table is wanted and
    /// turns into a sequential scan and sort, while a literal keeps it the index walk it is, and the buckets keep
    /// the prepared statements per connection few (4 per filter combination). Rows past the asked limit are not read.
    /// Page 1 carries no OFFSET at all: a generic plan prices an <c>OFFSET $n</c> as a tenth of the table too, so
    /// PostgreSQL would keep re-planning it.
    /// <para>
    /// With <paramref name="anchored"/>, the walk starts at a remembered lead (<see cref="ListCache"/>) instead of the
    /// first, and with <paramref name="gated"/> the statement returns no rows at all when the workspace changed since
    /// the remembered snapshot — the check and the page share one snapshot, so a page is never combined with a stale
    /// total or position.
    /// </para>
    /// </summary>
    private static string PageSql(LeadFilter f, int limitBucket, bool withOffset, bool anchored = false, bool gated = false) => $"""
        SELECT {LeadListItem.Columns}
        FROM (
            SELECT l.id, l.created_at FROM leads.leads l
            WHERE {f.Where}{(anchored ? "\n  AND (l.created_at, l.id) <= (@AnchorAt, @AnchorId)" : "")}{(gated ? "\n  AND NOT leads.changed_since(@WorkspaceId, @Snapshot::pg_snapshot)" : "")}
            ORDER BY l.created_at DESC, l.id DESC
            LIMIT {limitBucket}{(withOffset ? " OFFSET @Offset" : "")}
        ) p
        JOIN leads.leads l ON l.id = p.id
        LEFT JOIN leads.sources s ON s.id = l.source_id
        LEFT JOIN access.v_members m ON m.id = l.assigned_to
        ORDER BY p.created_at DESC, p.id DESC
        """;

    /// <summary>
    /// A page of remembered IDs (a slice of <see cref="ListCache.Entry.Head"/>), read by primary key in their order, or no
    /// rows at all when the workspace changed since the entry's snapshot. The IDs say which leads and in what order — what
    /// the change log vouches for —, their rows are read now, so a page is as current as any other.
    /// </summary>
    private static readonly string HeadPageSql = $"""
        SELECT {LeadListItem.Columns}
        FROM unnest(@Ids) WITH ORDINALITY AS p(id, n)
        JOIN leads.leads l ON l.id = p.id AND l.workspace_id = @WorkspaceId
        LEFT JOIN leads.sources s ON s.id = l.source_id
        LEFT JOIN access.v_members m ON m.id = l.assigned_to
        WHERE NOT leads.changed_since(@WorkspaceId, @Snapshot::pg_snapshot)
        ORDER BY p.n
        """;

    /// <summary>
    /// The snapshot, the exact total (when <paramref name="withTotal"/>) and, when <paramref name="walk"/>, the leads in
    /// list order up to <c>@Walk</c> that an entry keeps: the first <c>@Head</c> and every <c>@Stride</c>-th after the
    /// first — all in one statement and so one snapshot, one row per kept lead with its position <c>rn</c> (1-based).
    /// </summary>
    private static string SnapshotSql(LeadFilter f, bool withTotal, bool walk, bool sincePrevious) => $"""
        {(withTotal && sincePrevious ? ChangedLeadsCte : "")}
        SELECT s.snap, {(withTotal ? "t.total" : "NULL::bigint")}, s.workspace_total, {(walk ? "a.rn, a.created_at, a.id" : "NULL::bigint, NULL::timestamptz, NULL::uuid")},
               {(withTotal && sincePrevious ? "t.recounted" : "true")}, s.exact
        FROM (SELECT leads.list_snapshot()::text AS snap, leads.list_snapshot()::text = pg_current_snapshot()::text AS exact,
                     (SELECT coalesce(sum(c.n), 0)::bigint FROM leads.lead_counts c WHERE c.workspace_id = @WorkspaceId) AS workspace_total) s
        {(withTotal ? (sincePrevious ? AdjustedTotal(f) : $"CROSS JOIN (SELECT count(*) AS total FROM leads.leads l WHERE {f.Where}) t") : "")}
        {(walk ? $"""
        LEFT JOIN LATERAL (
            SELECT x.rn, x.created_at, x.id FROM (
                SELECT l.created_at, l.id, row_number() OVER (ORDER BY l.created_at DESC, l.id DESC) AS rn
                FROM leads.leads l WHERE {f.Where}
                ORDER BY l.created_at DESC, l.id DESC
                LIMIT @Walk
            ) x
            WHERE x.rn <= @Head OR (x.rn > 1 AND (x.rn - 1) % @Stride = 0)
        ) a ON true
        ORDER BY a.rn
        """ : "")}
        """;

    /// <summary>
    /// The first change, per lead, of every transaction that changed the workspace's leads since <c>@Since</c> (a remembered
    /// entry's snapshot) and is visible now: its row as <c>@Since</c> saw it (<c>existed</c> false for a lead inserted
    /// since). A row without <c>lead_id</c> stands for a statement that changed too many leads to list.
    /// </summary>
    private const string ChangedLeadsCte = """
        WITH ch AS (
            SELECT DISTINCT ON (c.lead_id) c.*
            FROM leads.lead_changes c
            WHERE c.workspace_id = @WorkspaceId AND c.xid >= pg_snapshot_xmin(@Since::pg_snapshot)
              AND NOT pg_visible_in_snapshot(c.xid, @Since::pg_snapshot)
            ORDER BY c.lead_id, c.seq
        )
        """;

    /// <summary>
    /// The exact total now from the one remembered at <c>@Since</c>: <c>@Previous</c>, plus the changed leads that match
    /// now, minus those that matched then (the filter evaluated on their logged rows). Counted in full instead when the
    /// log no longer reaches back to <c>@Since</c> (compacted), a statement changed too many leads to list, or this server
    /// has not yet replayed everything <c>@Since</c> counted (a standby that lags the server the entry was made on).
    /// </summary>
    private static string AdjustedTotal(LeadFilter f) => $"""
        CROSS JOIN (
            SELECT r.recounted,
                   CASE WHEN r.recounted THEN (SELECT count(*) FROM leads.leads l WHERE {f.Where})
                        ELSE @Previous
                             + (SELECT count(*) FROM ch JOIN leads.leads l ON l.id = ch.lead_id WHERE {f.Where})
                             - (SELECT count(*) FROM ch l WHERE l.existed AND {f.Where})
                   END AS total
            FROM (SELECT pg_snapshot_xmin(@Since::pg_snapshot) < (SELECT h.horizon FROM leads.workspace_changes_horizon h)
                         OR leads.snapshot_behind(@Since::pg_snapshot)
                         OR EXISTS (SELECT 1 FROM ch WHERE ch.lead_id IS NULL) AS recounted) r
        ) t
        """;

    /// <summary>
    /// The exact total and the page. Page 1 of a filter the counters answer — the common request — is one round trip:
    /// both statements in one prepared batch, planned once per connection. A filter the counters cannot answer (search,
    /// dates) and any page at or beyond <see cref="ListCache.Stride"/> go through the cache; everything else counts first
    /// and skips reading a page past the end (an offset beyond the last row would walk the whole index for nothing).
    /// </summary>
    public static async Task<(long Total, List<LeadListItem> Rows)> PageAsync(NpgsqlConnection conn, LeadFilter f, Paging paging,
        ListCache cache, CancellationToken ct)
    {
        var cacheTotal = !f.CountersSuffice && f.TagId is null && f.TagName is null;
        var anchorIndex = (int)Math.Min(paging.Offset / cache.Stride, int.MaxValue);
        if (cacheTotal || anchorIndex > 0) return await CachedPageAsync(conn, f, paging, cache, cacheTotal, anchorIndex, ct);

        if (paging.Offset == 0 && f.GenericPlanSafe)
        {
            await using var batch = new NpgsqlBatch(conn);
            var count = new NpgsqlBatchCommand(f.CountSql);
            f.Bind(count.Parameters);
            var page = new NpgsqlBatchCommand(PageSql(f, LimitBucket(paging.Limit), withOffset: false));
            f.Bind(page.Parameters);
            batch.BatchCommands.Add(count);
            batch.BatchCommands.Add(page);
            await batch.PrepareAsync(ct);
            await using var r = await batch.ExecuteReaderAsync(ct);
            await r.ReadAsync(ct);
            var total = r.GetInt64(0);
            await r.NextResultAsync(ct);
            return (total, await ReadRowsAsync(r, paging.Limit, ct));
        }

        var t = await f.CountAsync(conn, ct);
        return paging.Offset >= t ? (t, []) : (t, await PlainPageAsync(conn, f, paging, ct));
    }

    /// <summary>
    /// A page in any order of <see cref="LeadSort"/>, by offset or after a cursor: the inner query walks the order's index
    /// <c>(workspace_id, key, id)</c> (migration 0080) for the page's IDs and sort keys, one row more than asked so the
    /// response knows whether a next page exists; only those rows are then read and joined. A cursor page starts at its
    /// position in the index, so page 50,000 costs what page 1 does.
    /// </summary>
    private static string SortedPageSql(LeadFilter f, LeadSort sort, int limitBucket, bool withOffset, bool afterCursor) => $"""
        SELECT {LeadListItem.Columns}, p.k
        FROM (
            SELECT l.id, {sort.KeySql} AS k FROM leads.leads l
            WHERE {f.Where}{(afterCursor ? "\n  AND " + sort.AfterSql : "")}
            ORDER BY {sort.KeySql} {sort.Direction}, l.id {sort.Direction}
            LIMIT {limitBucket + 1}{(withOffset ? " OFFSET @Offset" : "")}
        ) p
        JOIN leads.leads l ON l.id = p.id
        LEFT JOIN leads.sources s ON s.id = l.source_id
        LEFT JOIN access.v_members m ON m.id = l.assigned_to
        ORDER BY p.k {sort.Direction}, p.id {sort.Direction}
        """;

    /// <summary>
    /// The exact total and a page in <paramref name="sort"/>'s order, from <paramref name="paging"/>'s offset or after
    /// <paramref name="cursor"/>, with the cursor that continues after it (null on the last page). The list cache keeps
    /// positions in the default order only; here it serves the total of a filter the counters cannot answer.
    /// </summary>
    public static async Task<(long Total, List<LeadListItem> Rows, ListCursor? Next)> SortedPageAsync(NpgsqlConnection conn, LeadFilter f,
        LeadSort sort, Paging paging, ListCursor? cursor, ListCache cache, CancellationToken ct)
    {
        var total = await TotalAsync(conn, f, cache, ct);
        if (cursor is null && paging.Offset >= total) return (total, [], null);

        var offset = cursor is null ? paging.Offset : 0;
        await using var cmd = new NpgsqlCommand(SortedPageSql(f, sort, LimitBucket(paging.Limit), offset > 0, cursor is not null), conn);
        f.Bind(cmd.Parameters);
        if (offset > 0) cmd.Parameters.Add(new NpgsqlParameter<long>("Offset", NpgsqlDbType.Bigint) { TypedValue = offset });
        if (cursor is not null)
        {
            cmd.Parameters.Add(cursor.Key switch
            {
                DateTime t => new NpgsqlParameter<DateTime>("CursorKey", NpgsqlDbType.TimestampTz) { TypedValue = t },
                short n => new NpgsqlParameter<short>("CursorKey", NpgsqlDbType.Smallint) { TypedValue = n },
                _ => new NpgsqlParameter<string>("CursorKey", NpgsqlDbType.Text) { TypedValue = (string)cursor.Key },
            });
            cmd.Parameters.Add(new NpgsqlParameter<Guid>("CursorId", NpgsqlDbType.Uuid) { TypedValue = cursor.Id });
        }
        if (f.GenericPlanSafe && offset == 0) await cmd.PrepareAsync(ct);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<LeadListItem>(paging.Limit);
        object? lastKey = null;
        var more = false;
        while (await r.ReadAsync(ct))
        {
            if (rows.Count == paging.Limit) { more = true; break; }
            rows.Add(LeadListItem.Read(r));
            lastKey = sort.Key is LeadSort.Keys.Score ? r.GetFieldValue<short>(15) : r.GetValue(15);
        }
        return (total, rows, more ? new ListCursor(sort, lastKey!, rows[^1].Id) : null);
    }

    /// <summary>
    /// The filter's exact total: from the counters when they suffice; from <see cref="ListCache"/> (checked against the change
    /// log, brought up to date when stale) for a search or date filter; counted otherwise (tags, <c>updatedSince</c>).
    /// </summary>
    private static async Task<long> TotalAsync(NpgsqlConnection conn, LeadFilter f, ListCache cache, CancellationToken ct)
    {
        if (f.CountersSuffice || !f.Cacheable || f.TagId is not null || f.TagName is not null) return await f.CountAsync(conn, ct);
        var entry = cache.Get(f);
        if (entry?.Total is { } t && !await ChangedSinceAsync(conn, f.WorkspaceId, entry.Snapshot, ct)) return t;
        var stale = entry;
        entry = await cache.ComputeOnceAsync(f, () => SnapshotAsync(conn, f, withTotal: true, upto: 0, cache, stale, ct));
        return entry.Total!.Value;
    }

    /// <summary>The page walked from the first lead, as without any cache; prepared when one generic plan serves it.</summary>
    private static async Task<List<LeadListItem>> PlainPageAsync(NpgsqlConnection conn, LeadFilter f, Paging paging, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(PageSql(f, LimitBucket(paging.Limit), withOffset: paging.Offset > 0), conn);
        f.Bind(cmd.Parameters);
        if (paging.Offset > 0) cmd.Parameters.Add(new NpgsqlParameter<long>("Offset", NpgsqlDbType.Bigint) { TypedValue = paging.Offset });
        if (f.GenericPlanSafe && paging.Offset == 0) await cmd.PrepareAsync(ct);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await ReadRowsAsync(reader, paging.Limit, ct);
    }

    private static async Task<(long Total, List<LeadListItem> Rows)> CachedPageAsync(NpgsqlConnection conn, LeadFilter f, Paging paging,
        ListCache cache, bool cacheTotal, int anchorIndex, CancellationToken ct)
    {
        var entry = cache.Get(f);
        if (entry is not null && (!cacheTotal || entry.Total is not null))
        {
            var total = cacheTotal ? entry.Total!.Value : await f.CountAsync(conn, ct);
            if (paging.Offset >= total)
            {
                if (!await ChangedSinceAsync(conn, f.WorkspaceId, entry.Snapshot, ct)) return (total, []);
            }
            // Rows means the workspace is unchanged since the entry's snapshot (a page below an unchanged total is never
            // empty); none means it changed (or the entry does not reach this page), and the entry is recomputed below.
            else if (await FromEntryAsync(conn, f, paging, cache.Stride, entry, total, anchorIndex, ct) is { Count: > 0 } rows)
                return (total, rows);
        }

        // Recompute in one statement: snapshot, total, first IDs, and positions past the one asked for, so a client walking
        // page after page recomputes every thousand leads at first and ever more rarely further in (half again as deep).
        var start = (long)anchorIndex * cache.Stride;
        var upto = anchorIndex == 0 ? 0L : Math.Max(start + 1_000, start * 3 / 2);
        var stale = entry;
        entry = await cache.ComputeOnceAsync(f, () => SnapshotAsync(conn, f, cacheTotal, upto, cache, stale, ct));
        var t = cacheTotal ? entry.Total!.Value : await f.CountAsync(conn, ct);
        if (paging.Offset >= t) return (t, []);
        var page = await FromEntryAsync(conn, f, paging, cache.Stride, entry, t, anchorIndex, ct);
        if (page is null)
        {
            // Another request computed the entry at the same time for a shallower page: extend it for this one.
            entry = await SnapshotAsync(conn, f, cacheTotal, upto, cache, entry, ct);
            cache.Set(f, entry);
            t = cacheTotal ? entry.Total!.Value : t;
            if (paging.Offset >= t) return (t, []);
            page = await FromEntryAsync(conn, f, paging, cache.Stride, entry, t, anchorIndex, ct);
        }
        if (page is { Count: > 0 }) return (t, page);
        cache.Remove(f);
        // Changed again since the count a moment ago: this one request walks from the start, as it would without a cache.
        return (t, await PlainPageAsync(conn, f, paging, ct));
    }

    /// <summary>
    /// The page served from <paramref name="entry"/> (for a page below <paramref name="total"/>): by remembered IDs when the
    /// head holds the whole page, else walked from the remembered position at or before it. Null when the entry reaches
    /// neither; no rows when the workspace changed since the entry's snapshot.
    /// </summary>
    private static async Task<List<LeadListItem>?> FromEntryAsync(NpgsqlConnection conn, LeadFilter f, Paging paging, int stride,
        ListCache.Entry entry, long total, int anchorIndex, CancellationToken ct)
    {
        var head = entry.Head;
        if (paging.Offset < head.Length && (paging.Offset + paging.Limit <= head.Length || head.Length == total))
        {
            var from = (int)paging.Offset;
            return await HeadPageAsync(conn, f, entry.Snapshot, head[from..Math.Min(head.Length, from + paging.Limit)], ct);
        }
        return anchorIndex <= entry.Anchors.Length ? await WalkPageAsync(conn, f, paging, stride, entry, anchorIndex, ct) : null;
    }

    private static async Task<List<LeadListItem>> HeadPageAsync(NpgsqlConnection conn, LeadFilter f, string snapshot, Guid[] ids,
        CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(HeadPageSql, conn);
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("WorkspaceId", NpgsqlDbType.Uuid) { TypedValue = f.WorkspaceId });
        cmd.Parameters.Add(new NpgsqlParameter<string>("Snapshot", NpgsqlDbType.Text) { TypedValue = snapshot });
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]>("Ids", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { TypedValue = ids });
        await cmd.PrepareAsync(ct);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await ReadRowsAsync(r, ids.Length, ct);
    }

    private static async Task<List<LeadListItem>> WalkPageAsync(NpgsqlConnection conn, LeadFilter f, Paging paging, int stride,
        ListCache.Entry entry, int anchorIndex, CancellationToken ct)
    {
        var offset = paging.Offset - (long)anchorIndex * stride;
        var sql = PageSql(f, LimitBucket(paging.Limit), withOffset: offset > 0, anchored: anchorIndex > 0, gated: true);
        var page = new NpgsqlBatchCommand(sql);
        f.Bind(page.Parameters);
        page.Parameters.Add(new NpgsqlParameter<string>("Snapshot", NpgsqlDbType.Text) { TypedValue = entry.Snapshot });
        if (offset > 0) page.Parameters.Add(new NpgsqlParameter<long>("Offset", NpgsqlDbType.Bigint) { TypedValue = offset });
        if (anchorIndex > 0)
        {
            var a = entry.Anchors[anchorIndex - 1];
            page.Parameters.Add(new NpgsqlParameter<DateTime>("AnchorAt", NpgsqlDbType.TimestampTz) { TypedValue = a.CreatedAt });
            page.Parameters.Add(new NpgsqlParameter<Guid>("AnchorId", NpgsqlDbType.Uuid) { TypedValue = a.Id });
        }

        await using var batch = new NpgsqlBatch(conn);
        if (WalkSuits(f, entry, offset + paging.Limit))
        {
            if (offset == 0 && f.Search is null)
            {
                // A page that starts at a remembered lead (every usual page size does, see ListCache.Stride) of an equality
                // or date filter: PostgreSQL settles on the generic plan, the newest-first walk, by itself.
                batch.BatchCommands.Add(page);
            }
            else
            {
                // One generic plan — the newest-first index walk — serves every anchor, offset and value here; left to itself
                // PostgreSQL prices an OFFSET parameter (or a search pattern) as a tenth of the table and re-plans every
                // time (1–3 ms, more than the walk itself), so the plan is forced for this one statement.
                batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN READ ONLY"));
                batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL plan_cache_mode = force_generic_plan"));
                batch.BatchCommands.Add(page);
                batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
            }
            await batch.PrepareAsync(ct);
        }
        else batch.BatchCommands.Add(page);
        await using var r = await batch.ExecuteReaderAsync(ct);
        while (r.FieldCount == 0 || r.GetName(0) != "id") if (!await r.NextResultAsync(ct)) return [];
        var rows = await ReadRowsAsync(r, paging.Limit, ct);
        while (await r.NextResultAsync(ct)) { }
        return rows;
    }

    /// <summary>
    /// Whether walking the newest-first index and filtering is the right plan for every value of this filter, so one
    /// generic plan may serve: equality filters and date ranges always (the walk stops after the page); a search only
    /// when the remembered exact total says matches are dense enough that the walk passes at most 5,000 leads to fill
    /// the page. A rare term is left to a plan made for its value (typically the trigram index, then a sort).
    /// </summary>
    private static bool WalkSuits(LeadFilter f, ListCache.Entry entry, long rowsWanted)
    {
        if (f.TagId is not null || f.TagName is not null) return false;
        if (f.Search is null) return true;
        return entry.Total is > 0 and var total && rowsWanted * (double)entry.WorkspaceTotal / total <= 5_000;
    }

    private static async Task<bool> ChangedSinceAsync(NpgsqlConnection conn, Guid workspaceId, string snapshot, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT leads.changed_since(@WorkspaceId, @Snapshot::pg_snapshot)", conn);
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("WorkspaceId", NpgsqlDbType.Uuid) { TypedValue = workspaceId });
        cmd.Parameters.Add(new NpgsqlParameter<string>("Snapshot", NpgsqlDbType.Text) { TypedValue = snapshot });
        await cmd.PrepareAsync(ct);
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// A new entry for <paramref name="f"/>. With <paramref name="previous"/> (a stale entry holding a total) the total is
    /// that one adjusted by what changed since its snapshot, rather than counted again — only when that snapshot is exact
    /// (<see cref="ListCache.Entry.Exact"/>): a standby's remembered snapshot claims less than its count saw, and adjusting
    /// from it would count those leads twice.
    /// </summary>
    private static async Task<ListCache.Entry> SnapshotAsync(NpgsqlConnection conn, LeadFilter f, bool withTotal, long upto, ListCache cache,
        ListCache.Entry? previous, CancellationToken ct)
    {
        var stride = cache.Stride;
        var head = withTotal ? ListCache.HeadSize : 0;
        var walk = Math.Max(upto + 1, head);
        var since = withTotal && previous is { Total: not null, Exact: true };
        await using var cmd = new NpgsqlCommand(SnapshotSql(f, withTotal, walk: walk > 1, sincePrevious: since), conn);
        f.Bind(cmd.Parameters);
        if (since)
        {
            cmd.Parameters.Add(new NpgsqlParameter<string>("Since", NpgsqlDbType.Text) { TypedValue = previous!.Snapshot });
            cmd.Parameters.Add(new NpgsqlParameter<long>("Previous", NpgsqlDbType.Bigint) { TypedValue = previous.Total!.Value });
        }
        if (walk > 1)
        {
            cmd.Parameters.Add(new NpgsqlParameter<long>("Walk", NpgsqlDbType.Bigint) { TypedValue = walk });
            cmd.Parameters.Add(new NpgsqlParameter<long>("Head", NpgsqlDbType.Bigint) { TypedValue = head });
            cmd.Parameters.Add(new NpgsqlParameter<long>("Stride", NpgsqlDbType.Bigint) { TypedValue = stride });
        }
        await using var r = await cmd.ExecuteReaderAsync(ct);
        string snapshot = "";
        long? total = null;
        long workspaceTotal = 0;
        var anchors = new List<ListCache.Anchor>();
        var ids = new List<Guid>();
        var recounted = true;
        var exact = true;
        while (await r.ReadAsync(ct))
        {
            snapshot = r.GetString(0);
            total = r.IsDBNull(1) ? null : r.GetInt64(1);
            workspaceTotal = r.GetInt64(2);
            recounted = r.GetBoolean(6);
            exact = r.GetBoolean(7);
            if (r.IsDBNull(3)) continue;
            var rn = r.GetInt64(3);
            if (rn <= head) ids.Add(r.GetGuid(5));
            if (rn > 1 && (rn - 1) % stride == 0) anchors.Add(new ListCache.Anchor(r.GetDateTime(4), r.GetGuid(5)));
        }
        if (withTotal) cache.CountedTotal(adjusted: !recounted);
        return new ListCache.Entry(snapshot, total, workspaceTotal, [.. anchors], [.. ids], exact);
    }

    /// <summary>The literal LIMIT the statement carries for a page of <paramref name="limit"/> (1–100) rows.</summary>
    internal static int LimitBucket(int limit) => limit <= 10 ? 10 : limit <= 20 ? 20 : limit <= 50 ? 50 : Paging.MaxLimit;

    private static async Task<List<LeadListItem>> ReadRowsAsync(NpgsqlDataReader r, int limit, CancellationToken ct)
    {
        var rows = new List<LeadListItem>(limit);
        while (rows.Count < limit && await r.ReadAsync(ct)) rows.Add(LeadListItem.Read(r));
        return rows;
    }
}
