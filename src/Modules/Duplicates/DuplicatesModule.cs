using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Modules.Duplicates.Detection;
using Modules.Duplicates.Groups;
using Modules.Leads.Public;

namespace Modules.Duplicates;

/// <summary>Match keys, flagging, duplicate groups and merge (spec §3.8, §4). See README.md.</summary>
public static class DuplicatesModule
{
    public static IServiceCollection AddDuplicatesModule(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton<IDuplicateDetector, DuplicateDetector>();
        services.AddSingleton<IBulkDuplicateDetector, BulkDuplicateDetector>();
        services.AddSingleton<ILeadDeletionParticipant, PromoteOnDelete>();
        services.AddSingleton<ILeadDeletionParticipant, ForgetOnDelete>();
        services.AddSingleton<Merges.MergeRecordRetention>();
        return services;
    }

    /// <summary>Where this module's background work runs (worker nodes): pruning merge records past the undo window.</summary>
    public static IServiceCollection AddDuplicatesWorker(this IServiceCollection services)
    {
        services.AddHostedService<Merges.MergeRecordRetentionLoop>();
        return services;
    }

    /// <summary>The assembly FastEndpoints reads this module's endpoints and validators from.</summary>
    public static System.Reflection.Assembly Assembly => typeof(DuplicatesModule).Assembly;
}
