using Microsoft.AspNetCore.Builder;
using FastEndpoints;
using Kernel.Data;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Duplicates.Features.MergeLeads;

internal sealed class Endpoint(NpgsqlDataSource db, TimeProvider clock) : Endpoint<Request, LeadDetail>
{
    public override void Configure()
    {
        Post("/api/leads/{id}/merge");
        Options(b => b.WithMetadata(new EntityTagged(acceptsIfMatch: true, onEverySuccess: false)));
        Policies(AuthPolicies.Write);
        Summary(s =>
        {
            s.Summary = "Merge a duplicate into this lead";
            s.Description = "Folds `duplicateId` into `:id` in one transaction and answers the survivor. 422 `merge_self`; 409 `merge_conflict` " +
                            "when a concurrent merge or delete changed either lead first; 422 `merge_notes_too_long` when the concatenated notes would pass " +
                            "1,000,000 characters (shorten one lead's notes first); `dryRun: true` writes nothing. " +
                            "`If-Match` with a stale ETag (of `:id`) is a 412 `precondition_failed` carrying the current `ETag`; nothing changes. The answer carries the lead's new `ETag`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var survivorId = LeadLookup.ParseOrNotFound(r.Id);
        TypeId.TryParse(r.DuplicateId, IdPrefix.Lead, out var duplicateId);
        if (survivorId == duplicateId)
            throw new ApiProblemException(422, "merge_self", "Cannot merge a lead into itself", "duplicateId must name another lead.");
        var survivor = await Retry.OnConflictAsync(
            () => Merger.MergeAsync(db, caller.WorkspaceId, survivorId, duplicateId, r.DryRun ?? false, Actor.ApiKey(caller), clock, ct, HttpContext.Request.Headers.IfMatch),
            _ => Merger.Conflict());
        // A dry run's survivor is a version that was never committed: no ETag for it.
        await Send.OkAsync(r.DryRun == true ? survivor : survivor.WithETag(HttpContext.Response), ct);
    }
}
