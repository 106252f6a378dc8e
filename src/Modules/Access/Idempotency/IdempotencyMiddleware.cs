using System.Security.Cryptography;
using System.Text;
using Kernel.Http;
using Kernel.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Modules.Access.Idempotency;

/// <summary>
/// <c>Idempotency-Key</c> on the create-style POSTs (docs/api.md): scoped per workspace, kept
/// <c>Idempotency:Retention</c> (24 h; <see cref="IdempotencySweep"/> deletes expired records). The first
/// request with a key claims it (a primary-key insert, so exactly one of concurrent requests runs), executes,
/// and stores its status and body with a fingerprint of method, path, query and body. A later request with
/// the same key and the same fingerprint gets the stored answer replayed (<c>Idempotent-Replayed: true</c>);
/// a different fingerprint is 422 <c>idempotency_key_reused</c>; while the first is still running, 409
/// <c>idempotency_key_in_flight</c>. 5xx, 409 and 429 answers are not stored: the key can be retried. An answer that
/// shows a secret (<see cref="SecretRoutes"/>) is stored sealed and opened only to replay it.
/// Runs after authorization, so refused requests never claim a key.
/// </summary>
internal sealed class IdempotencyMiddleware(RequestDelegate next, NpgsqlDataSource db, IConfiguration config)
{
    public const string Header = "Idempotency-Key";

    /// <summary>The routes that honour the header (method + route pattern).</summary>
    public static readonly IReadOnlySet<string> Routes = new HashSet<string>(StringComparer.Ordinal)
    {
        "POST /api/leads",
        "POST /api/leads/import",
        "POST /api/leads/{id}/merge",
        "POST /api/leads/{id}/tags",
        "POST /api/leads/exports",
        "POST /api/leads/bulk",
        "POST /api/leads/{id}/not-duplicate",
        "POST /api/leads/{id}/unmerge",
        "POST /api/webhook-subscriptions",
        "POST /api/webhook-subscriptions/{id}/rotate-secret",
        "POST /api/webhook-subscriptions/{id}/test",
        "POST /api/webhook-subscriptions/{id}/deliveries/{deliveryId}/redeliver",
    };

    /// <summary>
    /// Routes whose answer shows a secret once (a subscription's signing secret): their stored answer is sealed with
    /// <see cref="ISecretSealer"/> (the subscriptions' own key), so the idempotency table never holds it in plaintext.
    /// </summary>
    public static readonly IReadOnlySet<string> SecretRoutes = new HashSet<string>(StringComparer.Ordinal)
    {
        "POST /api/webhook-subscriptions",
        "POST /api/webhook-subscriptions/{id}/rotate-secret",
    };

    public async Task InvokeAsync(HttpContext ctx)
    {
        var route = ctx.GetEndpoint() is RouteEndpoint endpoint ? $"{ctx.Request.Method} /{endpoint.RoutePattern.RawText?.TrimStart('/')}" : "";
        if (!ctx.Request.Headers.TryGetValue(Header, out var values) || ctx.User.Identity?.IsAuthenticated != true || !Routes.Contains(route))
        {
            await next(ctx);
            return;
        }
        var key = values.Count == 1 ? values[0] : null;
        if (key is null || key.Length is 0 or > 255 || key.Any(c => c is < '!' or > '~'))
            throw new ApiProblemException(400, ProblemCodes.ValidationFailed, "Invalid Idempotency-Key", "Send one Idempotency-Key of 1–255 visible ASCII characters.",
                new Dictionary<string, string[]> { [Header] = ["Must be 1–255 visible ASCII characters."] });

        var workspaceId = ctx.Caller().WorkspaceId;
        var ct = ctx.RequestAborted;
        var secret = SecretRoutes.Contains(route);
        if (await IdempotencyData.TryClaimAsync(db, workspaceId, key, IdempotencySweep.Retention(config), ct))
        {
            await ExecuteAndStoreAsync(ctx, workspaceId, key, secret);
            return;
        }

        var record = await IdempotencyData.FindAsync(db, workspaceId, key, ct);
        if (record?.StatusCode is null)
            throw new ApiProblemException(409, "idempotency_key_in_flight", "Request in progress",
                "A request with this Idempotency-Key is still being processed. Retry after it completes.");
        using var hash = StartFingerprint(ctx.Request);
        await new HashingReadStream(ctx.Request.Body, hash).DrainAsync(ct);
        if (!CryptographicOperations.FixedTimeEquals(hash.GetHashAndReset(), record.Fingerprint))
            throw new ApiProblemException(422, "idempotency_key_reused", "Idempotency-Key reused",
                "This Idempotency-Key was used for a different request (method, path or body). Use a new key for a new request.");

        ctx.Response.StatusCode = record.StatusCode.Value;
        if (record.ContentType is not null) ctx.Response.ContentType = record.ContentType;
        if (record.Location is not null) ctx.Response.Headers.Location = record.Location;
        if (record.Etag is not null) ctx.Response.Headers.ETag = record.Etag;
        ctx.Response.Headers["Idempotent-Replayed"] = "true";
        if (record.ResponseBody is { Length: > 0 } body)
        {
            if (record.ResponseSealed) body = await Sealer(ctx).OpenAsync(body, SealContext(workspaceId, key), ct);
            await ctx.Response.Body.WriteAsync(body, ct);
        }
    }

