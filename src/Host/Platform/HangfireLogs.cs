using Hangfire.Logging;
using HangfireLevel = Hangfire.Logging.LogLevel;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Leads.Host.Platform;

/// <summary>
/// Hangfire's one process-wide log provider, fed by every live host's <see cref="ILoggerFactory"/>. Hangfire.AspNetCore
/// sets <c>LogProvider</c> (a static) to the logger factory of whichever host resolved its configuration last, and
/// Hangfire creates loggers at arbitrary moments (a job client's first enqueue, a retry attribute read on a job method's
/// first use); once that host was disposed, each of those threw <see cref="ObjectDisposedException"/> in another, live
/// host — a 500 from <c>POST /api/leads/exports</c> or <c>/import</c>, in whichever test class started its first job
/// after the most recently built host had stopped. Here a host's factory is attached while its container lives (see
/// <see cref="Attachment"/>), Hangfire logs to the most recently attached one still alive, and logging never throws:
/// with no host left the entry is dropped.
/// </summary>
internal sealed class HangfireLogs : ILogProvider
{
    public static readonly HangfireLogs Instance = new();

    private readonly Lock gate = new();
    private ILoggerFactory[] factories = [];

    private HangfireLogs() { }

    public ILog GetLogger(string name) => new ForwardingLog(this, name);

    private void Add(ILoggerFactory factory)
    {
        lock (gate) factories = [.. factories, factory];
    }

    private void Remove(ILoggerFactory factory)
    {
        lock (gate) factories = [.. factories.Where(f => !ReferenceEquals(f, factory))];
    }

    /// <summary>The newest live factory's logger for <paramref name="name"/>; null when no host is left.</summary>
    private Bound? Current(string name, Bound? cached)
    {
        var live = Volatile.Read(ref factories);
        for (var i = live.Length - 1; i >= 0; i--)
        {
            if (cached is not null && ReferenceEquals(cached.Factory, live[i])) return cached;
            try
            {
                return new Bound(live[i], live[i].CreateLogger(name));
            }
            catch (ObjectDisposedException)
            {
                // Disposed between the snapshot and now: the next one, if any.
            }
        }
        return null;
    }

    /// <summary>A host's share: attached when its container creates it, detached when the container disposes it.</summary>
    public sealed class Attachment : IDisposable
    {
        private readonly ILoggerFactory factory;

        // The logger factory is created first, so the container disposes this before it.
        public Attachment(ILoggerFactory factory)
        {
            this.factory = factory;
            Instance.Add(factory);
        }

        public ILogProvider Provider => Instance;

        public void Dispose() => Instance.Remove(factory);
    }

    private sealed record Bound(ILoggerFactory Factory, ILogger Logger);

    private sealed class ForwardingLog(HangfireLogs owner, string name) : ILog
    {
        private Bound? cached;

        public bool Log(HangfireLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            if (owner.Current(name, Volatile.Read(ref cached)) is not { } current) return false;
            Volatile.Write(ref cached, current);
            var level = logLevel switch
            {
                HangfireLevel.Trace => LogLevel.Trace,
                HangfireLevel.Debug => LogLevel.Debug,
                HangfireLevel.Info => LogLevel.Information,
                HangfireLevel.Warn => LogLevel.Warning,
                HangfireLevel.Error => LogLevel.Error,
                _ => LogLevel.Critical,
            };
            try
            {
                if (!current.Logger.IsEnabled(level)) return false;
                // Hangfire asks with no message whether a level is on.
                if (messageFunc is null) return true;
                current.Logger.Log(level, default, messageFunc(), exception, static (message, _) => message);
                return true;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }
    }
}
