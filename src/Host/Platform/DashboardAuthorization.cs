using System.Net;
using System.Security.Cryptography;
using System.Text;
using Hangfire.Dashboard;

namespace Leads.Host.Platform;

/// <summary>
/// The Hangfire dashboard needs <c>Hangfire:DashboardPassword</c> (HTTP Basic, user <c>admin</c>) outside the Development
/// environment: without one it is closed to everyone there. In Development without a password it is open to loopback
/// requests only; a request carrying forwarding headers came through a proxy on behalf of someone else, so it never
/// counts as loopback, whatever the socket says. Its POSTs (delete, requeue, trigger) must come from the dashboard's own
/// pages: a browser names the page's origin in <c>Origin</c> (or <c>Sec-Fetch-Site: same-origin</c>) on every POST, and
/// one from another site's page — a forged request riding on the operator's loopback access or saved password — is
/// refused (OWASP's "verifying origin with standard headers"). This is defence in depth: ASP.NET Core antiforgery is
/// registered too (Program.cs), so Hangfire puts a token in its pages and refuses (403) a POST without it.
/// </summary>
internal sealed class DashboardAuthorization(string? password, bool requirePassword) : IDashboardAsyncAuthorizationFilter
{
    public Task<bool> AuthorizeAsync(DashboardContext context)
    {
        var http = context.GetHttpContext();
        if (HttpMethods.IsPost(http.Request.Method) && !SameOrigin(http.Request)) return Task.FromResult(false);
        if (!string.IsNullOrEmpty(password)) return Task.FromResult(CheckBasic(http, password));
        if (requirePassword) return Task.FromResult(false);
        var forwarded = http.Request.Headers.ContainsKey("X-Forwarded-For") || http.Request.Headers.ContainsKey("Forwarded")
                        || http.Request.Headers.ContainsKey("X-Real-IP");
        var remote = http.Connection.RemoteIpAddress;
        return Task.FromResult(!forwarded && remote is not null && IPAddress.IsLoopback(remote));
    }

    private static bool SameOrigin(HttpRequest request)
    {
        if (request.Headers["Sec-Fetch-Site"] is [var site]) return site == "same-origin";
        return request.Headers.Origin is [var origin] && Uri.TryCreate(origin, UriKind.Absolute, out var o)
               && string.Equals(o.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    private static bool CheckBasic(HttpContext http, string password)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
                var expected = Encoding.UTF8.GetBytes("admin:" + password);
                if (CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(decoded), expected)) return true;
            }
            catch (FormatException)
            {
            }
        }
        http.Response.Headers.WWWAuthenticate = "Basic realm=\"hangfire\"";
        return false;
    }
}
