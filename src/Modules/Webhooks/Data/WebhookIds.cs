namespace Modules.Webhooks.Data;

/// <summary>TypeID prefixes of this module's objects: <c>whs_</c> subscription, <c>whd_</c> delivery (spec §13).</summary>
internal static class WebhookIds
{
    public const string Subscription = "whs";
    public const string Delivery = "whd";
}
