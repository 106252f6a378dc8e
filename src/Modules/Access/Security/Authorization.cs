using Kernel.Http;
using Kernel.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;

namespace Modules.Access.Security;

internal sealed class ScopeRequirement(string scope) : IAuthorizationRequirement
{
    public string Scope { get; } = scope;
}

internal sealed class RoleRequirement(params string[] roles) : IAuthorizationRequirement
{
    public string[] Roles { get; } = roles;
}

internal sealed class ScopeHandler : AuthorizationHandler<ScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        if (context.User.FindFirst(Caller.ScopeClaim)?.Value == requirement.Scope) context.Succeed(requirement);
        else context.Fail(new AuthorizationFailureReason(this, ProblemCodes.InsufficientScope));
        return Task.CompletedTask;
    }
}

internal sealed class RoleHandler : AuthorizationHandler<RoleRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RoleRequirement requirement)
    {
        if (requirement.Roles.Contains(context.User.FindFirst(Caller.RoleClaim)?.Value)) context.Succeed(requirement);
        else context.Fail(new AuthorizationFailureReason(this, ProblemCodes.InsufficientRole));
        return Task.CompletedTask;
    }
}

/// <summary>Turns a failed policy into the spec's 403 problem with the precise code (scope is checked before role).</summary>
internal sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden) return _default.HandleAsync(next, context, policy, authorizeResult);
        var reasons = authorizeResult.AuthorizationFailure?.FailureReasons.Select(r => r.Message).ToArray() ?? [];
        return reasons.Contains(ProblemCodes.InsufficientScope)
            ? Problems.WriteAsync(context, StatusCodes.Status403Forbidden, ProblemCodes.InsufficientScope, "Insufficient scope",
                "This endpoint writes data and needs an API key with the 'full' scope.")
            : Problems.WriteAsync(context, StatusCodes.Status403Forbidden, ProblemCodes.InsufficientRole, "Insufficient role",
                "This endpoint needs an API key created by a workspace owner or admin.");
    }
}
