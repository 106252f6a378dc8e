using Microsoft.AspNetCore.Builder;
using FastEndpoints;
using Kernel.Data;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Microsoft.AspNetCore.Http;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Tags.Features.AttachTag;

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, Response>
{
    private const int MaxAttempts = 3;

    public override void Configure()
    {
        Post("/api/leads/{id}/tags");
        Options(b => b.WithMetadata(new EntityTagged(acceptsIfMatch: true)));
        Policies(AuthPolicies.Write);
        Description(b => b
            .Produces<Response>(200, "application/json")
            .Produces<Response>(201, "application/json")
            .Produces<ProblemBody>(404, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Tag a lead";
            s.Description = "The name is trimmed (1–50 characters, no control characters) and matched case-insensitively against the " +
                            "workspace's tags; a new name creates the tag. 201 `{id, name}` when the tag was newly attached (with a " +
                            "`tag_added` event), 200 when the lead already carried it (nothing changes). The name returned is the " +
                            "stored one, in the casing it was first created with. 404 `lead_not_found` / `lead_merged`." +
                            "`If-Match` with a stale ETag (of `:id`) is a 412 `precondition_failed` carrying the current `ETag`; nothing changes. The answer carries the lead's new `ETag`.";
            s.Responses[200] = "The lead already carried the tag.";
            s.Responses[201] = "The tag was attached to the lead.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var leadId = LeadLookup.ParseOrNotFound(r.Id);
        var (tag, attached) = await AttachWithRetryAsync(caller, leadId, r.Name!.Trim(), ct);
        await Send.ResponseAsync(tag, attached ? 201 : 200, ct);
    }

    private async Task<(Response Tag, bool Attached)> AttachWithRetryAsync(Caller caller, Guid leadId, string name, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await AttachAsync(caller, leadId, name, ct);
            }
            catch (PostgresException e) when (e.SqlState == Db.SqlState.ForeignKeyViolation && e.ConstraintName == "lead_tags_tag_id_fkey" && attempt < MaxAttempts)
            {
                // The tag was deleted (DELETE /api/tags/:id) between finding it and linking it; starting over
                // creates it afresh.
            }
        }
    }

    private async Task<(Response Tag, bool Attached)> AttachAsync(Caller caller, Guid leadId, string name, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await LeadLookup.LockAsync(conn, tx, caller.WorkspaceId, leadId, ct, HttpContext.Request.Headers.IfMatch);
        var tag = await Data.EnsureTagAsync(conn, tx, caller.WorkspaceId, name, ct);
        var attached = await Data.LinkAsync(conn, tx, caller.WorkspaceId, leadId, tag.Id, ct);
        if (attached)
        {
            await LeadEvents.AppendAsync(conn, tx, caller.WorkspaceId, leadId, LeadEvents.TagAdded,
                new { tagId = TypeId.Format(IdPrefix.Tag, tag.Id), name = tag.Name }, Actor.ApiKey(caller), ct);
            await LeadWriter.TouchAsync(conn, tx, leadId, ct);
        }
        // Spec §9: a write on a lead answers the lead's (new) version.
        HttpContext.Response.Headers.ETag = await LeadVersions.CurrentETagAsync(conn, tx, leadId, ct);
        await tx.CommitAsync(ct);
        return (tag, attached);
    }
}
