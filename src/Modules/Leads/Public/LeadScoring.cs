namespace Modules.Leads.Public;

/// <summary>What the scoring rules look at.</summary>
public readonly record struct ScoreInput(
    string? Email, bool PhoneValid, string? Company, string? FirstName, string? LastName,
    bool HasSource, int MetadataKeys, string Status);

public readonly record struct ScoreReason(string Rule, int Points);

public sealed record ScoreResult(int Score, IReadOnlyList<ScoreReason> Reasons);

/// <summary>
/// The scoring rule set (spec §5) — deterministic, in one place, documented rule by rule in
/// docs/scoring.md. Every intake path and every recomputation calls <see cref="Compute"/>.
/// </summary>
public static class LeadScoring
{
    public const int HotThreshold = 70;
    public const int WarmThreshold = 40;

    public static ScoreResult Compute(ScoreInput i)
    {
        var reasons = new List<ScoreReason>(8);
        if (i.Email is not null)
        {
            reasons.Add(new("valid_email", 15));
            var domain = i.Email[(i.Email.LastIndexOf('@') + 1)..].ToLowerInvariant();
            if (Domains.Disposable.Contains(domain)) reasons.Add(new("disposable_email_domain", -15));
            else if (Domains.FreeMail.Contains(domain)) reasons.Add(new("free_email_domain", 5));
            else reasons.Add(new("business_email_domain", 15));
        }
        if (i.PhoneValid) reasons.Add(new("valid_phone", 15));
        if (i.Company is not null) reasons.Add(new("company_present", 10));
        if (i.FirstName is not null && i.LastName is not null) reasons.Add(new("full_name", 10));
        else if (i.FirstName is not null || i.LastName is not null) reasons.Add(new("partial_name", 5));
        if (i.HasSource) reasons.Add(new("known_source", 10));
        if (i.MetadataKeys >= 3) reasons.Add(new("custom_fields_rich", 10));
        else if (i.MetadataKeys >= 1) reasons.Add(new("custom_fields_some", 5));
        var statusPoints = i.Status switch
        {
            LeadStatuses.Contacted => 5,
            LeadStatuses.Qualified => 15,
            LeadStatuses.Converted => 25,
            LeadStatuses.Closed => -20,
            _ => 0,
        };
        if (statusPoints != 0) reasons.Add(new($"status_{i.Status}", statusPoints));
        var total = Math.Clamp(reasons.Sum(r => r.Points), 0, 100);
        return new ScoreResult(total, reasons);
    }

    /// <summary>The score a lead is created with (status <c>new</c>), on every intake path.</summary>
    public static ScoreResult ForNewLead(NormalizedLead l, bool hasSource) => Compute(new ScoreInput(
        l.Email, l.PhoneValid, l.Company, l.FirstName, l.LastName, hasSource, l.MetadataKeys, LeadStatuses.New));

    public static string Qualification(int score) => score >= HotThreshold ? "hot" : score >= WarmThreshold ? "warm" : "cold";

    private static class Domains
    {
        public static readonly HashSet<string> FreeMail = new(StringComparer.Ordinal)
        {
            "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com", "hotmail.com", "hotmail.co.uk",
            "hotmail.fr", "outlook.com", "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me",
            "protonmail.com", "gmx.com", "gmx.de", "gmx.net", "web.de", "mail.com", "yandex.com", "yandex.ru", "mail.ru",
            "zoho.com", "qq.com", "163.com", "126.com", "free.fr", "orange.fr", "laposte.net", "libero.it", "t-online.de",
            "comcast.net", "att.net", "verizon.net", "sbcglobal.net", "btinternet.com", "fastmail.com", "hey.com", "tutanota.com",
        };

        public static readonly HashSet<string> Disposable = new(StringComparer.Ordinal)
        {
            "mailinator.com", "guerrillamail.com", "guerrillamail.net", "10minutemail.com", "tempmail.com", "temp-mail.org",
            "throwawaymail.com", "yopmail.com", "trashmail.com", "getnada.com", "sharklasers.com", "dispostable.com",
            "maildrop.cc", "fakeinbox.com", "mintemail.com", "mohmal.com", "emailondeck.com", "tempinbox.com", "spamgourmet.com",
            "mailnesia.com", "discard.email", "burnermail.io", "moakt.com", "tempr.email",
        };
    }
}
