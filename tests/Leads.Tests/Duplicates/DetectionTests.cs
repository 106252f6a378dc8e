using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Duplicates;

public sealed class DetectionTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task Same_email_in_another_case_is_flagged_against_the_primary_with_an_event()
    {
        var ws = await api.CreateWorkspaceAsync();
        var primary = await ws.CreateLeadAsync(new { email = "jane@acme.com", firstName = "Jane" });
        var dup = await ws.CreateLeadAsync(new { email = "  JANE@Acme.COM ", lastName = "Smith" });

        dup["isDuplicate"]!.GetValue<bool>().ShouldBeTrue();
        JsonNode.DeepEquals(dup["duplicateOf"], JsonNode.Parse($$"""{"id":"{{primary.Id()}}","matchedOn":["email"]}""")).ShouldBeTrue(dup.ToJsonString());
        (await ws.Read.GetObjectAsync($"/api/leads/{primary.Id()}"))["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();

        var events = (await ws.Read.GetObjectAsync($"/api/leads/{dup.Id()}/events"))["data"]!.AsArray();
        events[0]!["type"]!.GetValue<string>().ShouldBe("duplicate_flagged");
        JsonNode.DeepEquals(events[0]!["data"], JsonNode.Parse($$"""{"primaryId":"{{primary.Id()}}","matchedOn":["email"]}""")).ShouldBeTrue();

        (await ws.Read.GetObjectAsync("/api/leads?duplicates=only")).Ids().ShouldBe([dup.Id()]);
        (await ws.Read.GetObjectAsync("/api/leads?duplicates=exclude")).Ids().ShouldBe([primary.Id()]);
        (await ws.Read.GetObjectAsync("/api/leads/stats"))["duplicates"]!.GetValue<long>().ShouldBe(1);
        (await api.ScalarAsync<Guid>("SELECT duplicate_of FROM leads.leads WHERE id = @Id", new { Id = dup.Uuid() })).ShouldBe(primary.Uuid());
    }

    [Fact]
    public async Task Phone_in_another_format_matches_and_both_keys_are_reported()
    {
        var ws = await api.CreateWorkspaceAsync();
        var primary = await ws.CreateLeadAsync(new { email = "bob@globex.com", phone = "+1 415-555-2671" });
        var byPhone = await ws.CreateLeadAsync(new { phone = "(415) 555 2671" });
        var byBoth = await ws.CreateLeadAsync(new { email = "BOB@globex.com", phone = "4155552671" });
        byPhone["duplicateOf"]!["matchedOn"]!.AsArray().Select(x => x!.GetValue<string>()).ShouldBe(["phone"]);
        byBoth["duplicateOf"]!["matchedOn"]!.AsArray().Select(x => x!.GetValue<string>()).ShouldBe(["email", "phone"]);
        byBoth["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(primary.Id());
    }

    [Fact]
    public async Task A_lead_matching_only_a_duplicate_joins_that_group_under_its_primary()
    {
        var ws = await api.CreateWorkspaceAsync();
        var primary = await ws.CreateLeadAsync(new { email = "p@acme.io" });
        var dup = await ws.CreateLeadAsync(new { email = "p@acme.io", phone = "+14155550100" });
        var third = await ws.CreateLeadAsync(new { phone = "+1 415 555 0100" });
        dup["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(primary.Id());
        third["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(primary.Id());
        third["duplicateOf"]!["matchedOn"]!.AsArray().Select(x => x!.GetValue<string>()).ShouldBe(["phone"]);
    }

    [Fact]
    public async Task No_shared_key_no_flag_and_other_workspaces_never_match()
    {
        var ws = await api.CreateWorkspaceAsync();
        var other = await api.CreateWorkspaceAsync();
        await ws.CreateLeadAsync(new { email = "solo@acme.io", firstName = "Jane", company = "Acme" });
        (await ws.CreateLeadAsync(new { email = "different@acme.io", firstName = "Jane", company = "Acme" }))["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();
        (await other.CreateLeadAsync(new { email = "solo@acme.io" }))["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // after a first lead, so that every intake takes the one-round-trip path (its region is known)
    public async Task Fifty_concurrent_intakes_of_one_person_give_one_primary_and_49_duplicates(bool warm)
    {
        var ws = await api.CreateWorkspaceAsync();
        if (warm)
        {
            var first = await ws.CreateLeadAsync(new { email = "someone.else@example.com" });
            await using var conn = await api.OpenDbAsync();
            await conn.ExecuteAsync("DELETE FROM leads.leads WHERE id = @Id", new { Id = first.Uuid() });
        }
        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            ws.Full.PostJsonAsync("/api/leads", i % 2 == 0
                ? new { email = (string?)"Race@Example.com", phone = (string?)null }
                : new { email = (string?)"race@example.com", phone = (string?)"+1 415 555 0199" })));
        responses.Select(r => r.StatusCode).ShouldAllBe(s => s == HttpStatusCode.Created);
        await using var db = await api.OpenDbAsync();
        var rows = (await db.QueryAsync<(Guid Id, Guid? DuplicateOf)>(
            "SELECT id, duplicate_of FROM leads.leads WHERE workspace_id = @Id", new { ws.Id })).ToList();
        rows.Count.ShouldBe(50);
        var primaries = rows.Where(r => r.DuplicateOf is null).ToList();
        primaries.Count.ShouldBe(1);
        rows.Where(r => r.DuplicateOf is not null).ShouldAllBe(r => r.DuplicateOf == primaries[0].Id);
        (await db.ExecuteScalarAsync<long>("SELECT count(*) FROM leads.events WHERE workspace_id = @Id AND type = 'duplicate_flagged'", new { ws.Id })).ShouldBe(49);
    }

    [Fact]
    public async Task Group_view_lists_the_other_members_primary_first()
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await ws.CreateLeadAsync(new { email = "g@acme.io", firstName = "P" });
        var d1 = await ws.CreateLeadAsync(new { email = "g@acme.io", firstName = "D1" });
        var d2 = await ws.CreateLeadAsync(new { email = "g@acme.io", phone = "+14155550123", firstName = "D2" });

        var ofPrimary = (await ws.Read.GetObjectAsync($"/api/leads/{p.Id()}/duplicates"))["data"]!.AsArray();
        ofPrimary.Select(x => x!.Id()).ShouldBe([d1.Id(), d2.Id()]);
        ofPrimary.ShouldAllBe(x => !x!["isPrimary"]!.GetValue<bool>());
        var item = ofPrimary[0]!.AsObject();
        item.Select(kv => kv.Key).ShouldBe(["id", "firstName", "lastName", "email", "phone", "company", "status", "score", "source",
            "assignedTo", "isDuplicate", "createdAt", "isPrimary", "matchedOn"]);

        var ofDuplicate = (await ws.Read.GetObjectAsync($"/api/leads/{d2.Id()}/duplicates"))["data"]!.AsArray();
        ofDuplicate.Select(x => x!.Id()).ShouldBe([p.Id(), d1.Id()]);
        ofDuplicate[0]!["isPrimary"]!.GetValue<bool>().ShouldBeTrue();
        ofDuplicate[0]!["matchedOn"]!.AsArray().Select(x => x!.GetValue<string>()).ShouldBe(["email"]);

        var lonely = await ws.CreateLeadAsync(new { firstName = "Alone" });
        (await ws.Read.GetObjectAsync($"/api/leads/{lonely.Id()}/duplicates"))["data"]!.AsArray().Count.ShouldBe(0);
        await (await ws.Read.GetAsync("/api/leads/lead_00000000000000000000000000/duplicates")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
        var other = await api.CreateWorkspaceAsync();
        await (await other.Read.GetAsync($"/api/leads/{p.Id()}/duplicates")).ShouldBeProblemAsync(HttpStatusCode.NotFound, "lead_not_found");
    }

    [Fact]
    public async Task Deleting_a_primary_promotes_its_oldest_duplicate_deleting_a_duplicate_just_removes_it()
    {
        var ws = await api.CreateWorkspaceAsync();
        var p = await ws.CreateLeadAsync(new { email = "x@acme.io" });
        var d1 = await ws.CreateLeadAsync(new { email = "x@acme.io" });
        var d2 = await ws.CreateLeadAsync(new { email = "x@acme.io" });
        var d3 = await ws.CreateLeadAsync(new { email = "x@acme.io" });

        (await ws.Full.DeleteAsync($"/api/leads/{d3.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await ws.Full.DeleteAsync($"/api/leads/{p.Id()}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);

        var heir = await ws.Read.GetObjectAsync($"/api/leads/{d1.Id()}");
        heir["isDuplicate"]!.GetValue<bool>().ShouldBeFalse();
        heir["duplicateOf"].ShouldBeNull();
        var rest = await ws.Read.GetObjectAsync($"/api/leads/{d2.Id()}");
        JsonNode.DeepEquals(rest["duplicateOf"], JsonNode.Parse($$"""{"id":"{{d1.Id()}}","matchedOn":["email"]}""")).ShouldBeTrue();
        var stats = await ws.Read.GetObjectAsync("/api/leads/stats");
        stats["total"]!.GetValue<long>().ShouldBe(2);
        stats["duplicates"]!.GetValue<long>().ShouldBe(1);
        // A later intake of the same person joins the promoted primary.
        (await ws.CreateLeadAsync(new { email = "x@acme.io" }))["duplicateOf"]!["id"]!.GetValue<string>().ShouldBe(d1.Id());
    }
}
