using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Modules.Leads.Data;

namespace Modules.Leads.Webhooks;

/// <summary>Webhook tokens: the only credential of an inbound webhook, so unguessable and URL-safe.</summary>
internal static class WebhookTokens
{
    private const int RandomBytes = 32;

    /// <summary>Length of every token we issue: 32 random bytes as unpadded base64url (256 bits).</summary>
    public const int Length = 43;

    public static string Generate() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(RandomBytes));

    /// <summary>True when the text could be a token we issued; anything else is a 404 without a database lookup.</summary>
    public static bool IsWellFormed(string? token) =>
        token is { Length: Length } && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}

/// <summary>
/// Builds a source's absolute <c>webhookUrl</c>: from <c>PublicBaseUrl</c> when configured (the address the
/// outside world uses, e.g. behind a proxy), otherwise from the request's own scheme, host and path base.
/// </summary>
internal sealed class WebhookUrls(IConfiguration config)
{
    public const string Path = "/api/webhooks/";

    public string For(HttpRequest request, string token)
    {
        var configured = config["PublicBaseUrl"];
        var baseUrl = string.IsNullOrWhiteSpace(configured)
            ? $"{request.Scheme}://{request.Host}{request.PathBase}"
            : configured.Trim().TrimEnd('/');
        return baseUrl + Path + token;
    }

    public T Fill<T>(HttpRequest request, T sources) where T : IEnumerable<SourceView>
    {
        foreach (var s in sources) s.WebhookUrl = For(request, s.WebhookToken);
        return sources;
    }

    public SourceView Fill(HttpRequest request, SourceView source)
    {
        source.WebhookUrl = For(request, source.WebhookToken);
        return source;
    }
}
