using FastEndpoints;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Microsoft.AspNetCore.Http;
using Modules.Leads.Public;
using Modules.Tags.Data;
using Npgsql;

namespace Modules.Tags.Features.DeleteTag;

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request>
{
    public override void Configure()
    {
        Delete("/api/tags/{id}");
        Policies(AuthPolicies.Write);
        Description(b => b.Produces<ProblemBody>(404, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Delete a tag from the workspace";
            s.Description = "204. The tag is removed from every lead carrying it, each with a `tag_removed` event, in one transaction. " +
                            "404 `tag_not_found`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        if (!TypeId.TryParse(r.Id, IdPrefix.Tag, out var id)) throw TagProblems.TagNotFound();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var name = await Data.LockTagAsync(conn, tx, caller.WorkspaceId, id, ct) ?? throw TagProblems.TagNotFound();
        // Lock order tag → leads (ascending ID). An attach that holds a lead and waits for the tag is not linked
        // yet, so it is not in this list and nothing waits in a circle. Leads deleted or merged away meanwhile took
        // their links with them. Set-based from here: a tag on 100,000 leads is a handful of statements, not 300,000.
        await LeadLocks.LockAllAsync(conn, tx, caller.WorkspaceId, [.. await Data.LinkedLeadsAsync(conn, tx, id, ct)], ct);
        var unlinked = await Data.UnlinkAllAsync(conn, tx, id, ct);
        await LeadWriter.TouchAllWithEventAsync(conn, tx, caller.WorkspaceId, [.. unlinked], LeadEvents.TagRemoved,
            new { tagId = TypeId.Format(IdPrefix.Tag, id), name }, Actor.ApiKey(caller), ct);
        await Data.DeleteTagAsync(conn, tx, id, ct);
        await tx.CommitAsync(ct);
        await Send.NoContentAsync(ct);
    }
}
