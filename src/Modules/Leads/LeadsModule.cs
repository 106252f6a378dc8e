using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Modules.Leads;

public static class LeadsModule
{
    public static IServiceCollection AddLeadsModule(this IServiceCollection services, IConfiguration config) => services;

    /// <summary>The assembly FastEndpoints reads this module's endpoints and validators from.</summary>
    public static System.Reflection.Assembly Assembly => typeof(LeadsModule).Assembly;
}
