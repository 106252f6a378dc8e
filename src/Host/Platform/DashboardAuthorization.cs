using System.Net;
using System.Security.Cryptography;
using System.Text;
using Hangfire.Dashboard;

namespace Leads.Host.Platform;

/// <summary>
/// The Hangfire dashboard is open to loopback requests only, unless <c>Hangfire:DashboardPassword</c> is set
/// (then HTTP Basic, user <c>admin</c>). A request carrying forwarding headers came through a proxy on behalf
/// of someone else, so it never counts as loopback, whatever the socket says.
/// </summary>
internal sealed class DashboardAuthorization(string? password) : IDashboardAsyncAuthorizationFilter
{
    public Task<bool> AuthorizeAsync(DashboardContext context)
    {
        var http = context.GetHttpContext();
        if (!string.IsNullOrEmpty(password)) return Task.FromResult(CheckBasic(http, password));
        var forwarded = http.Request.Headers.ContainsKey("X-Forwarded-For") || http.Request.Headers.ContainsKey("Forwarded")
                        || http.Request.Headers.ContainsKey("X-Real-IP");
        var remote = http.Connection.RemoteIpAddress;
        return Task.FromResult(!forwarded && remote is not null && IPAddress.IsLoopback(remote));
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
