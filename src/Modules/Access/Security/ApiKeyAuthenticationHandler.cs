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
/// by SHA-256 hash on every request (no cache), so a deactivated or deleted key fails on its very next call.
/// A key in the query string is never read.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    StatelessDataSource db,
    FailedAuthThrottle throttle) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-API-Key";
    private static readonly object FailureKey = new();
    private static readonly object RetryAfterKey = new();

    private sealed record KeyRow(Guid Id, Guid WorkspaceId, Guid MemberId, string Scope, string Label, byte[] KeyHash,
        bool Active, DateTime? ExpiresAt, DateTime? LastUsedAt, string Role);

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
        await using var conn = await db.OpenConnectionAsync(Context.RequestAborted);
        var row = await LookupAsync(conn, hash, Context.RequestAborted);
        if (row is null || !CryptographicOperations.FixedTimeEquals(row.KeyHash, hash))
            return Fail(ProblemCodes.InvalidApiKey, "The API key is not recognised.");
        if (!row.Active) return Fail(ProblemCodes.ApiKeyInactive, "The API key has been deactivated.");
        if (row.ExpiresAt is { } exp && exp <= DateTime.UtcNow) return Fail(ProblemCodes.ApiKeyExpired, "The API key has expired.");

        if (row.LastUsedAt is null || row.LastUsedAt < DateTime.UtcNow.AddMinutes(-1))
            await conn.ExecuteAsync(new CommandDefinition(TouchSql, new { row.Id }, cancellationToken: Context.RequestAborted));

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
    private static async Task<KeyRow?> LookupAsync(NpgsqlConnection conn, byte[] hash, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(LookupSql, conn);
        cmd.Parameters.Add(new NpgsqlParameter<byte[]>("Hash", NpgsqlTypes.NpgsqlDbType.Bytea) { TypedValue = hash });
        await cmd.PrepareAsync(ct);
        await using var r = await cmd.ExecuteReaderAsync(System.Data.CommandBehavior.SingleRow, ct);
        if (!await r.ReadAsync(ct)) return null;
        return new KeyRow(r.GetGuid(0), r.GetGuid(1), r.GetGuid(2), r.GetString(3), r.GetString(4), r.GetFieldValue<byte[]>(5),
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
