using FastEndpoints;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Data;
using Npgsql;

namespace Modules.Leads.Features.DeleteSource;

internal sealed class Request
{
    /// <summary>The source's ID (<c>src_…</c> or bare UUID).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request>
{
    public override void Configure()
    {
        Delete("/api/sources/{id}");
        Policies(AuthPolicies.Write);
        Summary(s =>
        {
            s.Summary = "Delete a source";
            s.Description = "204. Its webhook stops accepting leads at once (404 `webhook_not_found`). Leads keep the source and show it " +
                            "as `{id, name, deleted: true}`. 404 `source_not_found` for an unknown, already deleted or other workspace's source.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var id = SourceReads.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        if (!await Data.SoftDeleteAsync(conn, HttpContext.Caller().WorkspaceId, id, ct)) throw SourceReads.NotFound();
        await Send.NoContentAsync(ct);
    }
}
