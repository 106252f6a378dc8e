using FastEndpoints;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Data;
using Modules.Leads.Webhooks;
using Npgsql;

namespace Modules.Leads.Features.RegenerateSourceToken;

internal sealed class Request
{
    /// <summary>The source's ID (<c>src_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db, WebhookUrls urls) : Endpoint<Request, SourceView>
{
    public override void Configure()
    {
        Post("/api/sources/{id}/regenerate-token");
        Policies(AuthPolicies.Write);
        Summary(s =>
        {
            s.Summary = "Replace a source's webhook token";
            s.Description = "200 with the source and its new `webhookToken` and `webhookUrl`. The old token stops working at once " +
                            "(404 `webhook_not_found`). 404 `source_not_found` for an unknown, deleted or other workspace's source.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = SourceReads.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        if (!await Data.SetTokenAsync(conn, caller.WorkspaceId, id, WebhookTokens.Generate(), ct)) throw SourceReads.NotFound();
        var source = await SourceReads.RequireAsync(conn, caller.WorkspaceId, id, ct);
        await Send.OkAsync(urls.Fill(HttpContext.Request, source), ct);
    }
}
