using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Modules.Import;

public static class ImportModule
{
    public static IServiceCollection AddImportModule(this IServiceCollection services, IConfiguration config) => services;

    /// <summary>The assembly FastEndpoints reads this module's endpoints and validators from.</summary>
    public static System.Reflection.Assembly Assembly => typeof(ImportModule).Assembly;
}
