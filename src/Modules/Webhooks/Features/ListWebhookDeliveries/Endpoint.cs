using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Kernel.Security;
using Modules.Webhooks.Data;
using Npgsql;

namespace Modules.Webhooks.Features.ListWebhookDeliveries;

internal sealed class Request
{
    /// <summary>The subscription's ID (<c>whs_…</c>).</summary>
    [RouteParam] public string Id { get; init; } = "";

    /// <summary>Page number, ≥ 1 (default 1).</summary>
    [QueryParam] public string? Page { get; init; }

    /// <summary>Page size, 1–100 (default 20).</summary>
    [QueryParam] public string? Limit { get; init; }

    internal int PageNo => int.TryParse(Page, out var p) ? p : 1;
    internal int PageSize => int.TryParse(Limit, out var l) ? l : 20;

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r.Page).Must(p => int.TryParse(p, out var n) && n is >= 1 and <= 1_000_000).When(r => r.Page is not null)
                .WithMessage("page must be an integer ≥ 1.");
            RuleFor(r => r.Limit).Must(l => int.TryParse(l, out var n) && n is >= 1 and <= 100).When(r => r.Limit is not null)
                .WithMessage("limit must be an integer from 1 to 100.");
        }
    }
}

internal sealed class Response
{
    /// <summary>Newest first.</summary>
    public IReadOnlyList<DeliveryView> Data { get; init; } = [];
    public int Page { get; init; }
    public int Limit { get; init; }
    public long Total { get; init; }
}

internal sealed class Endpoint(NpgsqlDataSource db) : Endpoint<Request, Response>
{
    private static readonly string PageSql = $"""
        {Subscriptions.SelectDeliveries}
        WHERE subscription_id = @Id
        ORDER BY created_at DESC, id DESC
        LIMIT @Limit OFFSET @Offset;
        SELECT count(*) FROM webhooks.deliveries WHERE subscription_id = @Id;
        """;

    public override void Configure()
    {
        Get("/api/webhook-subscriptions/{id}/deliveries");
        Policies(AuthPolicies.AdminRead);
        Summary(s =>
        {
            s.Summary = "List a subscription's deliveries";
            s.Description = "Owner/admin. `{data: [{id, kind, eventIds, status, attempts, lastStatusCode, lastError, nextAttemptAt, createdAt, " +
                "deliveredAt}], page, limit, total}`, newest first; `page` ≥ 1, `limit` 1–100 (default 20). Kept 30 days.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var id = Subscriptions.ParseOrNotFound(r.Id);
        await using var conn = await db.OpenConnectionAsync(ct);
        await Subscriptions.RequireAsync(conn, HttpContext.Caller().WorkspaceId, id, ct);
        await using var grid = await conn.QueryMultipleAsync(new CommandDefinition(PageSql,
            new { Id = id, Limit = r.PageSize, Offset = (long)(r.PageNo - 1) * r.PageSize }, cancellationToken: ct));
        var rows = (await grid.ReadAsync<Subscriptions.DeliveryRow>()).Select(d => d.View()).ToList();
        var total = await grid.ReadSingleAsync<long>();
        await Send.OkAsync(new Response { Data = rows, Page = r.PageNo, Limit = r.PageSize, Total = total }, ct);
    }
}
