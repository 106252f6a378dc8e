using Microsoft.AspNetCore.Builder;
using Modules.Access.Idempotency;

namespace Modules.Access.Public;

public static class IdempotencyExtensions
{
    /// <summary>Honours <c>Idempotency-Key</c> on the create-style POSTs. Place after authorization.</summary>
    public static IApplicationBuilder UseIdempotencyKeys(this IApplicationBuilder app) => app.UseMiddleware<IdempotencyMiddleware>();

    /// <summary>The routes that honour the header, for documentation and tests.</summary>
    public static IReadOnlySet<string> IdempotentRoutes => IdempotencyMiddleware.Routes;
}
