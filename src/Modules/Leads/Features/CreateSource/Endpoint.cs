using System.Text.Json;
using FastEndpoints;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Microsoft.AspNetCore.Http;
using Modules.Leads.Data;
using Modules.Leads.Webhooks;
using Npgsql;

namespace Modules.Leads.Features.CreateSource;

internal sealed class Endpoint(NpgsqlDataSource db, WebhookUrls urls) : Endpoint<Request, SourceView>
{
    public override void Configure()
    {
        Post("/api/sources");
        Policies(AuthPolicies.Write);
        Description(b => b.ClearDefaultProduces(200).Produces<SourceView>(201, "application/json"));
        Summary(s =>
        {
            s.Summary = "Create a source";
            s.Description = "A source names where leads come from and owns one inbound webhook. The response carries its new " +
                            "`webhookToken` and `webhookUrl`; the calling key's member is `createdBy`. 201 with `Location`.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = Guid.CreateVersion7();
        await using var conn = await db.OpenConnectionAsync(ct);
        await Data.InsertAsync(conn, id, caller.WorkspaceId, r.Name!.Trim(), WebhookTokens.Generate(),
            JsonSerializer.Serialize(r.FieldMappings ?? []), caller.MemberId, ct);
        var source = await SourceReads.RequireAsync(conn, caller.WorkspaceId, id, ct);
        HttpContext.Response.Headers.Location = $"/api/sources/{TypeId.Format(IdPrefix.Source, id)}";
        await Send.ResponseAsync(urls.Fill(HttpContext.Request, source), 201, ct);
    }
}
