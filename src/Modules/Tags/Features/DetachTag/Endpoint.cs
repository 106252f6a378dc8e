using Microsoft.AspNetCore.Builder;
using FastEndpoints;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Microsoft.AspNetCore.Http;
using Modules.Leads.Public;
using Modules.Tags.Data;
using Npgsql;

namespace Modules.Tags.Features.DetachTag;

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request>
{
    public override void Configure()
    {
        Delete("/api/leads/{id}/tags/{tagId}");
        Options(b => b.WithMetadata(new EntityTagged(acceptsIfMatch: true)));
        Policies(AuthPolicies.Write);
        Description(b => b.Produces<ProblemBody>(404, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Remove a tag from a lead";
            s.Description = "204, with a `tag_removed` event. 404 `lead_not_found` / `lead_merged` for the lead; 404 `tag_not_found` " +
                            "when the lead does not carry the tag. The tag itself stays in the workspace (see `DELETE /api/tags/{id}`)." +
                            "`If-Match` with a stale ETag (of `:id`) is a 412 `precondition_failed` carrying the current `ETag`; nothing changes. The 204 carries the lead's new `ETag`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var leadId = LeadLookup.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // The lead answers first, so a missing lead is reported as such whatever the tag ID looks like.
        await LeadLookup.LockAsync(conn, tx, caller.WorkspaceId, leadId, ct, HttpContext.Request.Headers.IfMatch);
        var name = TypeId.TryParse(r.TagId, IdPrefix.Tag, out var tagId)
            ? await Data.UnlinkAsync(conn, tx, caller.WorkspaceId, leadId, tagId, ct)
            : null;
        if (name is null) throw TagProblems.LeadDoesNotCarryTag();
        await LeadEvents.AppendAsync(conn, tx, caller.WorkspaceId, leadId, LeadEvents.TagRemoved,
            new { tagId = TypeId.Format(IdPrefix.Tag, tagId), name }, Actor.ApiKey(caller), ct);
        await LeadWriter.TouchAsync(conn, tx, leadId, ct);
        HttpContext.Response.Headers.ETag = await LeadVersions.CurrentETagAsync(conn, tx, leadId, ct);
        await tx.CommitAsync(ct);
        await Send.NoContentAsync(ct);
    }
}
