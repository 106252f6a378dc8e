using Kernel.Ids;

namespace Kernel.Security;

/// <summary>Who did something to a lead, as shown on its timeline (spec §3.3).</summary>
public sealed record Actor(string Type, string? Id, string? Name)
{
    public static Actor ApiKey(Caller c) => new(ActorTypes.ApiKey, TypeId.Format(IdPrefix.ApiKey, c.KeyId), c.KeyLabel);
    public static Actor Webhook(Guid sourceId, string sourceName) => new(ActorTypes.Webhook, TypeId.Format(IdPrefix.Source, sourceId), sourceName);
    public static Actor Import(Guid importId, string? fileName) => new(ActorTypes.Import, TypeId.Format(IdPrefix.Import, importId), fileName);
    public static readonly Actor System = new(ActorTypes.System, null, "system");
}

/// <summary>The kinds of <see cref="Actor"/>, as the timeline shows them.</summary>
public static class ActorTypes
{
    public const string ApiKey = "api_key";
    public const string Webhook = "webhook";
    public const string Import = "import";
    public const string System = "system";
    public static readonly string[] All = [ApiKey, Webhook, Import, System];
}
