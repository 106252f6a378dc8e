using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kernel.Http;
using Modules.Leads.Public;
using PhoneNumbers;

namespace Modules.Leads.Intake;

/// <summary>
/// The one set of intake rules — normalise and validate — used by the API, the webhook and CSV import, so
/// every path stores the same lead for the same input. Returns field errors instead of throwing: the API
/// turns them into a 400, an import into a rejected row with its line number.
/// </summary>
internal static partial class LeadRules
{
    private static readonly PhoneNumberUtil Phones = PhoneNumberUtil.GetInstance();

    public static (NormalizedLead? Lead, Dictionary<string, string> Errors) Normalize(LeadInput input, string defaultRegion)
    {
        var errors = new Dictionary<string, string>();
        var email = Clean(input.Email);
        var first = Clean(input.FirstName);
        var last = Clean(input.LastName);
        var phone = Clean(input.Phone);
        var company = Clean(input.Company);
        var notes = string.IsNullOrEmpty(input.Notes) ? null : input.Notes;

        Check(errors, "email", email, LeadLimits.Email);
        Check(errors, "firstName", first, LeadLimits.Name);
        Check(errors, "lastName", last, LeadLimits.Name);
        Check(errors, "phone", phone, LeadLimits.Phone);
        Check(errors, "company", company, LeadLimits.Company);
        if (notes is not null)
        {
            if (notes.Length > LeadLimits.Notes) errors["notes"] = $"notes must be at most {LeadLimits.Notes} characters.";
            else if (TextRule.Violation(notes, "notes") is { } bad) errors["notes"] = bad;
            else notes = TextRule.Normalize(notes);
        }

        if (email is not null && !errors.ContainsKey("email") && !IsEmail(email)) errors["email"] = "email is not a valid address.";

        var (e164, phoneValid) = phone is null || errors.ContainsKey("phone") ? (null, false) : NormalizePhone(phone, defaultRegion);

        var metadataJson = "{}";
        var metadataKeys = 0;
        if (input.Metadata is { Count: > 0 } md)
        {
            metadataJson = md.ToJsonString(MetadataJson.Options);
            metadataKeys = md.Count;
            if (MetadataJson.Utf8Bytes(metadataJson) > LeadLimits.MetadataBytes)
                errors["metadata"] = $"metadata must be at most {LeadLimits.MetadataBytes / 1024} KB of JSON (UTF-8).";
            else if (MetadataJson.Violation(md) is { } bad)
                errors["metadata"] = bad;
        }

        if (email is null && phone is null && first is null && last is null && errors.Count == 0)
            errors["body"] = "A lead needs at least one of email, phone, firstName or lastName.";

        if (errors.Count > 0) return (null, errors);
        return (new NormalizedLead
        {
            Email = email,
            EmailNorm = email?.ToLowerInvariant(),
            FirstName = first,
            LastName = last,
            Phone = phone,
            PhoneE164 = e164,
            PhoneValid = phoneValid,
            Company = company,
            Notes = notes,
            MetadataJson = metadataJson,
            MetadataKeys = metadataKeys,
        }, errors);
    }

    /// <summary>
    /// The phone's match key (spec §8): its E.164 form when libphonenumber reads it as a <em>possible</em> number, else
    /// null — a phone is stored as sent whatever this says. An explicit <c>+</c> is honoured; so are the <c>00</c> and
    /// <c>011</c> international prefixes, unless the number is already valid in <paramref name="defaultRegion"/> as
    /// dialled there (keeping every key stored before §8, when only valid numbers were accepted, exactly as it was).
    /// Otherwise the default region applies. Numbers only possible as a local number (7 US digits, no area code)
    /// get no key: they would match strangers across the country. <c>Valid</c> says whether the number is also
    /// a valid, assigned number (what scoring rewards).
    /// </summary>
    public static (string? E164, bool Valid) NormalizePhone(string phone, string defaultRegion)
    {
        if (phone.StartsWith('+')) return Key(Parse(phone, "ZZ"));
        var national = Parse(phone, defaultRegion);
        if (national is not null && Phones.IsValidNumber(national)) return (Phones.Format(national, PhoneNumberFormat.E164), true);
        if (InternationalPrefixed(phone) is { } plus && Key(Parse(plus, "ZZ")) is { E164: not null } international) return international;
        return Key(national);
    }

    /// <summary>Whether a stored E.164 key is a valid, assigned number (scoring's <c>valid_phone</c>).</summary>
    public static bool IsValidE164(string? e164) => e164 is not null && Parse(e164, "ZZ") is { } n && Phones.IsValidNumber(n);

    private static (string? E164, bool Valid) Key(PhoneNumber? n) =>
        n is not null && Phones.IsPossibleNumberWithReason(n) == PhoneNumberUtil.ValidationResult.IS_POSSIBLE
            ? (Phones.Format(n, PhoneNumberFormat.E164), Phones.IsValidNumber(n))
            : (null, false);

    private static PhoneNumber? Parse(string phone, string region)
    {
        try { return Phones.Parse(phone, region); }
        catch (NumberParseException) { return null; }
    }

    // "00 49 30 1234567" / "011-49-30-1234567" → "+4930 1234567"; null for anything else or anything with letters.
    private static string? InternationalPrefixed(string phone)
    {
        if (!PhoneCharacters().IsMatch(phone)) return null;
        var digits = string.Concat(phone.Where(char.IsAsciiDigit));
        return digits.StartsWith("011", StringComparison.Ordinal) ? "+" + digits[3..]
             : digits.StartsWith("00", StringComparison.Ordinal) ? "+" + digits[2..]
             : null;
    }

    [GeneratedRegex(@"^[0-9 ().\-/]+$")]
    private static partial Regex PhoneCharacters();

    public static bool IsEmail(string email) => email.Length <= LeadLimits.Email && EmailPattern().IsMatch(email);

    // Trimmed; empty or whitespace-only means "not given".
    private static string? Clean(string? s)
    {
        if (s is null) return null;
        var t = s.Trim();
        return t.Length == 0 ? null : TextRule.Violation(t, "") is null ? TextRule.Normalize(t) : t;
    }

    private static void Check(Dictionary<string, string> errors, string field, string? value, int max)
    {
        if (value is null) return;
        if (value.Length > max) errors[field] = $"{field} must be at most {max} characters.";
        else if (value.AsSpan().IndexOfAny('\0', '\r', '\n') >= 0) errors[field] = $"{field} must not contain NUL or line-break characters.";
        else if (TextRule.Violation(value, field) is { } bad) errors[field] = bad;
    }

    // Pragmatic address check: one @, a dotted domain of letters/digits/hyphens, no spaces or control characters.
    [GeneratedRegex(@"^[^\s@\x00-\x1f\x7f""(),:;<>\[\\\]]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")]
    private static partial Regex EmailPattern();
}
