using System.Collections.Concurrent;
using Kernel.Http;
using Kernel.Security;

namespace Leads.Host.Platform;

/// <summary>
/// Per-API-key fixed one-minute window (spec §7): <c>RateLimit-Limit</c>, <c>RateLimit-Remaining</c> and
/// <c>RateLimit-Reset</c> (seconds) on every authenticated response, 429 with <c>Retry-After</c> beyond the
/// limit. Counters live in this process: with N API nodes behind a balancer a key gets up to N× the limit,
/// which docs/operations.md states.
/// </summary>
internal sealed class KeyRateLimiter(IConfiguration config, TimeProvider clock)
{
    private sealed class Window
    {
        public long Minute;
        public int Count;
    }

    private readonly ConcurrentDictionary<string, Window> _windows = new();
    private long _lastSweep;

    public int Limit => config.GetValue("RateLimit:PerKeyPerMinute", 1200);

    /// <summary>Counts the request; returns false when it is over the limit.</summary>
    public bool TryAcquire(string keyId, out int remaining, out int resetSeconds)
    {
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var minute = now / 60;
        resetSeconds = (int)(60 - now % 60);
        var w = _windows.GetOrAdd(keyId, _ => new Window { Minute = minute });
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
        remaining = Math.Max(0, Limit - count);
        return count <= Limit;
    }

    private void Sweep(long minute)
    {
        foreach (var (k, w) in _windows)
            if (w.Minute < minute - 1) _windows.TryRemove(k, out _);
    }
}

internal sealed class RateLimitMiddleware(RequestDelegate next, KeyRateLimiter limiter)
{
    public async Task InvokeAsync(HttpContext ctx)
    {
        var keyId = ctx.User.FindFirst(Caller.KeyClaim)?.Value;
        if (keyId is null)
        {
            await next(ctx);
            return;
        }
        var allowed = limiter.TryAcquire(keyId, out var remaining, out var reset);
        ctx.Response.Headers["RateLimit-Limit"] = limiter.Limit.ToString();
        ctx.Response.Headers["RateLimit-Remaining"] = remaining.ToString();
        ctx.Response.Headers["RateLimit-Reset"] = reset.ToString();
        if (!allowed)
        {
            ctx.Response.Headers.RetryAfter = reset.ToString();
            await Problems.WriteAsync(ctx, 429, ProblemCodes.RateLimited, "Too many requests",
                $"This API key may make {limiter.Limit} requests per minute. Retry after {reset} s.");
            return;
        }
        await next(ctx);
    }
}
