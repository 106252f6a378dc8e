using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Modules.Import.Exports;
using Modules.Import.Jobs;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Import;

/// <summary>Bulk CSV work run by Hangfire jobs: imports (spec §3.7) and async exports (spec §3.6). See README.md.</summary>
public static class ImportModule
{
    /// <summary>The Hangfire queue import jobs run on (a server with a bounded worker count of its own).</summary>
    public const string Queue = ImportLeadsJob.Queue;

    public static IServiceCollection AddImportModule(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(ImportOptions.From(config));
        services.AddSingleton(ExportSettings.From(config));
        services.AddSingleton(Bulk.BulkSettings.From(config));
        services.AddTransient<ExportLeadsJob>();
        services.AddTransient<BulkActionJob>();
        services.AddSingleton<ImportRetention>();
        services.AddTransient(sp => new ImportLeadsJob(sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<LeadIntake>(), sp.GetRequiredService<ImportOptions>(),
            sp.GetRequiredService<ILogger<ImportLeadsJob>>()));
        return services;
    }

    /// <summary>Where import jobs run: at start, re-enqueue imports and exports that no worker is running (left by a crash); the retention sweep.</summary>
    public static IServiceCollection AddImportWorker(this IServiceCollection services)
    {
        services.AddHostedService<ImportRecovery>();
        services.AddHostedService<ExportRecovery>();
        services.AddHostedService<BulkRecovery>();
        services.AddHostedService<ImportRetentionLoop>();
        return services;
    }

    /// <summary>The Hangfire queue async export jobs run on, apart from imports so neither waits for the other.</summary>
    public const string ExportQueue = ExportLeadsJob.Queue;

    /// <summary>The Hangfire queue bulk actions (spec §12) run on, one at a time per worker node.</summary>
    public const string BulkQueue = BulkActionJob.Queue;

    /// <summary>
    /// The niceness bulk actions' database backends get (<c>Bulk:BackendNice</c>, validated) when the host may renice them:
    /// only its embedded cluster's (<see cref="Kernel.Data.BackgroundDataSource"/>).
    /// </summary>
    public static int BulkBackendNice(IConfiguration config) => Bulk.BulkSettings.From(config).BackendNice;

    /// <summary>Export jobs one worker node runs at once (<c>Exports:Workers</c>, default 1).</summary>
    public static int ExportWorkerCount(IConfiguration config) => Math.Max(1, config.GetValue("Exports:Workers", 1));

    /// <summary>Import jobs one worker node runs at once (<c>Import:Workers</c>, default 1).</summary>
    public static int WorkerCount(IConfiguration config) => ImportOptions.From(config).Workers;

    /// <summary>The assembly FastEndpoints reads this module's endpoints and validators from.</summary>
    public static System.Reflection.Assembly Assembly => typeof(ImportModule).Assembly;
}
