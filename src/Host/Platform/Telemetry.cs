using System.Diagnostics;
using System.Diagnostics.Metrics;
using Hangfire;
using Hangfire.Server;
using Kernel.Observability;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Leads.Host.Platform;

/// <summary>
/// OpenTelemetry (spec §14): metrics always, scraped at <c>/metrics</c> in Prometheus text (loopback only unless
/// <c>Metrics:AllowRemote</c>); traces only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> names a collector (the OTLP exporter
/// reads the standard <c>OTEL_*</c> variables). Spans: each HTTP request, each Npgsql command, each Hangfire job
/// (<see cref="JobTracingFilter"/>) and each import chunk.
/// </summary>
internal static class Telemetry
{
    public const string MetricsPath = "/metrics";

    /// <summary><c>Metrics:Enabled=false</c> turns OpenTelemetry off entirely (no collection, no <c>/metrics</c>): the "off" side of the overhead measurement.</summary>
    private static bool Enabled(IConfiguration config) => config.GetValue("Metrics:Enabled", true);

    public static void AddTelemetry(this WebApplicationBuilder builder)
    {
        if (!Enabled(builder.Configuration)) return;
        builder.Services.AddSingleton<JobQueueMetrics>();
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("leads"))
            .WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddMeter(LeadsTelemetry.Name)
                // Each scrape sees the counters as they are now (the default caches a scrape's answer briefly).
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            otel.WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !ctx.Request.Path.StartsWithSegments(MetricsPath))
                .AddNpgsql()
                .AddSource(LeadsTelemetry.Name)
                .AddOtlpExporter());
    }

    /// <summary>A scraper calls <c>/metrics</c> without an API key, so only from this machine unless allowed.</summary>
    public static void UseMetricsEndpoint(this WebApplication app)
    {
        if (!Enabled(app.Configuration)) return;
        var allowRemote = app.Configuration.GetValue("Metrics:AllowRemote", false);
        app.Services.GetRequiredService<JobQueueMetrics>();
        app.UseOpenTelemetryPrometheusScrapingEndpoint(ctx =>
            ctx.Request.Path == MetricsPath && (allowRemote || IsLoopback(ctx)));
    }

    private static bool IsLoopback(HttpContext ctx) =>
        ctx.Connection.RemoteIpAddress is null || System.Net.IPAddress.IsLoopback(ctx.Connection.RemoteIpAddress);
}

/// <summary>
/// <c>leads_jobs_enqueued{queue}</c>: jobs waiting per Hangfire queue, read from the storage at each scrape. Per host
/// (its own storage), so the meter is disposed with the host.
/// </summary>
internal sealed class JobQueueMetrics : IDisposable
{
    private static readonly string[] Queues = ["default", Modules.Import.ImportModule.Queue, Modules.Import.ImportModule.ExportQueue, Modules.Import.ImportModule.BulkQueue, Modules.Webhooks.WebhooksModule.Queue];
    private readonly Meter meter = new(LeadsTelemetry.Name);

    public JobQueueMetrics(JobStorage storage, ILogger<JobQueueMetrics> log) =>
        meter.CreateObservableGauge("leads.jobs.enqueued", () =>
        {
            try
            {
                var monitoring = storage.GetMonitoringApi();
                return Queues.Select(q => new Measurement<long>(monitoring.EnqueuedCount(q), new KeyValuePair<string, object?>("queue", q))).ToArray();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                log.LogWarning("Could not read the job queue lengths: {Message}", e.Message);
                return [];
            }
        }, "{job}", "Jobs waiting in each Hangfire queue.");

    public void Dispose() => meter.Dispose();
}

/// <summary>Each Hangfire job runs in a span of its own (a new trace: the request that enqueued it has ended).</summary>
internal sealed class JobTracingFilter : IServerFilter
{
    private const string Key = "leads.activity";
    private static int registered;

    /// <summary>Hangfire's filters are process-wide; several hosts in one process (the tests) must add it once.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) == 0) GlobalJobFilters.Filters.Add(new JobTracingFilter());
    }

    public void OnPerforming(PerformingContext context)
    {
        var activity = LeadsTelemetry.Source.StartActivity($"job {context.BackgroundJob.Job.Type.Name}", ActivityKind.Internal, parentContext: default);
        activity?.SetTag("hangfire.job.id", context.BackgroundJob.Id);
        context.Items[Key] = activity;
    }

    public void OnPerformed(PerformedContext context)
    {
        if (context.Items.TryGetValue(Key, out var a) && a is Activity activity)
        {
            if (context.Exception is { } e) activity.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            activity.Dispose();
        }
    }
}
