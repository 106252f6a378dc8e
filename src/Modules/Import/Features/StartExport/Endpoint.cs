using System.Text.Json;
using FastEndpoints;
using Hangfire;
using Kernel.Http;
using Kernel.Security;
using Microsoft.AspNetCore.Http;
using Modules.Import.Exports;
using Modules.Import.Jobs;
using Npgsql;

namespace Modules.Import.Features.StartExport;

internal sealed class Endpoint(NpgsqlDataSource db, IBackgroundJobClient jobs) : Endpoint<Request, Response>
{
    public override void Configure()
    {
        Post("/api/leads/exports");
        Policies(AuthPolicies.Write);
        Description(b => b
            .ClearDefaultProduces(200)
            .Produces<Response>(202, "application/json")
            .Produces<ProblemBody>(400, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Start a CSV export in the background";
            s.Description = """
                Full scope. Body: the list's filters and order as JSON (`{status?, sourceId?, search?, startDate?, endDate?,
                assignedTo?, duplicates?, tag?, updatedSince?, updatedBefore?, sort?}`; `{}` exports every lead, newest first). 202 with `{id, status: "queued", statusUrl}` and `Location`.
                Poll `GET /api/leads/exports/{id}`; once `completed`, download `fileUrl`. The file is the same CSV as
                `GET /api/leads/export` gives for the same filters, taken from one snapshot when the job runs.
                """;
            s.Responses[202] = "Queued; poll statusUrl.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = Guid.CreateVersion7();
        await using var conn = await db.OpenConnectionAsync(ct);
        await Data.InsertAsync(conn, id, caller.WorkspaceId, JsonSerializer.Serialize(r.ToFilters(), JsonConventions.Options), caller.KeyId, ct);
        try
        {
            jobs.Enqueue<ExportLeadsJob>(ExportLeadsJob.Queue, j => j.RunAsync(id, CancellationToken.None));
        }
        catch
        {
            await Data.MarkNotQueuedAsync(conn, id);
            throw;
        }
        HttpContext.Response.Headers.Location = ExportUrls.Status(id);
        await Send.ResponseAsync(new Response { Id = id, Status = ExportStatus.Queued, StatusUrl = ExportUrls.Status(id) }, StatusCodes.Status202Accepted, ct);
    }
}
