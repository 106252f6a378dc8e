using Kernel.Security;
using Microsoft.AspNetCore.Http;

namespace Kernel.Http;

public static class CallerExtensions
{
    private static readonly object Key = new();

    /// <summary>The authenticated caller, parsed once per request.</summary>
    public static Caller Caller(this HttpContext ctx)
    {
        if (ctx.Items.TryGetValue(Key, out var c) && c is Caller cached) return cached;
        var caller = Security.Caller.From(ctx.User);
        ctx.Items[Key] = caller;
        return caller;
    }
}
