using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Dapper;
using Kernel.Data;
using Kernel.Http;
using Kernel.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Modules.Access.Security;

/// <summary>
/// Authenticates <c>X-API-Key: &lt;key&gt;</c> or <c>Authorization: ApiKey &lt;key&gt;</c>. Keys are looked up
/// by SHA-256 hash, and a key that authenticated is answered from <see cref="ApiKeyCache"/> for at most
/// <c>Auth:KeyCacheSeconds</c> (2 s): a key deactivated or deleted (or its member removed) through this node's API fails
/// on its very next call, elsewhere within that bound; an expiry date is checked on every request.
/// A key in the query string is never read.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    StatelessDataSource db,
    FailedAuthThrottle throttle,
    ApiKeyCache cache,
    TimeProvider clock) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-API-Key";
    private static readonly object FailureKey = new();
    private static readonly object RetryAfterKey = new();

    private const string LookupSql = """
        SELECT k.id, k.workspace_id, k.member_id, k.scope, k.label, k.key_hash, k.active, k.expires_at, k.last_used_at, m.role
        FROM access.api_keys k
        JOIN access.members m ON m.id = k.member_id AND m.deleted_at IS NULL
        WHERE k.key_hash = @Hash
        """;

    // At most one write per key per minute: the guard is in the WHERE clause, so racing requests do not pile up.
    private const string TouchSql = """
        UPDATE access.api_keys SET last_used_at = now()
        WHERE id = @Id AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
        """;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var fromHeader = Request.Headers[HeaderName];
        string? fromAuth = null;
        var authKeys = 0;
        foreach (var value in Request.Headers.Authorization)
            if (value is not null && value.StartsWith(SchemeName + " ", StringComparison.OrdinalIgnoreCase))
            {
                fromAuth = value[(SchemeName.Length + 1)..].Trim();
                authKeys++;
            }

        if (fromHeader.Count == 0 && fromAuth is null) return Fail(ProblemCodes.MissingApiKey, "No API key was sent.");
        if (throttle.IsBlocked(Context.Connection.RemoteIpAddress, out var retryAfter))
        {
            Context.Items[RetryAfterKey] = retryAfter;
            return Fail(ProblemCodes.RateLimited, $"Too many failed API keys from this address; retry after {retryAfter} s.");
        }
        // Two keys must never resolve to "the last one wins": which one a proxy or client library keeps is anyone's guess.
        if (authKeys > 1) return Fail(ProblemCodes.AmbiguousCredentials, "More than one Authorization: ApiKey header was sent.");
        if (fromHeader.Count > 1) return Fail(ProblemCodes.AmbiguousCredentials, "More than one X-API-Key header was sent.");
        var key = fromHeader.Count == 1 ? fromHeader[0]!.Trim() : fromAuth!;
        if (fromHeader.Count == 1 && fromAuth is not null && fromAuth != key)
            return Fail(ProblemCodes.AmbiguousCredentials, "X-API-Key and Authorization carry different keys.");

        if (!ApiKeyFormat.IsWellFormed(key)) return Fail(ProblemCodes.InvalidApiKey, "The API key is malformed.");

        var hash = ApiKeyFormat.Hash(key);
        var row = cache.Get(hash);
        if (row is null)
        {
            var generation = cache.Generation;
            await using var conn = await db.OpenConnectionAsync(Context.RequestAborted);
            row = await LookupAsync(conn, hash, Context.RequestAborted);
            if (row is null || !CryptographicOperations.FixedTimeEquals(row.KeyHash, hash))
                return Fail(ProblemCodes.InvalidApiKey, "The API key is not recognised.");
            if (row.Active) cache.Put(hash, row, generation);
        }
        if (!row.Active) return Fail(ProblemCodes.ApiKeyInactive, "The API key has been deactivated.");
        if (row.ExpiresAt is { } exp && exp <= clock.GetUtcNow().UtcDateTime) return Fail(ProblemCodes.ApiKeyExpired, "The API key has expired.");

        if (cache.ShouldTouch(hash, row.LastUsedAt))
        {
            await using var conn = await db.OpenConnectionAsync(Context.RequestAborted);
            await conn.ExecuteAsync(new CommandDefinition(TouchSql, new { row.Id }, cancellationToken: Context.RequestAborted));
        }

        var identity = new ClaimsIdentity(
        [
            new Claim(Caller.WorkspaceClaim, row.WorkspaceId.ToString()),
            new Claim(Caller.KeyClaim, row.Id.ToString()),
            new Claim(Caller.MemberClaim, row.MemberId.ToString()),
            new Claim(Caller.ScopeClaim, row.Scope),
            new Claim(Caller.RoleClaim, row.Role),
            new Claim(Caller.LabelClaim, row.Label),
        ], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    /// <summary>
    /// The key's row by hash. Every authenticated request runs this, so it is prepared: planned once per pooled
    /// connection instead of on each call (planning cost four times the lookup itself).
    /// </summary>
    private static async Task<ApiKeyCache.Row?> LookupAsync(NpgsqlConnection conn, byte[] hash, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(LookupSql, conn);
        cmd.Parameters.Add(new NpgsqlParameter<byte[]>("Hash", NpgsqlTypes.NpgsqlDbType.Bytea) { TypedValue = hash });
        await cmd.PrepareAsync(ct);
        await using var r = await cmd.ExecuteReaderAsync(System.Data.CommandBehavior.SingleRow, ct);
        if (!await r.ReadAsync(ct)) return null;
        return new ApiKeyCache.Row(r.GetGuid(0), r.GetGuid(1), r.GetGuid(2), r.GetString(3), r.GetString(4), r.GetFieldValue<byte[]>(5),
            r.GetBoolean(6), r.IsDBNull(7) ? null : r.GetDateTime(7), r.IsDBNull(8) ? null : r.GetDateTime(8), r.GetString(9));
    }

    private AuthenticateResult Fail(string code, string detail)
    {
        if (code is not (ProblemCodes.MissingApiKey or ProblemCodes.RateLimited)) throttle.CountFailure(Context.Connection.RemoteIpAddress);
        Context.Items[FailureKey] = (code, detail);
        return AuthenticateResult.Fail(detail);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var (code, detail) = Context.Items.TryGetValue(FailureKey, out var f) && f is ValueTuple<string, string> t
            ? t
            : (ProblemCodes.MissingApiKey, "No API key was sent.");
        if (code == ProblemCodes.RateLimited && Context.Items[RetryAfterKey] is int retryAfter)
        {
            Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.WriteAsync(Context, StatusCodes.Status429TooManyRequests, code, "Too many requests", detail);
        }
        Response.Headers.WWWAuthenticate = $"{SchemeName} realm=\"leads\", header=\"{HeaderName}\"";
        return Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, code, "Unauthorized", detail);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, StatusCodes.Status403Forbidden, ProblemCodes.InsufficientScope, "Forbidden",
            "This API key may not call this endpoint.");
}
