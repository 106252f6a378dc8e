using System.Text.Json;
using FastEndpoints;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Data;
using Modules.Leads.Webhooks;
using Npgsql;

namespace Modules.Leads.Features.UpdateSource;

internal sealed class Endpoint(NpgsqlDataSource db, WebhookUrls urls) : Endpoint<Request, SourceView>
{
    public override void Configure()
    {
        Put("/api/sources/{id}");
        Policies(AuthPolicies.Write);
        Summary(s =>
        {
            s.Summary = "Rename a source or replace its field mappings";
            s.Description = "Send at least one of `name`, `fieldMappings`; `fieldMappings` replaces the whole object. The webhook token " +
                            "does not change. 404 `source_not_found` for an unknown, deleted or other workspace's source.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = SourceReads.ParseOrNotFound(r.Id);
        var mappings = r.FieldMappings is null ? null : JsonSerializer.Serialize(r.FieldMappings);
        await using var conn = await db.OpenConnectionAsync(ct);
        if (!await Data.UpdateAsync(conn, caller.WorkspaceId, id, r.Name?.Trim(), mappings, ct)) throw SourceReads.NotFound();
        var source = await SourceReads.RequireAsync(conn, caller.WorkspaceId, id, ct);
        await Send.OkAsync(urls.Fill(HttpContext.Request, source), ct);
    }
}
