using Microsoft.AspNetCore.Builder;
using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.AssignLead;

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, LeadDetail>
{
    public override void Configure()
    {
        Put("/api/leads/{id}/assign");
        Options(b => b.WithMetadata(new EntityTagged(acceptsIfMatch: true)));
        Policies(AuthPolicies.Write);
        Summary(s =>
        {
            s.Summary = "Assign a lead to a member, or unassign it";
            s.Description = "200 with the full lead; `assigned` event `{from, to}` when it changes. Unknown or other-workspace user → 400." +
                            "`If-Match` with a stale ETag (of `:id`) is a 412 `precondition_failed` carrying the current `ETag`; nothing changes. The answer carries the lead's new `ETag`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = LeadLookup.ParseOrNotFound(r.Id);
        Guid? userId = r.UserId is null ? null : TypeId.TryParse(r.UserId, IdPrefix.User, out var u) ? u : null;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            var lead = await LeadLookup.LockAsync(conn, tx, caller.WorkspaceId, id, ct, HttpContext.Request.Headers.IfMatch);
            // The member check sits after the lock: a member removed meanwhile has already unassigned their leads.
            if (userId is { } uid && !await Data.MemberExistsAsync(conn, tx, caller.WorkspaceId, uid, ct))
                throw ApiProblemException.Validation("userId", "userId does not name a member of this workspace.");
            if (lead.AssignedTo != userId)
            {
                await Data.AssignAsync(conn, tx, id, userId, ct);
                await LeadEvents.AppendAsync(conn, tx, caller.WorkspaceId, id, LeadEvents.Assigned, new
                {
                    from = lead.AssignedTo is { } f ? TypeId.Format(IdPrefix.User, f) : null,
                    to = userId is { } t ? TypeId.Format(IdPrefix.User, t) : null,
                }, Actor.ApiKey(caller), ct);
            }
            await tx.CommitAsync(ct);
        }
        await Send.OkAsync((await LeadReads.RequireDetailAsync(conn, caller.WorkspaceId, id, ct)).WithETag(HttpContext.Response), ct);
    }
}
