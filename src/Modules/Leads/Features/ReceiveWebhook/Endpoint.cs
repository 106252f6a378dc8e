using FastEndpoints;
using Kernel.Http;
using Kernel.Security;
using Microsoft.AspNetCore.Http;
using Modules.Leads.Public;
using Modules.Leads.Webhooks;
using Npgsql;

namespace Modules.Leads.Features.ReceiveWebhook;

internal sealed class Response
{
    public bool Success { get; init; } = true;
}

/// <summary>
/// The inbound webhook (spec §6). Anonymous: the token in the path is the credential. The body is free-form
/// JSON read here with a size cap rather than bound to a DTO, so unknown fields become metadata instead of
/// being rejected like on every other endpoint.
/// </summary>
internal sealed class Endpoint(NpgsqlDataSource db, LeadIntake intake, WebhookRateLimiter limiter) : EndpointWithoutRequest<Response>
{
    public override void Configure()
    {
        Post("/api/webhooks/{token}", "/api/webhooks/inbound/{token}");
        AllowAnonymous();
        Description(b => b
            // Documents the JSON object body; "*/*" and isOptional keep routing from answering 415 to senders that
            // label their JSON text/plain or not at all (the spec's webhook answers 200/400/404/413/429 only).
            .Accepts<Dictionary<string, object>>(isOptional: true, "application/json", "*/*")
            .Produces<ProblemBody>(400, Problems.ContentType)
            .Produces<ProblemBody>(404, Problems.ContentType)
            .Produces<ProblemBody>(413, Problems.ContentType)
            .Produces<ProblemBody>(429, Problems.ContentType));
        Summary(s =>
        {
            s.Summary = "Receive a lead from a source's inbound webhook";
            s.Description = "No API key: the source's `webhookToken` in the path is the credential. The body is one JSON object (≤ 64 KB). " +
                            "Fields named in the source's `fieldMappings` fill their lead field; `email`, `firstName`, `lastName`, `phone` and " +
                            "`company` fill themselves; every other field is kept in `metadata`. The lead then goes through the same intake " +
                            "(validation, duplicate detection, scoring) as `POST /api/leads`. 404 `webhook_not_found` for an unknown, " +
                            "regenerated or deleted source's token; 413 `payload_too_large`; 429 `rate_limited` (with `Retry-After`) " +
                            "beyond the per-client-IP budget (default 100 requests a minute).";
        });
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        if (!limiter.TryAcquire(HttpContext.Connection.RemoteIpAddress, out var retryAfter))
        {
            HttpContext.Response.Headers.RetryAfter = retryAfter.ToString();
            throw new ApiProblemException(429, ProblemCodes.RateLimited, "Too many requests",
                $"This address may call webhooks {limiter.Limit} times per minute. Retry after {retryAfter} s.");
        }
        // A declared oversize body is refused before any database work; ReadAsync enforces the cap on the rest.
        if (HttpContext.Request.ContentLength > WebhookPayload.MaxBytes) throw WebhookPayload.TooLarge();

        var token = Route<string>("token", isRequired: false);
        if (!WebhookTokens.IsWellFormed(token)) throw NotFound();
        Data.WebhookSource source;
        await using (var conn = await db.OpenConnectionAsync(ct))
            source = await Data.FindAsync(conn, token!, ct) ?? throw NotFound();

        var payload = WebhookPayload.Map(await WebhookPayload.ReadAsync(HttpContext.Request, ct), source.FieldMappings);
        try
        {
            await intake.CreateAsync(source.WorkspaceId, payload.Input, source.Id, LeadChannels.Webhook, Actor.Webhook(source.Id, source.Name), ct);
        }
        catch (ApiProblemException e) when (e.Errors?.ContainsKey("sourceId") == true)
        {
            // The source was deleted between the token lookup and the insert: its token is dead now.
            throw NotFound();
        }
        catch (ApiProblemException e) when (e.Errors is not null)
        {
            throw payload.Rename(e);
        }
        await Send.OkAsync(new Response(), ct);
    }

    private static ApiProblemException NotFound() => new(404, "webhook_not_found", "Webhook not found",
        "No source has this webhook token: it is mistyped, was regenerated, or its source was deleted.");
}
