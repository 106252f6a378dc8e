using Kernel.Http;
using Kernel.Ids;

namespace Modules.Import.Features.StartImport;

/// <summary>
/// The import options (spec §3.7), from the query string or from multipart form fields (a form field wins). Not a
/// bound DTO: binding would read the body, and the body is a file that must stream.
/// </summary>
internal sealed class Request
{
    public Guid? SourceId { get; private set; }
    public string OnDuplicate { get; private set; } = "flag";
    public bool DryRun { get; private set; }
    public string? FileName { get; private set; }

    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    /// <summary>Applies one option; unknown names are ignored like unknown query parameters elsewhere.</summary>
    public void Set(string name, string value)
    {
        switch (name)
        {
            case "sourceId":
                if (TypeId.TryParse(value.Trim(), IdPrefix.Source, out var s)) SourceId = s;
                else _errors["sourceId"] = ["sourceId must be a source ID (src_…) or UUID."];
                break;
            case "onDuplicate":
                if (value.Trim() is "flag" or "skip") OnDuplicate = value.Trim();
                else _errors["onDuplicate"] = ["onDuplicate must be 'flag' or 'skip'."];
                break;
            case "dryRun":
                if (bool.TryParse(value.Trim(), out var d)) DryRun = d;
                else if (value.Trim() is "1" or "0") DryRun = value.Trim() == "1";
                else _errors["dryRun"] = ["dryRun must be true or false."];
                break;
            case "fileName":
                FileName = value;
                break;
        }
    }

    public static readonly string[] Names = ["sourceId", "onDuplicate", "dryRun", "fileName"];

    public void ThrowIfInvalid()
    {
        if (_errors.Count > 0)
            throw new ApiProblemException(400, ProblemCodes.ValidationFailed, "Validation failed", "One or more options are invalid; see errors.",
                new Dictionary<string, string[]>(_errors));
    }
}

/// <summary>202 Accepted: where to follow the import.</summary>
internal sealed record Response(string Id, string Status, string StatusUrl);
