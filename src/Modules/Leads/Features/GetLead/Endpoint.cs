using Microsoft.AspNetCore.Builder;
using FastEndpoints;
using Kernel.Http;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.GetLead;

internal sealed class Request
{
    /// <summary>The lead's ID (<c>lead_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, LeadDetail>
{
    public override void Configure()
    {
        Get("/api/leads/{id}");
        Options(b => b.WithMetadata(new EntityTagged(acceptsIfMatch: false)));
        Summary(s =>
        {
            s.Summary = "Get a lead with everything";
            s.Description = "The full lead, with its version in the `ETag` header (send it back as `If-Match` on a write to refuse a stale " +
                            "edit with 412). 404 `lead_not_found`, or 404 `lead_merged` with `mergedIntoId` for a lead merged away.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var id = LeadLookup.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        var lead = await LeadReads.RequireDetailAsync(conn, HttpContext.Caller().WorkspaceId, id, ct);
        await Send.OkAsync(lead.WithETag(HttpContext.Response), ct);
    }
}
