using System.Net;
using Dapper;
using Leads.Tests.Export;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Access;

/// <summary>Issue 16 item 8: a merge can hand a removed member's assignment to its survivor while the member is being removed.</summary>
public sealed class MemberRemovalRaceTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private Task WaitForLockWaitAsync(string like) => Wait.UntilAsync(() => api.ScalarAsync<bool>("""
        SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE @like)
        """, new { like }), "a statement like " + like + " waited on a lock");

    [Fact]
    public async Task A_survivor_given_the_assignment_by_a_merge_racing_the_member_s_removal_ends_unassigned()
    {
        var ws = await api.CreateWorkspaceAsync();
        var rep = await ws.CreateMemberAsync("Tahani Al-Jamil");
        var survivor = await ws.CreateLeadAsync(new { email = "survivor@example.com" });
        var duplicate = await ws.CreateLeadAsync(new { email = "duplicate@example.com", firstName = "Dup" });
        await ws.AssignAsync(duplicate, rep);

        // The interleaving that lost the unassignment: the merge has folded the duplicate's assignee into the survivor and
        // still holds both rows when the removal's unassign reaches the duplicate. Holding the tombstone table makes the
        // merge pause right there (its next step writes a tombstone).
        await using var gate = await api.OpenDbAsync();
        await using var hold = await gate.BeginTransactionAsync();
        await gate.ExecuteAsync("LOCK TABLE leads.merged_leads IN EXCLUSIVE MODE", transaction: hold);
        var merge = ws.Full.PostJsonAsync($"/api/leads/{survivor.Id()}/merge", new { duplicateId = duplicate.Id() });
        await WaitForLockWaitAsync("%merged_leads%");
        var removal = ws.Full.DeleteAsync($"/api/users/{rep.Id()}");
        await WaitForLockWaitAsync("%assigned_to = NULL%");
        await hold.CommitAsync();

        var merged = await merge;
        merged.StatusCode.ShouldBe(HttpStatusCode.OK, await merged.Content.ReadAsStringAsync());
        (await removal).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        (await api.ScalarAsync<long>("SELECT count(*) FROM leads.leads WHERE workspace_id = @Id AND assigned_to IS NOT NULL", new { ws.Id })).ShouldBe(0);
        var detail = await ws.Read.GetObjectAsync($"/api/leads/{survivor.Id()}");
        detail["assignedTo"].ShouldBeNull();
        var events = await ws.Read.GetObjectAsync($"/api/leads/{survivor.Id()}/events?limit=100");
        events["data"]!.AsArray().Count(e => e!["type"]!.GetValue<string>() == "unassigned").ShouldBe(1);
    }
}
