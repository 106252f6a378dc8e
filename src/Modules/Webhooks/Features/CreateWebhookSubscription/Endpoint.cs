using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Microsoft.AspNetCore.Http;
using Modules.Webhooks.Data;
using Modules.Webhooks.Delivery;
using Npgsql;

namespace Modules.Webhooks.Features.CreateWebhookSubscription;

internal sealed class Request
{
    /// <summary>Where batches are POSTed: an absolute http(s) URL, ≤ 2000 characters.</summary>
    public string? Url { get; init; }

    /// <summary>Event types to deliver (see <c>GET /api/events</c>).</summary>
    public string[]? Events { get; init; }

    /// <summary>Optional note, ≤ 500 characters.</summary>
    public string? Description { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r.Events).Must(e => Subscriptions.EventsProblem(e) is null)
                .WithMessage(r => Subscriptions.EventsProblem(r.Events)!);
            RuleFor(r => r.Description).MaximumLength(500).WithMessage("description must be at most 500 characters.");
        }
    }
}

internal sealed class Response : SubscriptionView
{
    /// <summary>The signing secret (<c>whsec_…</c>). Shown this one time only; store it now.</summary>
    public string Secret { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db, SecretBox secrets, WebhookOptions options) : Endpoint<Request, Response>
{
    // Deliveries start at the feed's current end: a new subscription receives what happens from now on.
    private const string InsertSql = """
        INSERT INTO webhooks.subscriptions (id, workspace_id, url, events, description, secret, cursor_tx, cursor_position)
        SELECT @Id, @WorkspaceId, @Url, @Events, @Description, @Secret,
               coalesce(max(tx_id::text::bigint), 0), coalesce(max(position), 0)
        FROM (SELECT tx_id, position FROM webhooks.feed_events
              WHERE workspace_id = @WorkspaceId AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY tx_id DESC, position DESC LIMIT 1) last
        """;

    public override void Configure()
    {
        Post("/api/webhook-subscriptions");
        Policies(AuthPolicies.AdminWrite);
        Description(b => b.ClearDefaultProduces(200).Produces<Response>(201, "application/json"));
        Summary(s =>
        {
            s.Summary = "Subscribe a URL to change feed events";
            s.Description = "Owner/admin with a full-scope key. 201 with the subscription and its signing `secret` (`whsec_…`), shown this " +
                "once. From now on, the feed's events of the listed types are POSTed to `url` in batches of up to 100, in feed order, " +
                "signed per Standard Webhooks. Loopback, private and link-local targets are refused (400) unless the service allows them.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        if (TargetGuard.Problem(r.Url, options.AllowPrivateTargets) is { } problem) throw ApiProblemException.Validation("url", problem);
        var id = Guid.CreateVersion7();
        var secret = SecretBox.NewSecret();
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(InsertSql, new
        {
            Id = id,
            caller.WorkspaceId,
            Url = r.Url!.Trim(),
            Events = r.Events!.Distinct().ToArray(),
            Description = string.IsNullOrWhiteSpace(r.Description) ? null : r.Description.Trim(),
            Secret = await secrets.SealAsync(id, secret, ct),
        }, cancellationToken: ct));
        var v = await Subscriptions.RequireAsync(conn, caller.WorkspaceId, id, ct);
        HttpContext.Response.Headers.Location = $"/api/webhook-subscriptions/{TypeId.Format(WebhookIds.Subscription, id)}";
        await Send.ResponseAsync(new Response
        {
            Id = v.Id, Url = v.Url, Events = v.Events, Description = v.Description, Active = v.Active, DisabledReason = v.DisabledReason,
            CreatedAt = v.CreatedAt, UpdatedAt = v.UpdatedAt, Secret = secret,
        }, StatusCodes.Status201Created, ct);
    }
}
