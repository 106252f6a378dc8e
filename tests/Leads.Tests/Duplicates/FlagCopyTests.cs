using System.Net;
using System.Text.Json.Nodes;
using Leads.Tests.Import;
using Leads.Tests.Infrastructure;
using Leads.Tests.Sources;

namespace Leads.Tests.Duplicates;

/// <summary>
/// Issue #12 item 4: the groups' truth is <c>duplicates.group_members</c>; <c>leads.leads.duplicate_of</c> is the list's copy.
/// After every path that changes a group — API intake, webhook, an import chunk, a PATCH re-detect, dismiss, merge, unmerge,
/// the promotion on delete — the copy equals the truth, and the API (detail, list filter, group listing, stats) agrees.
/// </summary>
public sealed class FlagCopyTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private async Task CheckAsync(TestWorkspace ws, string step, int expectedDuplicates)
    {
        await Invariants.AssertFlagCopyAsync(api, ws);
        await Invariants.AssertAsync(api, ws);
        var stored = await api.ScalarAsync<long>("SELECT count(*) FROM duplicates.group_members WHERE workspace_id = @W", new { W = ws.Id });
        stored.ShouldBe(expectedDuplicates, $"members after {step}");
        var only = await ws.Read.GetObjectAsync("/api/leads?duplicates=only&limit=100");
        only["data"]!.AsArray().Count.ShouldBe(expectedDuplicates, $"duplicates=only after {step}");
        foreach (var lead in only["data"]!.AsArray()) lead!["isDuplicate"]!.GetValue<bool>().ShouldBeTrue();
        var stats = await ws.Read.GetObjectAsync("/api/leads/stats");
        stats["duplicates"]!.GetValue<long>().ShouldBe(expectedDuplicates, $"stats after {step}");
    }

    private static string? PrimaryOf(JsonNode detail) => detail["duplicateOf"]?["id"]?.GetValue<string>();

    [Fact]
    public async Task The_flag_copy_equals_the_group_truth_after_every_path()
    {
        var ws = await api.CreateWorkspaceAsync();
        var ana = await ws.CreateLeadAsync(new { email = "ana@copy.io", phone = "+14155550100", firstName = "Ana" });
        await CheckAsync(ws, "a new person", 0);

        var anaApi = await ws.CreateLeadAsync(new { email = "ANA@copy.io", firstName = "Ana2" });
        PrimaryOf(anaApi).ShouldBe(ana.Id());
        anaApi["duplicateOf"]!["matchedOn"]!.AsArray().Select(x => x!.GetValue<string>()).ShouldBe(["email"]);
        await CheckAsync(ws, "API intake of a repeat", 1);

        var source = await ws.CreateSourceAsync("Form");
        (await api.PostWebhookAsync(source["webhookToken"]!.GetValue<string>(), """{"phone":"+14155550100","firstName":"Hook"}"""))
            .StatusCode.ShouldBe(HttpStatusCode.OK);
        await CheckAsync(ws, "webhook intake of a repeat", 2);

        // One import chunk: a repeat of Ana, a new person and that new person again within the chunk.
        var imported = await ws.ImportAsync("email,phone,firstName\nana@copy.io,,Imp1\nbo@copy.io,,Bo\nbo@copy.io,+14155550177,Bo2\n");
        imported.Long("duplicates").ShouldBe(2);
        await CheckAsync(ws, "an import chunk", 4);

        // PATCH re-detect: Bo2 changes its email away from Bo (but keeps its phone, which nobody else has): it leaves Bo's group.
        var bo2 = (await ws.Read.GetObjectAsync("/api/leads?search=Bo2&limit=1"))["data"]![0]!;
        var patched = await (await ws.Full.PatchJsonAsync($"/api/leads/{bo2.Id()}", new { email = "bo2@elsewhere.io" })).BodyAsync();
        PrimaryOf(patched).ShouldBeNull();
        await CheckAsync(ws, "PATCH re-detect out of a group", 3);
        // …and back in, by email again.
        patched = await (await ws.Full.PatchJsonAsync($"/api/leads/{bo2.Id()}", new { email = "bo@copy.io" })).BodyAsync();
        PrimaryOf(patched).ShouldNotBeNull();
        await CheckAsync(ws, "PATCH re-detect into a group", 4);

        // Dismiss: anaApi leaves Ana's group.
        (await ws.Full.PostAsync($"/api/leads/{anaApi.Id()}/not-duplicate", null)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await CheckAsync(ws, "dismiss", 3);

        // Merge a duplicate of Ana into Ana, then undo it: the group comes back as it was.
        var hook = (await ws.Read.GetObjectAsync("/api/leads?search=Hook&limit=1"))["data"]![0]!;
        (await ws.Full.PostJsonAsync($"/api/leads/{ana.Id()}/merge", new { duplicateId = hook.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        await CheckAsync(ws, "merge", 2);
        (await ws.Full.PostJsonAsync($"/api/leads/{ana.Id()}/unmerge", new { mergedLeadId = hook.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        var hookBack = await ws.Read.GetObjectAsync($"/api/leads/{hook.Id()}");
        PrimaryOf(hookBack).ShouldBe(ana.Id());
        hookBack["duplicateOf"]!["matchedOn"]!.AsArray().Select(x => x!.GetValue<string>()).ShouldBe(["phone"]);
        await CheckAsync(ws, "unmerge", 3);

        // Merge the primary into one of its duplicates: the survivor takes its place and the rest move under it.
        var imp1 = (await ws.Read.GetObjectAsync("/api/leads?search=Imp1&limit=1"))["data"]![0]!;
        (await ws.Full.PostJsonAsync($"/api/leads/{imp1.Id()}/merge", new { duplicateId = ana.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        PrimaryOf(await ws.Read.GetObjectAsync($"/api/leads/{hook.Id()}")).ShouldBe(imp1.Id());
        await CheckAsync(ws, "merge of a primary into its duplicate", 2);
        (await ws.Full.PostJsonAsync($"/api/leads/{imp1.Id()}/unmerge", new { mergedLeadId = ana.Id() })).StatusCode.ShouldBe(HttpStatusCode.OK);
        PrimaryOf(await ws.Read.GetObjectAsync($"/api/leads/{imp1.Id()}")).ShouldBe(ana.Id());
        PrimaryOf(await ws.Read.GetObjectAsync($"/api/leads/{hook.Id()}")).ShouldBe(ana.Id());
        await CheckAsync(ws, "unmerge of a primary", 3);

        // Delete a primary: its oldest duplicate is promoted and the rest re-pointed.
        (await ws.Full.DeleteAsync($"/api/leads/{ana.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        PrimaryOf(await ws.Read.GetObjectAsync($"/api/leads/{hook.Id()}")).ShouldBeNull(); // the oldest remaining: promoted
        PrimaryOf(await ws.Read.GetObjectAsync($"/api/leads/{imp1.Id()}")).ShouldBe(hook.Id());
        await CheckAsync(ws, "delete of a primary", 2);

        // Delete a duplicate: its membership goes with it.
        (await ws.Full.DeleteAsync($"/api/leads/{imp1.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        await CheckAsync(ws, "delete of a duplicate", 1);
    }
}
