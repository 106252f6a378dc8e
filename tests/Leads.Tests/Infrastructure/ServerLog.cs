using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Leads.Tests.Infrastructure;

/// <summary>
/// The errors a test host logs (Error and Critical, with their exceptions), kept per <see cref="ApiFactory"/>: the host's
/// console output never reaches a test's result, so without this a 500 or a failed job says nothing about its cause. The
/// test client quotes them when a response is a 500 (<see cref="ContractValidatingHandler"/>), and every entry is also
/// appended to <see cref="FilePath"/>, which <c>.ci/run</c> prints when the run fails.
/// </summary>
public sealed class ServerLog(string owner) : ILoggerProvider
{
    /// <summary>One file per test run, next to the test assembly; emptied when the run's first host starts.</summary>
    public static readonly string FilePath = Path.Combine(AppContext.BaseDirectory, "server-errors.log");

    private static readonly Lock FileGate = new();
    private readonly ConcurrentQueue<string> entries = new();
    private int count;

    static ServerLog() => File.WriteAllText(FilePath, "");

    /// <summary>How many entries were logged so far; pass it to <see cref="Since"/> to read only what came after.</summary>
    public int Count => Volatile.Read(ref count);

    /// <summary>The entries logged after the <paramref name="mark"/>-th (all of them for 0).</summary>
    public IReadOnlyList<string> Since(int mark) => [.. entries.Skip(mark)];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private void Add(string category, LogLevel level, string message, Exception? exception)
    {
        var text = string.Create(CultureInfo.InvariantCulture,
            $"{DateTime.UtcNow:HH:mm:ss.fff} {owner} {level} {category}: {message}{(exception is null ? "" : Environment.NewLine + exception)}");
        entries.Enqueue(text);
        Interlocked.Increment(ref count);
        lock (FileGate) File.AppendAllText(FilePath, text + Environment.NewLine + Environment.NewLine);
    }

    private sealed class Logger(ServerLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) log.Add(category, logLevel, formatter(state, exception), exception);
        }
    }
}
