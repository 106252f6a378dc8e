using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Configuration;

namespace Modules.Access.Security;

/// <summary>
/// Slows key guessing: a client IP that sent more than <c>Auth:FailuresPerIpPerMinute</c> (default 20) API keys that
/// failed (unknown, malformed, deactivated, expired, ambiguous) in this clock minute gets 429 <c>rate_limited</c> with
/// <c>Retry-After</c> for every key it sends until the minute ends, before any key lookup. Requests without a key are
/// not counted (they guess nothing). The remote address is the socket's, like the webhook limiter's: behind a proxy,
/// all clients share the proxy's address. Counters live in this process, per node.
/// </summary>
internal sealed class FailedAuthThrottle(IConfiguration config, TimeProvider clock)
{
    private sealed class Window
    {
        public long Minute;
        public int Failures;
    }

    private readonly ConcurrentDictionary<string, Window> _windows = new();
    private long _lastSweep;

    public int Limit => Math.Max(1, config.GetValue("Auth:FailuresPerIpPerMinute", 20));

    /// <summary>True while the address is over its failure budget for this minute, with the seconds left in it.</summary>
    public bool IsBlocked(IPAddress? address, out int retryAfterSeconds)
    {
        var (minute, retry) = Now();
        retryAfterSeconds = retry;
        return _windows.TryGetValue(KeyOf(address), out var w) && Volatile.Read(ref w.Minute) == minute && Volatile.Read(ref w.Failures) >= Limit;
    }

    public void CountFailure(IPAddress? address)
    {
        var (minute, _) = Now();
        var w = _windows.GetOrAdd(KeyOf(address), _ => new Window { Minute = minute });
        lock (w)
        {
            if (w.Minute != minute)
            {
                w.Minute = minute;
                w.Failures = 0;
            }
            w.Failures++;
        }
        if (Interlocked.Exchange(ref _lastSweep, minute) != minute)
            foreach (var (k, old) in _windows)
                if (old.Minute < minute - 1) _windows.TryRemove(k, out _);
    }

    private (long Minute, int RetryAfter) Now()
    {
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        return (now / 60, (int)(60 - now % 60));
    }

    private static string KeyOf(IPAddress? address) => address switch
    {
        null => "unknown",
        { IsIPv4MappedToIPv6: true } => address.MapToIPv4().ToString(),
        _ => address.ToString(),
    };
}
