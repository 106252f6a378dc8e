using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Modules.Duplicates.Merges;
using Npgsql;

namespace Leads.Tests.Duplicates;

/// <summary>Issue #12: merge records past the 30-day undo window are pruned by the retention sweep; nothing else changes.</summary>
public sealed class MergeRetentionTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static Task<HttpResponseMessage> Merge(TestWorkspace ws, JsonNode survivor, JsonNode duplicate) =>
        ws.Full.PostJsonAsync($"/api/leads/{survivor.Id()}/merge", new { duplicateId = duplicate.Id() });

    private Task<long> SweepAsync() => api.Services.GetRequiredService<MergeRecordRetention>().RunAsync(CancellationToken.None);

    private async Task AgeAsync(JsonNode merged, string interval)
    {
        await using var db = await api.OpenDbAsync();
        await db.ExecuteAsync($"UPDATE duplicates.merges SET merged_at = now() - interval '{interval}' WHERE merged_lead_id = @Id", new { Id = merged.Uuid() });
    }

    [Fact]
    public async Task Records_past_the_undo_window_are_deleted_and_the_merge_itself_stays()
    {
        var ws = await api.CreateWorkspaceAsync();
        var s = await ws.CreateLeadAsync(new { email = "keep@r.io", firstName = "Kim" });
        var old = await ws.CreateLeadAsync(new { email = "keep@r.io", lastName = "Old", notes = "from the old one" });
        var young = await ws.CreateLeadAsync(new { email = "keep@r.io", company = "Young" });
        (await Merge(ws, s, old)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await Merge(ws, s, young)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var timelineBefore = await Invariants.TimelineEventsAsync(api, s.Uuid());
        await AgeAsync(old, "30 days 1 minute");
        await AgeAsync(young, "29 days 23 hours");

        (await SweepAsync()).ShouldBeGreaterThanOrEqualTo(1);

        (await api.ScalarAsync<long>("SELECT count(*) FROM duplicates.merges WHERE merged_lead_id = @Id", new { Id = old.Uuid() })).ShouldBe(0);
        (await api.ScalarAsync<long>("SELECT count(*) FROM duplicates.merges WHERE merged_lead_id = @Id", new { Id = young.Uuid() })).ShouldBe(1);
        var listed = (await ws.Read.GetObjectAsync($"/api/leads/{s.Id()}/merges"))["data"]!.AsArray();
        listed.Select(m => m!["mergedLeadId"]!.GetValue<string>()).ShouldBe([young.Id()]);
        // The pruned merge is simply no longer undoable; the merged-away lead still answers lead_merged and its events
        // stay on the survivor's timeline.
        await (await ws.Full.PostJsonAsync($"/api/leads/{s.Id()}/unmerge", new { mergedLeadId = old.Id() }))
            .ShouldBeProblemAsync(HttpStatusCode.NotFound, "merge_not_found");
        await (await ws.Read.GetAsync($"/api/leads/{old.Id()}")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_merged");
        (await Invariants.TimelineEventsAsync(api, s.Uuid())).Keys.Order().ShouldBe(timelineBefore.Keys.Order());
        // A second pass finds nothing more; the young merge can still be undone.
        (await api.ScalarAsync<long>("SELECT count(*) FROM duplicates.merges WHERE merged_at < now() - interval '30 days'")).ShouldBe(0);
        (await ws.Full.PostJsonAsync($"/api/leads/{s.Id()}/unmerge", new { mergedLeadId = young.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        await Invariants.AssertAsync(api, ws);
    }

    [Fact]
    public void The_retention_is_the_setting_but_never_shorter_than_the_undo_window()
    {
        MergeRecordRetention With(string? value)
        {
            var config = new ConfigurationBuilder()
                .AddInMemoryCollection(value is null ? [] : [new KeyValuePair<string, string?>("Duplicates:MergeRecordRetention", value)]).Build();
            return new MergeRecordRetention(api.Services.GetRequiredService<NpgsqlDataSource>(), config, TimeProvider.System);
        }
        With(null).Retention.ShouldBe(TimeSpan.FromDays(30));
        With("90.00:00:00").Retention.ShouldBe(TimeSpan.FromDays(90));
        With("1.00:00:00").Retention.ShouldBe(TimeSpan.FromDays(30));
    }
}
