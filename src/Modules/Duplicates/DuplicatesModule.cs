using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Modules.Duplicates;

public static class DuplicatesModule
{
    public static IServiceCollection AddDuplicatesModule(this IServiceCollection services, IConfiguration config) => services;

    /// <summary>The assembly FastEndpoints reads this module's endpoints and validators from.</summary>
    public static System.Reflection.Assembly Assembly => typeof(DuplicatesModule).Assembly;
}
