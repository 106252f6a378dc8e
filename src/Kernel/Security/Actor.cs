using Kernel.Ids;

namespace Kernel.Security;

/// <summary>Who did something to a lead, as shown on its timeline (spec §3.3).</summary>
public sealed record Actor(string Type, string? Id, string? Name)
{
    public static Actor ApiKey(Caller c) => new("api_key", TypeId.Format(IdPrefix.ApiKey, c.KeyId), c.KeyLabel);
    public static Actor Webhook(Guid sourceId, string sourceName) => new("webhook", TypeId.Format(IdPrefix.Source, sourceId), sourceName);
    public static Actor Import(Guid importId, string? fileName) => new("import", TypeId.Format(IdPrefix.Import, importId), fileName);
    public static readonly Actor System = new("system", null, "system");
}
