using System.Net;
using Dapper;
using Kernel.Ids;
using Leads.Tests.Infrastructure;

namespace Leads.Tests.Tags;

/// <summary>Typed helpers for the tag tests: leads to tag, the two tag calls, and what the database holds.</summary>
internal static class TagsTestKit
{
    public static async Task<string> CreateLeadAsync(this TestWorkspace ws)
    {
        var r = await ws.Full.PostJsonAsync("/api/leads", new { email = $"{Guid.NewGuid():N}@example.com", firstName = "Tess" });
        r.StatusCode.ShouldBe(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        return (await r.BodyAsync())["id"]!.GetValue<string>();
    }

    public static Task<HttpResponseMessage> AttachAsync(this HttpClient c, string leadId, string name) =>
        c.PostJsonAsync($"/api/leads/{leadId}/tags", new { name });

    /// <summary>Attaches and returns the tag's ID, asserting a 200 or 201.</summary>
    public static async Task<string> TagAsync(this TestWorkspace ws, string leadId, string name)
    {
        var r = await ws.Full.AttachAsync(leadId, name);
        r.StatusCode.ShouldBeOneOf([HttpStatusCode.Created, HttpStatusCode.OK], await r.Content.ReadAsStringAsync());
        return (await r.BodyAsync())["id"]!.GetValue<string>();
    }

    public static Guid Uuid(string typeId) =>
        TypeId.TryParseAny(typeId, out _, out var id) ? id : throw new ArgumentException($"not a TypeID: {typeId}");

    public static Task<int> TagRowsAsync(this ApiFactory api, Guid workspaceId) =>
        api.ScalarAsync<int>("SELECT count(*)::int FROM tags.tags WHERE workspace_id = @workspaceId", new { workspaceId });

    public static Task<int> LinkRowsAsync(this ApiFactory api, Guid workspaceId) =>
        api.ScalarAsync<int>("SELECT count(*)::int FROM tags.lead_tags WHERE workspace_id = @workspaceId", new { workspaceId });

    /// <summary>The lead's tag_added/tag_removed events, oldest first.</summary>
    public static async Task<IReadOnlyList<TagEvent>> TagEventsAsync(this ApiFactory api, string leadId)
    {
        await using var db = await api.OpenDbAsync();
        return (await db.QueryAsync<TagEvent>("""
            SELECT type, data->>'tagId' AS tagid, data->>'name' AS name, actor_type AS actortype, actor_id AS actorid,
                   (SELECT count(*) FROM jsonb_object_keys(data))::int AS datakeys
            FROM leads.events
            WHERE lead_id = @Id AND type IN ('tag_added', 'tag_removed')
            ORDER BY created_at, id
            """, new { Id = Uuid(leadId) })).AsList();
    }

    public static async Task<string[]> LeadTagNamesAsync(this TestWorkspace ws, string leadId)
    {
        var lead = await (await ws.Read.GetAsync($"/api/leads/{leadId}")).BodyAsync();
        return lead["tags"]!.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToArray();
    }
}

internal sealed record TagEvent(string Type, string TagId, string Name, string ActorType, string ActorId, int DataKeys);
