using Modules.Import.Exports;
using Kernel.Http;
using FastEndpoints;
using FluentValidation;
using FluentValidation.Results;
using Modules.Leads.Public;

namespace Modules.Import.Features.StartExport;

/// <summary>The list's filters (spec §3.1) as a JSON body; all optional, <c>{}</c> exports every lead.</summary>
internal sealed class Request
{
    /// <summary>new, contacted, qualified, converted or closed.</summary>
    [OneOf(typeof(LeadStatuses))] public string? Status { get; init; }
    /// <summary>Leads from this source (src_… or UUID).</summary>
    public string? SourceId { get; init; }
    /// <summary>Case-insensitive substring of first, last or full name, email, company, or phone (digits compared).</summary>
    public string? Search { get; init; }
    /// <summary>Created at or after this ISO date or date-time.</summary>
    public string? StartDate { get; init; }
    /// <summary>Created at or before; a date-only value includes that whole day (UTC).</summary>
    public string? EndDate { get; init; }
    /// <summary>A user ID, or <c>unassigned</c>.</summary>
    public string? AssignedTo { get; init; }
    /// <summary><c>only</c> or <c>exclude</c> leads flagged as duplicates.</summary>
    public string? Duplicates { get; init; }
    /// <summary>Leads carrying this tag (ID or name).</summary>
    public string? Tag { get; init; }
    /// <summary>Changed (or created) at or after this ISO date or date-time.</summary>
    public string? UpdatedSince { get; init; }
    /// <summary>Last changed before this ISO date or date-time (exclusive).</summary>
    public string? UpdatedBefore { get; init; }
    /// <summary>The list's order: createdAt, updatedAt, score, lastName or company; a leading '-' for descending (default -createdAt).</summary>
    public string? Sort { get; init; }

    public LeadExportFilters ToFilters() => new()
    {
        Status = Status, SourceId = SourceId, Search = Search, StartDate = StartDate, EndDate = EndDate,
        AssignedTo = AssignedTo, Duplicates = Duplicates, Tag = Tag, UpdatedSince = UpdatedSince, UpdatedBefore = UpdatedBefore,
        Sort = Sort,
    };

    internal sealed class Validator : Validator<Request>
    {
        public Validator() => RuleFor(r => r).Custom((r, ctx) =>
        {
            // The same rules, messages and field names as the list's query parameters.
            foreach (var (field, message) in LeadCsvExport.Validate(r.ToFilters()))
                ctx.AddFailure(new ValidationFailure(field, message) { ErrorCode = "invalid_parameter" });
        });
    }
}

/// <summary>202 body: poll <c>statusUrl</c> until the export is completed.</summary>
internal sealed class Response
{
    [Kernel.Ids.TypeId(Kernel.Ids.IdPrefix.Export)] public Guid Id { get; init; }
    /// <summary>Always <c>queued</c>.</summary>
    [OneOf(typeof(ExportStatus))] public string Status { get; init; } = "";
    public string StatusUrl { get; init; } = "";
}
