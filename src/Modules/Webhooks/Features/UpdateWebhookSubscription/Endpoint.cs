using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Kernel.Security;
using Modules.Webhooks.Data;
using Modules.Webhooks.Delivery;
using Npgsql;

namespace Modules.Webhooks.Features.UpdateWebhookSubscription;

internal sealed class Request
{
    /// <summary>The subscription's ID (<c>whs_…</c>).</summary>
    [RouteParam] public string Id { get; init; } = "";

    /// <summary>A new target URL; omitted, unchanged.</summary>
    public string? Url { get; init; }

    /// <summary>New event types; omitted, unchanged.</summary>
    public string[]? Events { get; init; }

    /// <summary>A new note (<c>""</c> clears it); omitted, unchanged.</summary>
    public string? Description { get; init; }

    /// <summary><c>false</c> pauses deliveries; <c>true</c> resumes them (also after the service disabled the subscription).</summary>
    public bool? Active { get; init; }

    internal sealed class Validator : Validator<Request>
    {
        public Validator()
        {
            RuleFor(r => r.Events).Must(e => Subscriptions.EventsProblem(e) is null).When(r => r.Events is not null)
                .WithMessage(r => Subscriptions.EventsProblem(r.Events)!);
            RuleFor(r => r.Description).MaximumLength(500).WithMessage("description must be at most 500 characters.");
        }
    }
}

internal sealed class Endpoint(NpgsqlDataSource db, WebhookOptions options) : Endpoint<Request, SubscriptionView>
{
    // Resuming clears the service's reason and any back-off, so the next batch is tried at once.
    private const string UpdateSql = """
        UPDATE webhooks.subscriptions
        SET url = coalesce(@Url, url),
            events = coalesce(@Events, events),
            description = CASE WHEN @Description::text IS NULL THEN description ELSE nullif(@Description, '') END,
            active = coalesce(@Active, active),
            disabled_reason = CASE WHEN @Active IS NOT NULL THEN NULL ELSE disabled_reason END,
            next_attempt_at = CASE WHEN @Active THEN NULL ELSE next_attempt_at END,
            updated_at = now()
        WHERE id = @Id AND workspace_id = @WorkspaceId
        """;

    private const string ResumeDeliveriesSql = """
        UPDATE webhooks.deliveries SET next_attempt_at = NULL, first_failed_at = NULL
        WHERE subscription_id = @Id AND status = 'pending'
        """;

    public override void Configure()
    {
        Patch("/api/webhook-subscriptions/{id}");
        Policies(AuthPolicies.AdminWrite);
        Summary(s =>
        {
            s.Summary = "Change a webhook subscription";
            s.Description = "Owner/admin with a full-scope key. `{url?, events?, description?, active?}`; omitted fields are unchanged. " +
                "`active: true` resumes a paused or disabled subscription (its `disabledReason` is cleared and pending batches are sent " +
                "at once); batches given up while it was disabled can be sent again with redeliver, or read from the feed.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = Subscriptions.ParseOrNotFound(r.Id);
        if (r.Url is not null && TargetGuard.Problem(r.Url, options.AllowPrivateTargets) is { } problem)
            throw ApiProblemException.Validation("url", problem);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var changed = await conn.ExecuteAsync(new CommandDefinition(UpdateSql, new
        {
            Id = id,
            caller.WorkspaceId,
            Url = r.Url?.Trim(),
            Events = r.Events?.Distinct().ToArray(),
            Description = r.Description?.Trim(),
            r.Active,
        }, tx, cancellationToken: ct));
        if (changed == 0) throw Subscriptions.NotFound();
        if (r.Active == true) await conn.ExecuteAsync(new CommandDefinition(ResumeDeliveriesSql, new { Id = id }, tx, cancellationToken: ct));
        var view = await Subscriptions.RequireAsync(conn, caller.WorkspaceId, id, ct, tx);
        await tx.CommitAsync(ct);
        await Send.OkAsync(view, ct);
    }
}
