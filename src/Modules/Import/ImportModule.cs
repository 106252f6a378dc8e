using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Modules.Import.Exports;
using Modules.Import.Jobs;

namespace Modules.Import;

/// <summary>Bulk CSV work run by Hangfire jobs: async lead exports (spec §3.6, ours).</summary>
public static class ImportModule
{
    public static IServiceCollection AddImportModule(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(ExportSettings.From(config));
        services.AddTransient<ExportLeadsJob>();
        return services;
    }

    /// <summary>The assembly FastEndpoints reads this module's endpoints and validators from.</summary>
    public static System.Reflection.Assembly Assembly => typeof(ImportModule).Assembly;
}
