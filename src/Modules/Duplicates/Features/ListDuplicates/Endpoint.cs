using FastEndpoints;
using FluentValidation;
using Modules.Duplicates.Suggestions;
using Kernel.Http;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Duplicates.Features.ListDuplicates;

internal sealed class Request
{
    [RouteParam] public string Id { get; init; } = "";

    /// <summary><c>suggested</c>: also answer <c>suggested</c>, likely duplicates outside the group (spec §10).</summary>
    public string? Include { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator() => RuleFor(r => r.Include).Must(i => i is null || i == "suggested").WithMessage("include must be 'suggested'.");
    }
}

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Get("/api/leads/{id}/duplicates");
        Summary(s =>
        {
            s.Summary = "The other members of a lead's duplicate group";
            s.Description = "For a primary: its duplicates. For a duplicate: its primary first, then its siblings. Each item is a list item plus `isPrimary` and `matchedOn`. " +
                            "With `include=suggested`, also `suggested`: up to 10 leads outside the group and not dismissed against this one that are " +
                            "probably the same person, best first, each a list item plus `confidence` (0.0–1.0) and `reasons` (`same_name_similar_company`, " +
                            "`same_name`, `same_email_local_part`, `same_phone_digits`). Nothing is flagged by a suggestion.";
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
        await Send.OkAsync(new Response(data, r.Include == "suggested" ? await SuggestedAsync(conn, workspaceId, id, ct) : null), ct);
    }

    private static async Task<List<SuggestedLead>> SuggestedAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct)
    {
        var suggestions = await Suggester.SuggestAsync(conn, workspaceId, id, ct);
        var items = (await LeadItems.ReadAsync<SuggestedLead>(conn, workspaceId, suggestions.Select(s => s.Id).ToArray(), ct)).ToDictionary(i => i.Id);
        var list = new List<SuggestedLead>(suggestions.Count);
        foreach (var s in suggestions)
        {
            if (!items.TryGetValue(s.Id, out var item)) continue;
            item.Confidence = s.Confidence;
            item.Reasons = s.Reasons;
            list.Add(item);
        }
        return list;
    }
}
