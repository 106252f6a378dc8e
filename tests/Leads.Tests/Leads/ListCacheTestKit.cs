using Dapper;
using Kernel.Ids;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Leads;

/// <summary>
/// Shared by the list cache tests: a workspace seeded in one statement, and list answers compared with what independent
/// SQL says at that moment.
/// </summary>
internal static class ListCacheTestKit
{
    /// <summary>
    /// <paramref name="n"/> leads in one statement, with distinct, ordered created_at; every 3rd lead 'qualified', every
    /// 5th named Zebulon, every 4th assigned to the owner.
    /// </summary>
    public static async Task SeedAsync(this TestWorkspace ws, int n, string prefix = "Bulk")
    {
        await using var db = await ws.Api.OpenDbAsync();
        await db.ExecuteAsync("""
            INSERT INTO leads.leads (id, workspace_id, first_name, last_name, email, status, assigned_to, channel, created_actor_type, created_at)
            SELECT gen_random_uuid(), @Ws, CASE WHEN i % 5 = 0 THEN 'Zebulon' ELSE @Prefix END, 'N' || i, lower(@Prefix) || i || '@x.io',
                   CASE WHEN i % 3 = 0 THEN 'qualified' ELSE 'new' END, CASE WHEN i % 4 = 0 THEN @Owner END,
                   'import', 'import', now() - i * interval '1 minute'
            FROM generate_series(1, @N) AS i
            """, new { Ws = ws.Id, Owner = ws.OwnerId, Prefix = prefix, N = n });
    }

    /// <summary>The IDs and total the list must answer, from SQL written independently of the endpoint's.</summary>
    public static async Task<(long Total, string[] Ids)> ExpectedAsync(this TestWorkspace ws, string where, int page, int limit)
    {
        await using var db = await ws.Api.OpenDbAsync();
        var total = await db.ExecuteScalarAsync<long>($"SELECT count(*) FROM leads.leads l WHERE l.workspace_id = @Ws AND {where}", new { Ws = ws.Id });
        var ids = await db.QueryAsync<Guid>($"""
            SELECT l.id FROM leads.leads l WHERE l.workspace_id = @Ws AND {where}
            ORDER BY l.created_at DESC, l.id DESC LIMIT @Limit OFFSET @Offset
            """, new { Ws = ws.Id, Limit = limit, Offset = (page - 1) * limit });
        return (total, ids.Select(i => TypeId.Format("lead", i)).ToArray());
    }

    public static async Task ShouldMatchAsync(this TestWorkspace ws, string query, string where, int page, int limit)
    {
        var body = await ws.Read.GetObjectAsync($"/api/leads?{query}&page={page}&limit={limit}");
        var (total, ids) = await ws.ExpectedAsync(where, page, limit);
        body["pagination"]!["total"]!.GetValue<long>().ShouldBe(total, $"{query} page {page}");
        body.Ids().ShouldBe(ids, $"{query} page {page}");
    }

    private static readonly (string Query, string Where)[] Filters =
    [
        ("search=zebu", "l.first_name = 'Zebulon'"),
        ("status=qualified", "l.status = 'qualified'"),
        ("search=zebu&status=qualified", "l.first_name = 'Zebulon' AND l.status = 'qualified'"),
        ("startDate=2000-01-01", "true"),
        ("duplicates=exclude", "l.duplicate_of IS NULL"),
        ("", "true"),
    ];

    /// <summary>Shallow and deep pages of every kind of filter (counters, search, dates, none) match the database.</summary>
    public static async Task AllPagesShouldMatchAsync(this TestWorkspace ws)
    {
        foreach (var (query, where) in Filters)
            foreach (var (page, limit) in new[] { (1, 5), (2, 5), (3, 7), (5, 3), (9, 10), (13, 6), (12, 9), (4, 30), (21, 10), (30, 10), (200, 5) })
                await ws.ShouldMatchAsync(query, where, page, limit);
    }
}
