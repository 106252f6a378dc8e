using FastEndpoints;
using FluentValidation;
using FluentValidation.Results;
using Kernel.Http;
using Kernel.Ids;
using Modules.Import.Bulk;
using Modules.Leads.Public;

namespace Modules.Import.Features.StartBulkAction;

/// <summary>The list's filters (spec §3.1, §11) as a JSON object; all optional.</summary>
internal sealed class Filter
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

    public bool IsEmpty => Status is null && SourceId is null && Search is null && StartDate is null && EndDate is null && AssignedTo is null
                           && Duplicates is null && Tag is null && UpdatedSince is null && UpdatedBefore is null;

    public LeadExportFilters ToFilters() => new()
    {
        Status = Status, SourceId = SourceId, Search = Search, StartDate = StartDate, EndDate = EndDate, AssignedTo = AssignedTo,
        Duplicates = Duplicates, Tag = Tag, UpdatedSince = UpdatedSince, UpdatedBefore = UpdatedBefore,
    };
}

/// <summary>Spec §12: which leads (<c>filter</c>, or <c>all: true</c>), what to do, and the one parameter that action takes.</summary>
internal sealed class Request
{
    /// <summary>The list's filters; the leads matching them now are the ones acted on. Empty or absent needs <c>all: true</c>.</summary>
    public Filter? Filter { get; init; }
    /// <summary><c>true</c> to act on every lead of the workspace (only without a filter).</summary>
    public bool? All { get; init; }
    /// <summary>set_status, assign, unassign, add_tag, remove_tag or delete.</summary>
    [OneOf(typeof(BulkActionNames))] public string? Action { get; init; }
    /// <summary>For set_status: new, contacted, qualified, converted or closed.</summary>
    [OneOf(typeof(LeadStatuses))] public string? Status { get; init; }
    /// <summary>For assign: the member (usr_… or UUID).</summary>
    public string? UserId { get; init; }
    /// <summary>For add_tag: a tag name (1–50 characters; created on first use). For remove_tag: a tag name or ID.</summary>
    public string? Tag { get; init; }
    /// <summary><c>true</c>: only count the leads the action would act on; nothing is stored or changed.</summary>
    public bool? DryRun { get; init; }

    public Guid? UserUuid => UserId is not null && TypeId.TryParse(UserId, IdPrefix.User, out var u) ? u : null;

    internal sealed class Validator : Validator<Request>
    {
        public Validator() => RuleFor(r => r).Custom((r, ctx) =>
        {
            void Fail(string field, string message) => ctx.AddFailure(new ValidationFailure(field, message) { ErrorCode = "invalid_parameter" });
            if (r.Action is null || !BulkActionNames.All.Contains(r.Action))
                Fail("action", $"action must be one of: {string.Join(", ", BulkActionNames.All)}.");
            foreach (var (field, message) in LeadCsvExport.Validate(r.Filter?.ToFilters() ?? new LeadExportFilters()))
                Fail("filter." + field, message);
            var empty = r.Filter?.IsEmpty ?? true;
            if (empty && r.All != true) Fail("all", "An empty filter selects every lead: send \"all\": true to confirm.");
            if (!empty && r.All == true) Fail("all", "\"all\": true acts on every lead; send it without a filter.");

            if (r.Action == BulkActionNames.SetStatus && (r.Status is null || !LeadStatuses.All.Contains(r.Status)))
                Fail("status", $"set_status needs status, one of: {string.Join(", ", LeadStatuses.All)}.");
            else if (r.Action != BulkActionNames.SetStatus && r.Status is not null) Fail("status", "status is for set_status only.");
            if (r.Action == BulkActionNames.Assign && r.UserUuid is null) Fail("userId", "assign needs userId, a user ID (usr_…) or UUID.");
            else if (r.Action != BulkActionNames.Assign && r.UserId is not null) Fail("userId", "userId is for assign only.");
            if (r.Action is BulkActionNames.AddTag or BulkActionNames.RemoveTag)
            {
                var t = r.Tag?.Trim();
                if (t is null || t.Length is < 1 or > 50 || t.Contains('\0')) Fail("tag", $"{r.Action} needs tag, a tag name of 1–50 characters{(r.Action == BulkActionNames.RemoveTag ? " or a tag ID" : "")}.");
            }
            else if (r.Tag is not null) Fail("tag", "tag is for add_tag and remove_tag only.");
        });
    }
}

/// <summary>202 (accepted) or, for a dry run, 200.</summary>
internal sealed class Response
{
    /// <summary>The bulk action's ID; null for a dry run.</summary>
    [TypeId(IdPrefix.Bulk)] public Guid? Id { get; init; }
    /// <summary><c>queued</c>; <c>dry_run</c> for a dry run.</summary>
    public string Status { get; init; } = "";
    /// <summary>Leads the filter matches now (the list's total): the leads the action acts on.</summary>
    public long Matched { get; init; }
    /// <summary>Where to poll; null for a dry run.</summary>
    public string? StatusUrl { get; init; }
}
