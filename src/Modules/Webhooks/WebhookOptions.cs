using System.Net;
using Microsoft.Extensions.Configuration;

namespace Modules.Webhooks;

/// <summary>Settings of outbound webhooks (README, "Configuration"; docs/operations.md, "Outbound webhooks").</summary>
internal sealed class WebhookOptions
{
    /// <summary><c>Webhooks:AllowPrivateTargets</c>: let subscriptions call loopback/private/link-local addresses (default false).</summary>
    public bool AllowPrivateTargets { get; init; }

    /// <summary><c>Webhooks:TimeoutSeconds</c>: one delivery attempt's limit, connect to last response byte (default 10).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>Webhooks:Workers</c>: deliveries one worker node sends at once, one subscription each (default 8).</summary>
    public int Workers { get; init; } = 8;

    /// <summary><c>Webhooks:RetentionDays</c>: days the change feed and the delivery log are kept (default 30).</summary>
    public int RetentionDays { get; init; } = 30;

    /// <summary>How long failures are retried before the subscription is disabled (spec §13: 3 days).</summary>
    public TimeSpan GiveUpAfter { get; init; } = TimeSpan.FromDays(3);

    /// <summary>Name resolution for targets; a seam for tests (a name that resolves to a private address).</summary>
    public Func<string, CancellationToken, Task<IPAddress[]>> Resolve { get; set; } = Dns.GetHostAddressesAsync;

    public static WebhookOptions From(IConfiguration config) => new()
    {
        AllowPrivateTargets = config.GetValue("Webhooks:AllowPrivateTargets", false),
        Timeout = TimeSpan.FromSeconds(Math.Clamp(config.GetValue("Webhooks:TimeoutSeconds", 10), 1, 60)),
        Workers = Math.Clamp(config.GetValue("Webhooks:Workers", 8), 1, 64),
        RetentionDays = Math.Clamp(config.GetValue("Webhooks:RetentionDays", 30), 1, 3650),
    };
}
