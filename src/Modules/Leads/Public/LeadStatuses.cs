namespace Modules.Leads.Public;

public static class LeadStatuses
{
    public const string New = "new";
    public const string Contacted = "contacted";
    public const string Qualified = "qualified";
    public const string Converted = "converted";
    public const string Closed = "closed";
    public static readonly string[] All = [New, Contacted, Qualified, Converted, Closed];
}

public static class LeadChannels
{
    public const string Api = "api";
    public const string Webhook = "webhook";
    public const string Import = "import";
}

/// <summary>Field length limits of spec §7, in one place for every intake path.</summary>
public static class LeadLimits
{
    public const int Email = 254;
    public const int Name = 100;
    public const int Company = 200;
    public const int Phone = 40;
    public const int Notes = 10_000;
    public const int MetadataBytes = 64 * 1024;
}
