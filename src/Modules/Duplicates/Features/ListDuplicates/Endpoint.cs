using FastEndpoints;
using Kernel.Http;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Duplicates.Features.ListDuplicates;

internal sealed class Request
{
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Get("/api/leads/{id}/duplicates");
        Summary(s =>
        {
            s.Summary = "The other members of a lead's duplicate group";
            s.Description = "For a primary: its duplicates. For a duplicate: its primary first, then its siblings. Each item is a list item plus `isPrimary` and `matchedOn`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var workspaceId = HttpContext.Caller().WorkspaceId;
        var id = LeadLookup.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        var lead = await Data.LeadAsync(conn, workspaceId, id, ct) ?? throw await LeadLookup.MissingAsync(conn, null, workspaceId, id, ct);
        var primary = lead.DuplicateOf ?? lead.Id;
        var members = await Data.MembersAsync(conn, workspaceId, id, primary, ct);
        var items = (await LeadItems.ReadAsync<GroupMember>(conn, workspaceId, members.Select(m => m.Id).ToArray(), ct)).ToDictionary(i => i.Id);
        var data = new List<GroupMember>(members.Count);
        foreach (var m in members)
        {
            if (!items.TryGetValue(m.Id, out var item)) continue;
            item.IsPrimary = m.IsPrimary;
            item.MatchedOn = m.IsPrimary ? lead.MatchedOn : m.MatchedOn;
            data.Add(item);
        }
        await Send.OkAsync(new Response(data), ct);
    }
}
