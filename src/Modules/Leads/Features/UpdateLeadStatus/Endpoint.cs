using Microsoft.AspNetCore.Builder;
using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.UpdateLeadStatus;

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, LeadDetail>
{
    public override void Configure()
    {
        Put("/api/leads/{id}/status");
        Options(b => b.WithMetadata(new EntityTagged(acceptsIfMatch: true)));
        Policies(AuthPolicies.Write);
        Summary(s =>
        {
            s.Summary = "Change a lead's status";
            s.Description = "200 with the full lead. Records `status_changed` (none when unchanged) and rescoring's `score_changed`." +
                            "`If-Match` with a stale ETag (of `:id`) is a 412 `precondition_failed` carrying the current `ETag`; nothing changes. The answer carries the lead's new `ETag`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = LeadLookup.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            var lead = await LeadLookup.LockAsync(conn, tx, caller.WorkspaceId, id, ct, HttpContext.Request.Headers.IfMatch);
            if (lead.Status != r.Status)
            {
                var actor = Actor.ApiKey(caller);
                await Data.SetStatusAsync(conn, tx, id, r.Status!, ct);
                await LeadEvents.AppendAsync(conn, tx, caller.WorkspaceId, id, LeadEvents.StatusChanged, new { from = lead.Status, to = r.Status }, actor, ct);
                await LeadWriter.RescoreAsync(conn, tx, lead with { Status = r.Status! }, actor, ct);
            }
            await tx.CommitAsync(ct);
        }
        await Send.OkAsync((await LeadReads.RequireDetailAsync(conn, caller.WorkspaceId, id, ct)).WithETag(HttpContext.Response), ct);
    }
}
