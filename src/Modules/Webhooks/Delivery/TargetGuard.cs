using System.Net;
using System.Net.Sockets;

namespace Modules.Webhooks.Delivery;

/// <summary>
/// SSRF guard: webhook targets may not be loopback, private, link-local (cloud metadata at 169.254.169.254),
/// carrier-grade NAT, multicast or unspecified addresses, unless <c>Webhooks:AllowPrivateTargets=true</c>. Checked on
/// the address a connection is actually opened to (<see cref="WebhookSender"/>'s connect callback), so a DNS name
/// that resolves — or re-resolves — to such an address is refused as well.
/// </summary>
internal static class TargetGuard
{
    public static bool IsRefused(IPAddress a)
    {
        if (a.IsIPv4MappedToIPv6) a = a.MapToIPv4();
        if (IPAddress.IsLoopback(a)) return true;
        if (a.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = a.GetAddressBytes();
            return b[0] switch
            {
                0 or 10 or 127 => true,
                100 => b[1] is >= 64 and <= 127,               // 100.64.0.0/10 carrier-grade NAT
                169 => b[1] == 254,                             // link-local, cloud metadata
                172 => b[1] is >= 16 and <= 31,
                192 => b[1] == 168 || (b[1] == 0 && b[2] == 0), // private; IETF protocol assignments
                198 => b[1] is 18 or 19,                        // benchmarking
                >= 224 => true,                                 // multicast, reserved, broadcast
                _ => false,
            };
        }
        if (a.Equals(IPAddress.IPv6Any) || a.IsIPv6LinkLocal || a.IsIPv6SiteLocal || a.IsIPv6Multicast) return true;
        var v6 = a.GetAddressBytes();
        return (v6[0] & 0xFE) == 0xFC; // fc00::/7 unique local
    }

    /// <summary>Why a subscription URL is not acceptable, or null. IP-literal hosts are checked here; names at send time.</summary>
    public static string? Problem(string? url, bool allowPrivate)
    {
        if (string.IsNullOrWhiteSpace(url)) return "url is required.";
        if (url.Length > 2000) return "url must be at most 2000 characters.";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != Uri.UriSchemeHttps && u.Scheme != Uri.UriSchemeHttp))
            return "url must be an absolute http or https URL.";
        if (!string.IsNullOrEmpty(u.UserInfo)) return "url must not carry credentials (user:password@).";
        if (!string.IsNullOrEmpty(u.Fragment)) return "url must not have a fragment.";
        if (!allowPrivate && IPAddress.TryParse(u.IdnHost.Trim('[', ']'), out var ip) && IsRefused(ip))
            return "url points to a loopback, private or link-local address, which webhooks may not call.";
        if (!allowPrivate && u.IdnHost.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            return "url points to a loopback, private or link-local address, which webhooks may not call.";
        return null;
    }
}