    /// <summary>How often a running request renews its claim; a claim without a beat for 10 minutes is abandoned.</summary>
    internal static TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Renews the claim until <paramref name="ct"/> ends, so a request that runs for hours keeps its key.</summary>
    private async Task BeatAsync(Guid workspaceId, string key, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(HeartbeatInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                try { await IdempotencyData.HeartbeatAsync(db, workspaceId, key, ct); }
                catch (NpgsqlException) { /* the next beat tries again; ten minutes of misses are needed to lose the key */ }
            }
        }
        catch (OperationCanceledException) { }
    }

    private static ISecretSealer Sealer(HttpContext ctx) => ctx.RequestServices.GetRequiredService<ISecretSealer>();

    // The workspace and the key: a sealed answer copied to another record does not open.
    private static byte[] SealContext(Guid workspaceId, string key) => [.. workspaceId.ToByteArray(), .. Encoding.UTF8.GetBytes(key)];

    private async Task ExecuteAndStoreAsync(HttpContext ctx, Guid workspaceId, string key, bool secret)
    {
        using var stopBeat = new CancellationTokenSource();
        var beat = BeatAsync(workspaceId, key, stopBeat.Token);
        try
        {
            await ExecuteAndStoreCoreAsync(ctx, workspaceId, key, secret);
        }
        finally
        {
            await stopBeat.CancelAsync();
            await beat;
        }
    }

    private async Task ExecuteAndStoreCoreAsync(HttpContext ctx, Guid workspaceId, string key, bool secret)
    {
        using var hash = StartFingerprint(ctx.Request);
        var hashing = new HashingReadStream(ctx.Request.Body, hash);
        ctx.Request.Body = hashing;
        var original = ctx.Response.Body;
        using var captured = new MemoryStream();
        ctx.Response.Body = captured;
        try
        {
            try
            {
                await next(ctx);
            }
            catch (ApiProblemException p) when (!IsTransient(p.Status))
            {
                // A definitive refusal (400, 404, 422…) is an answer like any other: store it so a retry replays it.
                await Problems.WriteAsync(ctx, p);
            }
            await hashing.DrainAsync(ctx.RequestAborted);
        }
        catch
        {
            ctx.Response.Body = original;
            await IdempotencyData.ReleaseAsync(db, workspaceId, key);
            throw;
        }
        ctx.Response.Body = original;
        var status = ctx.Response.StatusCode;
        if (IsTransient(status)) await IdempotencyData.ReleaseAsync(db, workspaceId, key);
        else
        {
            var body = captured.ToArray();
            var seal = secret && body.Length > 0;
            if (seal) body = await Sealer(ctx).SealAsync(body, SealContext(workspaceId, key), CancellationToken.None);
            await IdempotencyData.CompleteAsync(db, workspaceId, key, hash.GetHashAndReset(), status, ctx.Response.ContentType,
                ctx.Response.Headers.Location.FirstOrDefault(), ctx.Response.Headers.ETag.FirstOrDefault(), body, seal, CancellationToken.None);
        }
        captured.Position = 0;
        await captured.CopyToAsync(original, ctx.RequestAborted);
    }

    // Server errors, conflicts and rate limits say "not now", not "no": the same key may run again.
    private static bool IsTransient(int status) => status is >= 500 or 409 or 429;

    private static IncrementalHash StartFingerprint(HttpRequest request)
    {
        var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method} {request.Path}{request.QueryString}\n"));
        return hash;
    }
}
