using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Modules.Access.Public;
using Modules.Leads.Public;
using Modules.Leads.Members;
using Modules.Leads.Webhooks;

namespace Modules.Leads;

/// <summary>Leads, sources, inbound webhooks, the events timeline, scoring and stats (spec §3, §5, §6).</summary>
public static class LeadsModule
{
    public static IServiceCollection AddLeadsModule(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(sp => new Intake.IntakeBatcher(sp.GetRequiredService<Npgsql.NpgsqlDataSource>(), sp.GetServices<IDuplicateDetector>(),
            Intake.IntakeBatchOptions.From(config), sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<Intake.IntakeBatcher>>()));
        services.AddSingleton(sp => new LeadIntake(sp.GetRequiredService<Npgsql.NpgsqlDataSource>(), sp.GetServices<IDuplicateDetector>(),
            sp.GetServices<IBulkDuplicateDetector>(), sp.GetRequiredService<Intake.IntakeBatcher>()));
        services.AddSingleton<Features.ExportLeads.SpoolStore>();
        services.AddHostedService(sp => sp.GetRequiredService<Features.ExportLeads.SpoolStore>());
        services.AddSingleton<LeadBatchActions>();
        services.AddSingleton<IMemberRemovalParticipant, UnassignRemovedMember>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<WebhookRateLimiter>();
        services.AddSingleton<WebhookUrls>();
        services.AddSingleton(sp => new Data.ListCache(config).WithMetrics());
        services.AddHostedService<Data.ChangeLogCompaction>();
        return services;
    }

    /// <summary>The assembly FastEndpoints reads this module's endpoints and validators from.</summary>
    public static System.Reflection.Assembly Assembly => typeof(LeadsModule).Assembly;
}
