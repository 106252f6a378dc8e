using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Configuration;

namespace Kernel.Http;

/// <summary>Which way a long transfer goes: a CSV upload, or a file download (export, error report).</summary>
public enum TransferKind
{
    Upload,
    Download,
}

/// <summary>
/// Bounds the long transfers one client can have running at once: per API key and per workspace, each direction on its
/// own (<c>Transfers:PerKey</c>, <c>Transfers:PerWorkspace</c>; per node, like the rate limit), 429 <c>too_many_transfers</c>
/// with <c>Retry-After</c> beyond. A slot also sets the minimum data rate of the request body (uploads) or the response
/// (downloads) to <c>Transfers:MinBytesPerSecond</c> after a grace period (<c>Transfers:MinRateGrace</c>): a client that trickles slower is cut off by
/// Kestrel, so a slot (and what it holds) is released at a bounded pace.
/// </summary>
public sealed class TransferLimiter(IConfiguration config)
{
    public const string TooManyTransfers = "too_many_transfers";

    private readonly ConcurrentDictionary<(TransferKind, Guid), int> _byKey = new();
    private readonly ConcurrentDictionary<(TransferKind, Guid), int> _byWorkspace = new();
    private readonly int _perKey = Math.Max(1, config.GetValue("Transfers:PerKey", 4));
    private readonly int _perWorkspace = Math.Max(1, config.GetValue("Transfers:PerWorkspace", 16));
    private readonly double _minRate = Math.Max(0, config.GetValue("Transfers:MinBytesPerSecond", 4096.0));

    // Kestrel checks rates on a one-second heartbeat and refuses a grace period of one second or less.
    private readonly TimeSpan _grace = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(2).Ticks,
        config.GetValue("Transfers:MinRateGrace", TimeSpan.FromSeconds(10)).Ticks));

    /// <summary>Takes a slot for the caller's transfer (dispose it when done), or throws the 429.</summary>
    public IDisposable Acquire(HttpContext ctx, TransferKind kind)
    {
        var caller = ctx.Caller();
        if (!TryTake(_byKey, (kind, caller.KeyId), _perKey))
            throw Refused(kind, $"This API key already has {_perKey} {Name(kind)} running (Transfers:PerKey).");
        if (!TryTake(_byWorkspace, (kind, caller.WorkspaceId), _perWorkspace))
        {
            Release(_byKey, (kind, caller.KeyId));
            throw Refused(kind, $"This workspace already has {_perWorkspace} {Name(kind)} running (Transfers:PerWorkspace).");
        }
        SetMinimumRate(ctx, kind);
        return new Slot(this, kind, caller.KeyId, caller.WorkspaceId);
    }

    private void SetMinimumRate(HttpContext ctx, TransferKind kind)
    {
        if (_minRate <= 0) return;
        var rate = new MinDataRate(_minRate, _grace);
        if (kind == TransferKind.Upload && ctx.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } up) up.MinDataRate = rate;
        if (kind == TransferKind.Download && ctx.Features.Get<IHttpMinResponseDataRateFeature>() is { } down) down.MinDataRate = rate;
    }

    private static string Name(TransferKind kind) => kind == TransferKind.Upload ? "uploads" : "downloads";

    private static ApiProblemException Refused(TransferKind kind, string detail) =>
        new(429, TooManyTransfers, $"Too many concurrent {Name(kind)}", detail + " Retry when one has finished.")
        {
            Headers = new Dictionary<string, string> { ["Retry-After"] = "5" },
        };

    private static bool TryTake(ConcurrentDictionary<(TransferKind, Guid), int> counts, (TransferKind, Guid) key, int limit)
    {
        while (true)
        {
            var current = counts.GetOrAdd(key, 0);
            if (current >= limit) return false;
            if (counts.TryUpdate(key, current + 1, current)) return true;
        }
    }

    private static void Release(ConcurrentDictionary<(TransferKind, Guid), int> counts, (TransferKind, Guid) key)
    {
        while (true)
        {
            var current = counts[key];
            if (current <= 1)
            {
                // Remove only if still 1, so the dictionary does not keep one entry per key ever seen.
                if (counts.TryRemove(new KeyValuePair<(TransferKind, Guid), int>(key, current))) return;
            }
            else if (counts.TryUpdate(key, current - 1, current)) return;
        }
    }

    private sealed class Slot(TransferLimiter owner, TransferKind kind, Guid keyId, Guid workspaceId) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            Release(owner._byKey, (kind, keyId));
            Release(owner._byWorkspace, (kind, workspaceId));
        }
    }
}
