using System.Text.Json.Nodes;
using Modules.Leads.Public;

namespace Modules.Import.Csv;

/// <summary>
/// Which CSV column fills which lead field (spec §3.7): header names compare case-insensitively, ignoring spaces,
/// <c>_</c> and <c>-</c>, with common aliases. The first column naming a field fills it; every other column is
/// kept in <c>metadata</c> under its header name (trimmed string values, empty ones left out). A trailing
/// <c>line,error</c> column pair is what the error report adds; it is ignored, so a fixed report re-imports as is.
/// </summary>
internal sealed class ColumnMap
{
    private enum Target { Metadata, Email, FirstName, LastName, Phone, Company, Ignored }

    private static readonly Dictionary<string, Target> Aliases = new(StringComparer.Ordinal)
    {
        ["email"] = Target.Email, ["emailaddress"] = Target.Email, ["mail"] = Target.Email, ["emailid"] = Target.Email,
        ["firstname"] = Target.FirstName, ["givenname"] = Target.FirstName, ["forename"] = Target.FirstName, ["first"] = Target.FirstName,
        ["fname"] = Target.FirstName,
        ["lastname"] = Target.LastName, ["surname"] = Target.LastName, ["familyname"] = Target.LastName, ["last"] = Target.LastName,
        ["lname"] = Target.LastName,
        ["phone"] = Target.Phone, ["phonenumber"] = Target.Phone, ["mobile"] = Target.Phone, ["mobilephone"] = Target.Phone,
        ["mobilenumber"] = Target.Phone, ["cell"] = Target.Phone, ["cellphone"] = Target.Phone, ["telephone"] = Target.Phone,
        ["tel"] = Target.Phone, ["phoneno"] = Target.Phone,
        ["company"] = Target.Company, ["companyname"] = Target.Company, ["organization"] = Target.Company,
        ["organisation"] = Target.Company, ["organizationname"] = Target.Company, ["organisationname"] = Target.Company,
        ["business"] = Target.Company, ["businessname"] = Target.Company, ["employer"] = Target.Company,
    };

    private readonly Target[] _targets;
    private readonly string[] _names;

    private ColumnMap(Target[] targets, string[] names)
    {
        _targets = targets;
        _names = names;
    }

    public int Count => _targets.Length;

    /// <summary>True when at least one column names a lead field: otherwise the first line is no header.</summary>
    public bool HasLeadColumn => _targets.Any(t => t is not (Target.Metadata or Target.Ignored));

    public static ColumnMap From(IReadOnlyList<string> header)
    {
        var targets = new Target[header.Count];
        var names = new string[header.Count];
        var taken = new HashSet<Target>();
        for (var i = 0; i < header.Count; i++)
        {
            var name = header[i].Trim();
            names[i] = name.Length == 0 ? $"column{i + 1}" : name;
            if (Aliases.TryGetValue(Normalize(name), out var t) && taken.Add(t)) targets[i] = t;
        }
        if (header.Count >= 3 && IsReportColumn(header[^2], "line") && IsReportColumn(header[^1], "error"))
            targets[^2] = targets[^1] = Target.Ignored;
        return new ColumnMap(targets, names);
    }

    public static bool IsRecognised(string headerName) => Aliases.ContainsKey(Normalize(headerName));

    private static bool IsReportColumn(string name, string expected) => name.Trim().Equals(expected, StringComparison.OrdinalIgnoreCase);

    private static string Normalize(string name) =>
        string.Concat(name.Where(c => !char.IsWhiteSpace(c) && c != '_' && c != '-')).ToLowerInvariant();

    /// <summary>The intake input of one record; fields past the header are not read (the caller rejects non-empty ones).</summary>
    public LeadInput ToInput(IReadOnlyList<string> fields)
    {
        string? email = null, first = null, last = null, phone = null, company = null;
        JsonObject? metadata = null;
        var n = Math.Min(fields.Count, _targets.Length);
        for (var i = 0; i < n; i++)
        {
            var v = fields[i];
            switch (_targets[i])
            {
                case Target.Email: email = v; break;
                case Target.FirstName: first = v; break;
                case Target.LastName: last = v; break;
                case Target.Phone: phone = v; break;
                case Target.Company: company = v; break;
                case Target.Ignored: break;
                default:
                    var t = v.Trim();
                    if (t.Length == 0) break;
                    metadata ??= new JsonObject();
                    metadata[_names[i]] = t;
                    break;
            }
        }
        return new LeadInput { Email = email, FirstName = first, LastName = last, Phone = phone, Company = company, Metadata = metadata };
    }
}
