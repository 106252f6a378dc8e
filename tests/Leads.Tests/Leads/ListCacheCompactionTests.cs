using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Leads;

/// <summary>
/// The change log's compaction, and the list cache after it. A class — so a database and a host — of its own: this test
/// moves <c>leads.workspace_changes_horizon</c> to the current transaction ID by hand, past the oldest transaction still
/// running in the shared test cluster (transaction IDs, and so the snapshot xmin, are cluster-wide: another test class's
/// transaction in its own database counts). Compaction never does that (its horizon is the oldest transaction running
/// at the previous compaction), but in a shared database every snapshot taken afterwards would stay below that horizon
/// until such a transaction ends, so the other list cache tests would count totals in full where they assert
/// adjustments (<see cref="ListCacheTests.A_stale_total_is_brought_up_to_date_from_the_changed_leads_alone"/> failed so
/// under load: 21 recounts instead of 0).
/// </summary>
public sealed class ListCacheCompactionTests(ListCacheApiFactory api) : IClassFixture<ListCacheApiFactory>
{
    [Fact]
    public async Task Every_write_path_logs_its_workspace_once_per_transaction_and_compaction_keeps_answers_exact()
    {
        var ws = await api.CreateWorkspaceAsync();
        await ws.SeedAsync(50);
        await using var db = await api.OpenDbAsync();
        var logged = await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.workspace_changes WHERE workspace_id = @Ws", new { Ws = ws.Id });
        logged.ShouldBe(1); // one INSERT statement of 50 rows, one transaction

        await ws.AllPagesShouldMatchAsync();
        // Compaction deletes every logged transaction below the horizon it sets (how far that reaches depends on what
        // else runs in the cluster, so only the rule is asserted), then answers stay exact.
        (await db.ExecuteScalarAsync<long?>("SELECT leads.compact_workspace_changes('0 seconds')")).ShouldNotBeNull();
        await ws.CreateLeadAsync(new { firstName = "Zebulon", email = "after.compaction@x.io" });
        (await db.ExecuteScalarAsync<long?>("SELECT leads.compact_workspace_changes('0 seconds')")).ShouldNotBeNull();
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.workspace_changes WHERE xid < (SELECT horizon FROM leads.workspace_changes_horizon)")).ShouldBe(0);
        await ws.AllPagesShouldMatchAsync();
        // Within its period a second node's compaction is a no-op.
        (await db.ExecuteScalarAsync<long?>("SELECT leads.compact_workspace_changes('1 hour')")).ShouldBeNull();

        // A horizon past every remembered snapshot (as after compactions while entries sat unused): the log can no longer
        // vouch for them, so each must be recomputed — with a write hidden from the log (its row deleted), only that
        // recomputation can find it.
        await ws.AllPagesShouldMatchAsync();
        await ws.CreateLeadAsync(new { firstName = "Zebulon", email = "hidden@x.io" });
        await db.ExecuteAsync("DELETE FROM leads.workspace_changes WHERE workspace_id = @Ws", new { Ws = ws.Id });
        await db.ExecuteAsync("UPDATE leads.workspace_changes_horizon SET horizon = pg_current_xact_id()");
        await ws.AllPagesShouldMatchAsync();
    }
}
