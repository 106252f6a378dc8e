using System.Net;
using System.Net.Sockets;
using System.Text;
using StandardWebhooks;

namespace Modules.Webhooks.Delivery;

/// <summary>
/// Sends one signed Standard Webhooks request (<c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature</c>).
/// Connections go through <see cref="TargetGuard"/> on the resolved address; no proxy (it would connect for us,
/// unchecked), no redirects (a 3xx is a failed attempt), a hard timeout per attempt.
/// </summary>
internal sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _http;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;

    public WebhookSender(WebhookOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = options.Timeout,
            ConnectCallback = ConnectAsync,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Leads-Webhooks/1.0");
    }

    public sealed record Result(bool Delivered, int? StatusCode, string? Error);

    public async Task<Result> SendAsync(string url, string secret, string messageId, string body, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        var signature = new StandardWebhook(secret).Sign(messageId, now, body);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", messageId);
        request.Headers.Add("webhook-timestamp", now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", signature);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(_options.Timeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            var code = (int)response.StatusCode;
            return code is >= 200 and < 300 ? new Result(true, code, null) : new Result(false, code, $"HTTP {code}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new Result(false, null, $"timed out after {_options.Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException e)
        {
            return new Result(false, null, Describe(e));
        }
    }

    private static string Describe(HttpRequestException e) => e.InnerException switch
    {
        RefusedTargetException r => r.Message,
        SocketException s => $"connection failed: {s.SocketErrorCode}",
        _ => "connection failed: " + (e.HttpRequestError == HttpRequestError.Unknown ? e.Message : e.HttpRequestError.ToString()),
    };

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await _options.Resolve(host, ct);
        if (addresses.Length == 0) throw new RefusedTargetException($"{host} does not resolve");
        if (!_options.AllowPrivateTargets && addresses.FirstOrDefault(TargetGuard.IsRefused) is { } refused)
            throw new RefusedTargetException($"refused: {host} resolves to {refused}, a loopback, private or link-local address");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _http.Dispose();
}

internal sealed class RefusedTargetException(string message) : Exception(message);
