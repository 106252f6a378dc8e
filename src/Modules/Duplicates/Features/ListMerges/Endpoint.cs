using FastEndpoints;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Modules.Duplicates.Merges;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Duplicates.Features.ListMerges;

internal sealed class Request
{
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class ActorView
{
    /// <summary><c>api_key</c>, <c>webhook</c>, <c>import</c> or <c>system</c>.</summary>
    [OneOf(typeof(ActorTypes))] public string Type { get; init; } = "";
    public string? Id { get; init; }
    public string? Name { get; init; }
}

internal sealed class MergeView
{
    /// <summary>The lead merged into this one (it answers 404 <c>lead_merged</c> until the merge is undone).</summary>
    [TypeId(IdPrefix.Lead)] public Guid MergedLeadId { get; init; }
    public DateTime MergedAt { get; init; }
    /// <summary>The merge can be undone (<c>POST /api/leads/:id/unmerge</c>) until then.</summary>
    public DateTime UndoableUntil { get; init; }
    /// <summary>Who merged.</summary>
    public ActorView By { get; init; } = new();
}

internal sealed record Response(IReadOnlyList<MergeView> Data);

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Get("/api/leads/{id}/merges");
        Summary(s =>
        {
            s.Summary = "The merges into a lead that can still be undone";
            s.Description = "Newest first: `{mergedLeadId, mergedAt, undoableUntil, by}` for every lead merged into `:id` and not unmerged since " +
                            "(an expired one stays listed, and undoing it is a 409 `unmerge_expired`, until the retention sweep deletes its record — " +
                            "`Duplicates:MergeRecordRetention`, 30 days by default — after which it is no longer listed). Undo the newest first " +
                            "(`POST /api/leads/:id/unmerge`).";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var workspaceId = HttpContext.Caller().WorkspaceId;
        var id = LeadLookup.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        await LeadLookup.EnsureExistsAsync(conn, workspaceId, id, ct);
        var merges = await MergeRecords.ListAsync(conn, workspaceId, id, ct);
        await Send.OkAsync(new Response([.. merges.Select(m => new MergeView
        {
            MergedLeadId = m.MergedLeadId,
            MergedAt = m.MergedAt,
            UndoableUntil = m.MergedAt + MergeRecords.Undoable,
            By = new ActorView { Type = m.ActorType, Id = m.ActorId, Name = m.ActorName },
        })]), ct);
    }
}
