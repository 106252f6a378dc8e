using Dapper;
using FastEndpoints;
using Kernel.Data;
using FluentValidation;
using Kernel.Http;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.LeadStats;

internal sealed class Endpoint(ReadDataSource db) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Get("/api/leads/stats");
        Summary(s =>
        {
            s.Summary = "Lead counts by status";
            s.Description = "All five status keys always present. Accepts the list's filters; adds `duplicates` (flagged) and `unassigned`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var (filter, _) = LeadFilter.Parse(HttpContext.Caller().WorkspaceId, r);
        await using var conn = await db.OpenConnectionAsync(ct);
        await Send.OkAsync(await Data.StatsAsync(conn, filter!, ct), ct);
    }
}
