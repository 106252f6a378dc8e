using FastEndpoints;
using Kernel.Data;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Duplicates.Features.UnmergeLead;

internal sealed class Endpoint(NpgsqlDataSource db, TimeProvider clock) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Post("/api/leads/{id}/unmerge");
        Options(b => b.WithMetadata(new EntityTagged(acceptsIfMatch: true)));
        Policies(AuthPolicies.Write);
        Description(b => b.Produces<ProblemBody>(409, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Undo a merge into this lead";
            s.Description = "Within 30 days of merging `mergedLeadId` into `:id`: the merged lead comes back with its own ID, fields, status, notes, " +
                            "assignee (none if no longer a member), tags (those still existing), metadata, score, duplicate flag (none if its primary " +
                            "is gone) and timeline, event IDs included, as they were when merged. `:id` gives back what the merge gave it unless " +
                            "changed since: the fields it took from the merged lead, its metadata keys, its appended notes block, the tags it carried " +
                            "only because of the merge, the re-pointed duplicates. An `unmerged` event on both. 200 `{survivor, restored}`; 404 " +
                            "`merge_not_found` when `mergedLeadId` was not merged into `:id` (or the merge was undone); 409 `unmerge_expired` after 30 " +
                            "days; 409 `unmerge_order` when a later merge into `:id` must be undone first (its lead ID in `detail`); 409 " +
                            "`merge_conflict` when a concurrent write kept changing the leads. `If-Match` (of `:id`) with a stale ETag is a 412. " +
                            "The answer carries the survivor's new `ETag`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var survivorId = LeadLookup.ParseOrNotFound(r.Id);
        TypeId.TryParse(r.MergedLeadId, IdPrefix.Lead, out var mergedId);
        var result = await Retry.OnConflictAsync(
            () => Unmerger.UnmergeAsync(db, clock, caller.WorkspaceId, survivorId, mergedId, Actor.ApiKey(caller), HttpContext.Request.Headers.IfMatch, ct),
            _ => Modules.Duplicates.Features.MergeLeads.Merger.Conflict());
        result.Survivor.WithETag(HttpContext.Response);
        await Send.OkAsync(result, ct);
    }
}
