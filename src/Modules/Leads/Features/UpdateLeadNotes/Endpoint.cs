using Microsoft.AspNetCore.Builder;
using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.UpdateLeadNotes;

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, LeadDetail>
{
    public override void Configure()
    {
        Put("/api/leads/{id}/notes");
        Options(b => b.WithMetadata(new EntityTagged(acceptsIfMatch: true)));
        Policies(AuthPolicies.Write);
        Summary(s =>
        {
            s.Summary = "Replace a lead's notes";
            s.Description = "200 with the full lead; `notes_updated` event when the notes change." +
                            "`If-Match` with a stale ETag (of `:id`) is a 412 `precondition_failed` carrying the current `ETag`; nothing changes. The answer carries the lead's new `ETag`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = LeadLookup.ParseOrNotFound(r.Id);
        var notes = string.IsNullOrEmpty(r.Notes) ? null : r.Notes;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            var lead = await LeadLookup.LockAsync(conn, tx, caller.WorkspaceId, id, ct, HttpContext.Request.Headers.IfMatch);
            if (lead.Notes != notes)
            {
                await Data.SetNotesAsync(conn, tx, id, notes, ct);
                await LeadEvents.AppendAsync(conn, tx, caller.WorkspaceId, id, LeadEvents.NotesUpdated, new { }, Actor.ApiKey(caller), ct);
            }
            await tx.CommitAsync(ct);
        }
        await Send.OkAsync((await LeadReads.RequireDetailAsync(conn, caller.WorkspaceId, id, ct)).WithETag(HttpContext.Response), ct);
    }
}
