using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Import;
using Leads.Tests.Infrastructure;
using Leads.Tests.Sources;

namespace Leads.Tests.Leads;

/// <summary>
/// ARCHITECTURE "One intake path": the API, the inbound webhook, CSV import and PATCH run the Leads module's one
/// prepare step and (for creation) its one write-batch step, so the same people end as the same leads — the same
/// stored fields, match keys, scores, duplicate flags and <c>duplicate_flagged</c> events — whichever way they came.
/// </summary>
public sealed class IntakePathsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    // In arrival order: the third repeats the first's email, the fourth the first's phone (another format), the fifth has
    // no match key at all; phones in formats the workspace region (US) reads differently, one with an unassigned area code.
    private static readonly Person[] People =
    [
        new("Jane@Acme.com", " Jane", "Smith", "(247) 604-6018", "Acme Corp", "google"),
        new("bob@gmail.com", "Bob", null, "0049 30 1234567", null, null),
        new("JANE@acme.com ", "Janet", "Smith", "+1 650-253-0000", "Other Inc", "bing"),
        new(null, "Ann", "Lee", "247.604.6018", null, null),
        new("carol@mailinator.com", "Carol", null, "call me", "Carol's", "x"),
    ];

    private sealed record Person(string? Email, string? FirstName, string? LastName, string? Phone, string? Company, string? Utm)
    {
        public Dictionary<string, object?> Json()
        {
            var d = new Dictionary<string, object?>();
            if (Email is not null) d["email"] = Email;
            if (FirstName is not null) d["firstName"] = FirstName;
            if (LastName is not null) d["lastName"] = LastName;
            if (Phone is not null) d["phone"] = Phone;
            if (Company is not null) d["company"] = Company;
            return d;
        }
    }

    [Fact]
    public async Task The_same_people_end_as_the_same_leads_through_the_api_the_webhook_and_an_import()
    {
        var viaApi = await api.CreateWorkspaceAsync();
        var apiSource = await viaApi.SourceAsync("Form");
        foreach (var p in People)
        {
            var body = p.Json();
            body["sourceId"] = apiSource;
            if (p.Utm is not null) body["metadata"] = new Dictionary<string, string> { ["utm_source"] = p.Utm };
            var r = await viaApi.Full.PostJsonAsync("/api/leads", body);
            r.StatusCode.ShouldBe(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        }

        var viaHook = await api.CreateWorkspaceAsync();
        var hook = await viaHook.CreateSourceAsync("Form");
        foreach (var p in People)
        {
            var body = p.Json();
            if (p.Utm is not null) body["utm_source"] = p.Utm;
            var r = await api.PostWebhookAsync(hook["webhookToken"]!.GetValue<string>(), JsonSerializer.Serialize(body));
            r.StatusCode.ShouldBe(HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
        }

        var viaImport = await api.CreateWorkspaceAsync();
        var importSource = await viaImport.SourceAsync("Form");
        var csv = new StringBuilder("\uFEFFEmail,First Name,Last Name,Phone,Company,utm_source\r\n");
        foreach (var p in People)
            csv.Append($"{p.Email},{p.FirstName},{p.LastName},{p.Phone},\"{p.Company}\",{p.Utm}\r\n");
        var status = await viaImport.ImportAsync(Encoding.UTF8.GetBytes(csv.ToString()), $"?sourceId={importSource}");
        status["status"]!.GetValue<string>().ShouldBe("completed", status.ToJsonString());
        (status.Long("created"), status.Long("duplicates"), status.Long("failed")).ShouldBe((5L, 2L, 0L));

        var expected = await StoredAsync(viaApi.Id);
        expected.Count(l => l.DuplicateOf is not null).ShouldBe(2);
        expected.Count(l => l.PhoneE164 is not null).ShouldBe(4);
        (await StoredAsync(viaHook.Id)).ShouldBe(expected);
        (await StoredAsync(viaImport.Id)).ShouldBe(expected);
    }

    [Fact]
    public async Task A_lead_edited_into_a_person_stores_what_creating_that_person_stores()
    {
        var ws = await api.CreateWorkspaceAsync();
        var source = await ws.SourceAsync("Form");
        var created = new List<JsonObject>();
        var edited = new List<JsonObject>();
        foreach (var p in People.Where(p => p.Email is not null))
        {
            var body = p.Json();
            body["sourceId"] = source;
            if (p.Utm is not null) body["metadata"] = new Dictionary<string, string> { ["utm_source"] = p.Utm };
            created.Add(await ws.CreateLeadAsync(body));
        }
        var other = await api.CreateWorkspaceAsync();
        var otherSource = await other.SourceAsync("Form");
        foreach (var p in People.Where(p => p.Email is not null))
        {
            var lead = await other.CreateLeadAsync(new { firstName = "Placeholder", phone = "1" });
            var patch = p.Json();
            foreach (var f in new[] { "email", "firstName", "lastName", "phone", "company" }) patch.TryAdd(f, null);
            patch["sourceId"] = otherSource;
            patch["metadata"] = new Dictionary<string, string?> { ["utm_source"] = p.Utm };
            var r = await other.Full.PatchAsync($"/api/leads/{lead.Id()}",
                new StringContent(JsonSerializer.Serialize(patch), Encoding.UTF8, "application/merge-patch+json"));
            r.StatusCode.ShouldBe(HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
            edited.Add((await r.BodyAsync()).AsObject());
        }

        static JsonObject Comparable(JsonObject lead)
        {
            var o = new JsonObject();
            foreach (var k in new[] { "email", "firstName", "lastName", "phone", "phoneE164", "company", "metadata", "score", "isDuplicate" })
                o[k] = lead[k]?.DeepClone();
            return o;
        }
        for (var i = 0; i < created.Count; i++)
            JsonNode.DeepEquals(Comparable(edited[i]), Comparable(created[i])).ShouldBeTrue($"{edited[i].ToJsonString()}\n{created[i].ToJsonString()}");
    }

    private sealed record Stored(string? Email, string? EmailNorm, string? FirstName, string? LastName, string? Phone, string? PhoneE164,
        string? Company, string? Notes, string Metadata, int Score, int CreatedScore, bool HasSource, string Status,
        int? DuplicateOf, string? MatchedOn, string Events);

    /// <summary>The workspace's leads in arrival order; group links and event payloads name leads by that position.</summary>
    private async Task<List<Stored>> StoredAsync(Guid workspaceId)
    {
        await using var db = await api.OpenDbAsync();
        var rows = (await db.QueryAsync<(Guid Id, string? Email, string? EmailNorm, string? FirstName, string? LastName, string? Phone,
            string? PhoneE164, string? Company, string? Notes, string Metadata, int Score, int CreatedScore, bool HasSource, string Status,
            Guid? DuplicateOf, string? MatchedOn)>("""
            SELECT id, email, email_norm, first_name, last_name, phone, phone_e164, company, notes, metadata::text, score::int,
                   created_score::int, source_id IS NOT NULL, status, g.primary_id, array_to_string(g.matched_on, ',')
            FROM leads.leads l LEFT JOIN duplicates.group_members g ON g.lead_id = l.id
            WHERE l.workspace_id = @WorkspaceId ORDER BY created_at, id
            """, new { WorkspaceId = workspaceId })).ToList();
        var position = rows.Select((r, i) => (r.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var events = (await db.QueryAsync<(Guid LeadId, string Type, string Data)>("""
            SELECT lead_id, type, data::text FROM leads.events WHERE workspace_id = @WorkspaceId ORDER BY lead_id, id
            """, new { WorkspaceId = workspaceId })).ToList();
        string EventsOf(Guid id) => string.Join(";", events.Where(e => e.LeadId == id).Select(e =>
        {
            var data = JsonNode.Parse(e.Data)!.AsObject();
            if (data["primaryId"] is { } p) data["primaryId"] = position[Kernel.Ids.TypeId.TryParse(p.GetValue<string>(), "lead", out var g) ? g : Guid.Empty];
            return $"{e.Type}:{data.ToJsonString()}";
        }));
        return rows.Select(r => new Stored(r.Email, r.EmailNorm, r.FirstName, r.LastName, r.Phone, r.PhoneE164, r.Company, r.Notes,
            r.Metadata, r.Score, r.CreatedScore, r.HasSource, r.Status, r.DuplicateOf is { } d ? position[d] : null, r.MatchedOn,
            EventsOf(r.Id))).ToList();
    }
}
