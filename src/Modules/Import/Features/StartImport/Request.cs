using System.ComponentModel;
using Microsoft.AspNetCore.Http;
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
                if (value.Trim() is OnDuplicateModes.Flag or OnDuplicateModes.Skip) OnDuplicate = value.Trim();
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

/// <summary>
/// The upload as the OpenAPI document publishes it (<c>Accepts&lt;Form&gt;</c>): never bound, the endpoint streams the
/// body itself. The options may come as these form fields or as query parameters of the same names.
/// </summary>
internal sealed class Form
{
    [Description("The CSV file (UTF-8, header row first).")]
    public required IFormFile File { get; init; }

    [Description("Source given to every imported lead (src_… or UUID).")]
    public string? SourceId { get; init; }

    [Description("`flag` (default) writes duplicates flagged; `skip` leaves them out.")]
    [OneOf(typeof(OnDuplicateModes))]
    public string? OnDuplicate { get; init; }

    [Description("`true` validates and counts without writing a lead.")]
    public bool? DryRun { get; init; }

    [Description("Name shown for a raw `text/csv` upload (a multipart file carries its own).")]
    public string? FileName { get; init; }
}

internal static class OnDuplicateModes
{
    public const string Flag = "flag";
    public const string Skip = "skip";
}
