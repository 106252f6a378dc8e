namespace Modules.Webhooks.Delivery;

/// <summary>Spec §13: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, then every 3 h, each ±10 % jitter (receivers coming back are not stampeded).</summary>
internal static class Backoff
{
    private static readonly TimeSpan[] Steps =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(30), TimeSpan.FromHours(1),
    ];

    /// <summary>The wait after the <paramref name="failures"/>-th failed attempt (1-based).</summary>
    public static TimeSpan After(int failures, double random)
    {
        var step = failures <= Steps.Length ? Steps[Math.Max(1, failures) - 1] : TimeSpan.FromHours(3);
        return step * (0.9 + 0.2 * random);
    }
}
