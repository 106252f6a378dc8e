using Dapper;
using FastEndpoints;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.DeleteLead;

internal sealed class Endpoint(NpgsqlDataSource db, IEnumerable<ILeadDeletionParticipant> participants) : Endpoint<Request>
{
    public override void Configure()
    {
        Delete("/api/leads/{id}");
        Policies(AuthPolicies.Write);
        Summary(s =>
        {
            s.Summary = "Delete a lead for good";
            s.Description = "204. The lead, its events, tag links and duplicate links are gone; deleting a primary promotes its oldest duplicate.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = LeadLookup.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var lead = await LeadLookup.LockAsync(conn, tx, caller.WorkspaceId, id, ct);
        foreach (var p in participants) await p.OnLeadDeletingAsync(conn, tx, lead, ct);
        await Data.DeleteAsync(conn, tx, id, ct);
        await tx.CommitAsync(ct);
        await Send.NoContentAsync(ct);
    }
}
