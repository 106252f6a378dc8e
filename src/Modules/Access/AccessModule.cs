using Kernel.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Modules.Access.Public;
using Modules.Access.Security;

namespace Modules.Access;

/// <summary>Workspaces, members, API keys and the API-key authentication scheme (spec §2).</summary>
public static class AccessModule
{
    public static IServiceCollection AddAccessModule(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton<KeyProvisioning>();
        services.AddSingleton<FailedAuthThrottle>();
        services.AddSingleton<ApiKeyCache>();
        services.AddSingleton<Idempotency.IdempotencySweep>();
        services.AddHostedService(sp => sp.GetRequiredService<Idempotency.IdempotencySweep>());
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddSingleton<IAuthorizationHandler, ScopeHandler>();
        services.AddSingleton<IAuthorizationHandler, RoleHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(AuthPolicies.Write, p => p.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(KeyScopes.Full)))
            .AddPolicy(AuthPolicies.AdminRead, p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement(MemberRoles.Owner, MemberRoles.Admin)))
            .AddPolicy(AuthPolicies.AdminWrite, p => p.RequireAuthenticatedUser()
                .AddRequirements(new ScopeRequirement(KeyScopes.Full), new RoleRequirement(MemberRoles.Owner, MemberRoles.Admin)));
        return services;
    }

    /// <summary>The assembly FastEndpoints reads this module's endpoints and validators from.</summary>
    public static System.Reflection.Assembly Assembly => typeof(AccessModule).Assembly;
}
