using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Configuration;

namespace Modules.Leads.Webhooks;

/// <summary>
/// The inbound webhook's per-client-IP budget (spec §6: 100 requests per minute, <c>Webhooks:PerIpPerMinute</c>),
/// a fixed clock-minute window like the per-key limiter. The webhook is anonymous, so the socket's remote
/// address is the only identity there is; every request counts, unknown tokens included, which also slows
/// token guessing. Counters live in this process: with N API nodes an address gets up to N× the budget.
/// </summary>
internal sealed class WebhookRateLimiter(IConfiguration config, TimeProvider clock)
{
    private sealed class Window
    {
        public long Minute;
        public int Count;
    }

    private readonly ConcurrentDictionary<string, Window> _windows = new();
    private long _lastSweep;

    public int Limit => config.GetValue("Webhooks:PerIpPerMinute", 100);

    /// <summary>Counts the request; returns false when the address is over its budget for this minute.</summary>
    public bool TryAcquire(IPAddress? address, out int retryAfterSeconds)
    {
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var minute = now / 60;
        retryAfterSeconds = (int)(60 - now % 60);
        var w = _windows.GetOrAdd(KeyOf(address), _ => new Window { Minute = minute });
        int count;
        lock (w)
        {
            if (w.Minute != minute)
            {
                w.Minute = minute;
                w.Count = 0;
            }
            count = ++w.Count;
        }
        if (Interlocked.Exchange(ref _lastSweep, minute) != minute) Sweep(minute);
        return count <= Limit;
    }

    // An IPv4 client reached over a dual-stack socket arrives as ::ffff:a.b.c.d; it is the same client.
    private static string KeyOf(IPAddress? address) => address switch
    {
        null => "unknown",
        { IsIPv4MappedToIPv6: true } => address.MapToIPv4().ToString(),
        _ => address.ToString(),
    };

    private void Sweep(long minute)
    {
        foreach (var (k, w) in _windows)
            if (w.Minute < minute - 1) _windows.TryRemove(k, out _);
    }
}
