using Hangfire;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Modules.Webhooks.Data;
using Modules.Webhooks.Delivery;

namespace Modules.Webhooks;

/// <summary>The change feed (<c>GET /api/events</c>) and outbound webhooks (spec §13). See README.md.</summary>
public static class WebhooksModule
{
    /// <summary>The Hangfire queue deliveries (and the retention job) run on.</summary>
    public const string Queue = DeliverWebhooksJob.Queue;

    public static IServiceCollection AddWebhooksModule(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(WebhookOptions.From(config));
        services.AddSingleton<SecretBox>();
        services.AddSingleton<Kernel.Security.ISecretSealer>(sp => sp.GetRequiredService<SecretBox>());
        services.AddSingleton<WebhookSender>();
        services.AddTransient<DeliverWebhooksJob>();
        services.AddTransient<TrimWebhooksJob>();
        return services;
    }

    /// <summary>Where jobs run: the dispatcher that starts deliveries, and the hourly retention job.</summary>
    public static IServiceCollection AddWebhooksWorker(this IServiceCollection services)
    {
        services.AddHostedService<DeliveryDispatcher>();
        services.AddHostedService<RetentionSchedule>();
        return services;
    }

    /// <summary>Delivery jobs one worker node runs at once (<c>Webhooks:Workers</c>, default 8): one slow receiver holds one.</summary>
    public static int WorkerCount(IConfiguration config) => WebhookOptions.From(config).Workers;

    /// <summary>The assembly FastEndpoints reads this module's endpoints and validators from.</summary>
    public static System.Reflection.Assembly Assembly => typeof(WebhooksModule).Assembly;

    private sealed class RetentionSchedule(IRecurringJobManager recurring) : IHostedService
    {
        public Task StartAsync(CancellationToken ct)
        {
            recurring.AddOrUpdate<TrimWebhooksJob>(TrimWebhooksJob.RecurringId, DeliverWebhooksJob.Queue, j => j.RunAsync(CancellationToken.None),
                Cron.Hourly());
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
    }
}
