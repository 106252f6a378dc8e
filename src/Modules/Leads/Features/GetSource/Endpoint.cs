using FastEndpoints;
using Kernel.Http;
using Modules.Leads.Data;
using Modules.Leads.Webhooks;
using Npgsql;

namespace Modules.Leads.Features.GetSource;

internal sealed class Request
{
    /// <summary>The source's ID (<c>src_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db, WebhookUrls urls) : Endpoint<Request, SourceView>
{
    public override void Configure()
    {
        Get("/api/sources/{id}");
        Summary(s =>
        {
            s.Summary = "Get a source";
            s.Description = "404 `source_not_found` for an unknown, deleted or other workspace's source.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var id = SourceReads.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        var source = await SourceReads.RequireAsync(conn, HttpContext.Caller().WorkspaceId, id, ct);
        await Send.OkAsync(urls.Fill(HttpContext.Request, source), ct);
    }
}
