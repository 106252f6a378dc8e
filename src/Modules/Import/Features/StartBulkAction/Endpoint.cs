using System.Text.Json;
using Dapper;
using FastEndpoints;
using Hangfire;
using Kernel.Http;
using Kernel.Security;
using Microsoft.AspNetCore.Http;
using Modules.Import.Bulk;
using Modules.Import.Jobs;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Import.Features.StartBulkAction;

internal sealed class Endpoint(NpgsqlDataSource db, IBackgroundJobClient jobs) : Endpoint<Request, Response>
{
    private const string MemberExistsSql = "SELECT EXISTS (SELECT 1 FROM access.v_members WHERE id = @Id AND workspace_id = @WorkspaceId)";

    public override void Configure()
    {
        Post("/api/leads/bulk");
        Policies(AuthPolicies.Write);
        Description(b => b
            .ClearDefaultProduces(200)
            .Produces<Response>(202, "application/json")
            .Produces<Response>(200, "application/json")
            .Produces<ProblemBody>(400, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Act on every lead matching a filter (set_status, assign, unassign, add_tag, remove_tag, delete)";
            s.Description = """
                Full scope. Body `{filter: {…the list's filters…}, action, status?, userId?, tag?, dryRun?}`; an empty filter needs
                `"all": true`. The leads matching the filter now are fixed as the action's set (`matched` = the list's `total` for that
                filter at this moment); leads created later are untouched. 202 `{id, status: "queued", matched, statusUrl}` and
                `Location`; a background job (Hangfire queue `bulk`) changes the leads in chunks, each lead through the same write
                as its single-lead endpoint with the same event, the key as actor and `bulkId` in the event's data; a crash resumes
                with the chunks not yet finished and changes no lead twice. `dryRun: true` → 200 `{id: null, status: "dry_run",
                matched}`, nothing stored. Unknown member for assign, bad filter or parameter → 400 naming the field.
                `Idempotency-Key` is honoured.
                """;
            s.Responses[202] = "Accepted; poll statusUrl.";
            s.Responses[200] = "Dry run: how many leads the action would act on.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var filters = r.Filter?.ToFilters() ?? new LeadExportFilters();
        await using var conn = await db.OpenConnectionAsync(ct);
        if (r.UserUuid is { } userId && !await conn.ExecuteScalarAsync<bool>(new CommandDefinition(MemberExistsSql,
                new { Id = userId, caller.WorkspaceId }, cancellationToken: ct)))
            throw ApiProblemException.Validation("userId", "userId does not name a member of this workspace.");
        if (r.DryRun == true)
        {
            var count = await LeadSelections.CountAsync(conn, caller.WorkspaceId, filters, ct);
            await Send.OkAsync(new Response { Status = "dry_run", Matched = count }, ct);
            return;
        }

        var id = Guid.CreateVersion7();
        var actor = Actor.ApiKey(caller);
        var parameters = new BulkParams(r.Status, r.UserUuid, r.Tag?.Trim());
        long matched;
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            matched = await LeadSelections.FixAsync(conn, tx, caller.WorkspaceId, filters, id, ct);
            await BulkRuns.InsertAsync(conn, tx, id, caller.WorkspaceId, r.Action!, JsonSerializer.Serialize(parameters, JsonConventions.Options),
                JsonSerializer.Serialize(filters, JsonConventions.Options), matched, actor.Id!, actor.Name, ct);
            await tx.CommitAsync(ct);
        }
        // Not enqueued (storage down)? The action stays queued and a worker's start enqueues it (BulkRecovery).
        jobs.Enqueue<BulkActionJob>(BulkActionJob.Queue, j => j.RunAsync(id, CancellationToken.None));
        HttpContext.Response.Headers.Location = BulkUrls.Status(id);
        await Send.ResponseAsync(new Response { Id = id, Status = BulkStatus.Queued, Matched = matched, StatusUrl = BulkUrls.Status(id) },
            StatusCodes.Status202Accepted, ct);
    }
}
