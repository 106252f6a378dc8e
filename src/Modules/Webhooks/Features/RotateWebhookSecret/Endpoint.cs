using Dapper;
using FastEndpoints;
using Kernel.Http;
using Kernel.Security;
using Modules.Webhooks.Data;
using Npgsql;

namespace Modules.Webhooks.Features.RotateWebhookSecret;

internal sealed class Request
{
    /// <summary>The subscription's ID (<c>whs_…</c>).</summary>
    [RouteParam] public string Id { get; init; } = "";
}

internal sealed class Response : SubscriptionView
{
    /// <summary>The new signing secret (<c>whsec_…</c>). Shown this one time only.</summary>
    public string Secret { get; init; } = "";
}

internal sealed class Endpoint(NpgsqlDataSource db, SecretBox secrets) : Endpoint<Request, Response>
{
    private const string RotateSql = """
        UPDATE webhooks.subscriptions SET secret = @Secret, updated_at = now() WHERE id = @Id AND workspace_id = @WorkspaceId
        """;

    public override void Configure()
    {
        Post("/api/webhook-subscriptions/{id}/rotate-secret");
        Policies(AuthPolicies.AdminWrite);
        Summary(s =>
        {
            s.Summary = "Replace a subscription's signing secret";
            s.Description = "Owner/admin with a full-scope key. 200 with the subscription and its new `secret`, shown this once. " +
                "Every delivery attempt from now on — retries of earlier batches included — is signed with the new secret.";
        });
    }

    public override async Task HandleAsync(Request r, CancellationToken ct)
    {
        var caller = HttpContext.Caller();
        var id = Subscriptions.ParseOrNotFound(r.Id);
        var secret = SecretBox.NewSecret();
        await using var conn = await db.OpenConnectionAsync(ct);
        var rotated = await conn.ExecuteAsync(new CommandDefinition(RotateSql,
            new { Id = id, caller.WorkspaceId, Secret = await secrets.SealAsync(id, secret, ct) }, cancellationToken: ct));
        if (rotated == 0) throw Subscriptions.NotFound();
        var v = await Subscriptions.RequireAsync(conn, caller.WorkspaceId, id, ct);
        await Send.OkAsync(new Response
        {
            Id = v.Id, Url = v.Url, Events = v.Events, Description = v.Description, Active = v.Active, DisabledReason = v.DisabledReason,
            CreatedAt = v.CreatedAt, UpdatedAt = v.UpdatedAt, Secret = secret,
        }, ct);
    }
}
