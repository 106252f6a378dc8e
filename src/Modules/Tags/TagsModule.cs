using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Modules.Tags;

public static class TagsModule
{
    public static IServiceCollection AddTagsModule(this IServiceCollection services, IConfiguration config) => services;

    /// <summary>The assembly FastEndpoints reads this module's endpoints and validators from.</summary>
    public static System.Reflection.Assembly Assembly => typeof(TagsModule).Assembly;
}
