using FastEndpoints;
using Kernel.Http;
using Modules.Leads.Data;
using Modules.Leads.Webhooks;
using Npgsql;

namespace Modules.Leads.Features.ListSources;

internal sealed class Endpoint(NpgsqlDataSource db, WebhookUrls urls) : EndpointWithoutRequest<IReadOnlyList<SourceView>>
{
    public override void Configure()
    {
        Get("/api/sources");
        Summary(s =>
        {
            s.Summary = "List the workspace's sources";
            s.Description = "Every source that has not been deleted, oldest first, each with its webhook token, webhook URL, field mappings " +
                            "and the member who created it.";
        });
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var sources = await SourceReads.ListAsync(conn, HttpContext.Caller().WorkspaceId, null, ct);
        await Send.OkAsync(urls.Fill(HttpContext.Request, sources), ct);
    }
}
