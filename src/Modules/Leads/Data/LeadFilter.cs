using System.Collections.Concurrent;
using System.Globalization;
using Kernel.Ids;
using Modules.Leads.Public;
using Npgsql;
using NpgsqlTypes;

namespace Modules.Leads.Data;

/// <summary>The list filters of spec §3.1, as raw query values — shared by list, stats and export.</summary>
internal interface ILeadFilterQuery
{
    string? Status { get; }
    string? SourceId { get; }
    string? Search { get; }
    string? StartDate { get; }
    string? EndDate { get; }
    string? AssignedTo { get; }
    string? Duplicates { get; }
    string? Tag { get; }
    string? UpdatedSince { get; }
    string? UpdatedBefore { get; }
}

/// <summary>
/// Parsed, validated filters, bound as SQL parameters of a statement chosen from a closed set (one per combination of filters present).
/// Totals come from the <c>leads.lead_counts</c> counters whenever only counted dimensions are filtered.
/// </summary>
internal sealed record LeadFilter
{
    public const int MaxSearchLength = 200;
    private static readonly Guid NoOne = Guid.Empty;

    public required Guid WorkspaceId { get; init; }
    public string? Status { get; init; }
    public Guid? SourceId { get; init; }
    public Guid? AssignedTo { get; init; }
    public bool Unassigned { get; init; }
    public string? Duplicates { get; init; }
    public DateTime? StartDate { get; init; }
    public DateTime? EndBefore { get; init; }
    public string? Search { get; init; }
    public string? SearchDigits { get; init; }
    public Guid? TagId { get; init; }
    public string? TagName { get; init; }
    public DateTime? UpdatedSince { get; init; }
    public DateTime? UpdatedBefore { get; init; }

    /// <summary>Whether the exact total can be summed from the counters instead of counting rows.</summary>
    public bool CountersSuffice => Search is null && StartDate is null && EndBefore is null && TagId is null && TagName is null
                                   && UpdatedSince is null && UpdatedBefore is null;

    /// <summary>
    /// Whether <see cref="ListCache"/> may remember this filter's total and positions. Not with an <c>updatedSince</c> /
    /// <c>updatedBefore</c> range: every write moves <c>updated_at</c>, and the change log the cache trusts (migration 0032)
    /// deliberately ignores writes that change nothing a filter reads, so a note added would leave a remembered total stale.
    /// Such a filter is counted on the <c>(workspace_id, updated_at, id)</c> index instead (cheap for the recent ranges syncs ask).
    /// </summary>
    public bool Cacheable => UpdatedSince is null && UpdatedBefore is null;

    /// <summary>
    /// Whether one generic plan serves every value of this filter's parameters, so its statements may be prepared:
    /// equality filters on the list's indexed dimensions only. A search term, a date range or a tag can make one
    /// value want a different plan than another (a rare term wants the trigram index, a common one the
    /// newest-first walk), so those statements stay unprepared and are planned for their values.
    /// </summary>
    public bool GenericPlanSafe => CountersSuffice;

    [Flags]
    private enum Shape
    {
        Status = 1, Source = 2, Assigned = 4, Unassigned = 8, DuplicatesOnly = 16, DuplicatesExcluded = 32,
        Start = 64, End = 128, Search = 256, SearchDigits = 512, TagId = 1024, TagName = 2048,
        UpdatedSince = 4096, UpdatedBefore = 8192,
    }

    private Shape Present =>
        (Status is null ? 0 : Shape.Status) | (SourceId is null ? 0 : Shape.Source) | (AssignedTo is null ? 0 : Shape.Assigned)
        | (Unassigned ? Shape.Unassigned : 0)
        | (Duplicates == "only" ? Shape.DuplicatesOnly : 0) | (Duplicates == "exclude" ? Shape.DuplicatesExcluded : 0)
        | (StartDate is null ? 0 : Shape.Start) | (EndBefore is null ? 0 : Shape.End)
        | (Search is null ? 0 : Shape.Search) | (SearchDigits is null ? 0 : Shape.SearchDigits)
        | (TagId is null ? 0 : Shape.TagId) | (TagName is null ? 0 : Shape.TagName)
        | (UpdatedSince is null ? 0 : Shape.UpdatedSince) | (UpdatedBefore is null ? 0 : Shape.UpdatedBefore);

    private static readonly ConcurrentDictionary<Shape, string> WhereByShape = new();
    private static readonly ConcurrentDictionary<Shape, string> CounterWhereByShape = new();

    /// <summary>
    /// The WHERE clause of every filtered read over <c>leads.leads</c> (alias <c>l</c>): one fixed predicate per
    /// filter present and nothing for those absent, so the statement text is one of a closed set (at most one per
    /// combination of filters) and never carries <c>@p IS NULL OR …</c> predicates that only a custom plan folds
    /// away. Values are always bound parameters.
    /// </summary>
    public string Where => WhereByShape.GetOrAdd(Present, static s =>
    {
        var p = new List<string> { "l.workspace_id = @WorkspaceId" };
        if (s.HasFlag(Shape.Status)) p.Add("l.status = @Status");
        if (s.HasFlag(Shape.Source)) p.Add("l.source_id = @SourceId");
        if (s.HasFlag(Shape.Assigned)) p.Add("l.assigned_to = @AssignedTo");
        if (s.HasFlag(Shape.Unassigned)) p.Add("l.assigned_to IS NULL");
        if (s.HasFlag(Shape.DuplicatesOnly)) p.Add("l.duplicate_of IS NOT NULL");
        if (s.HasFlag(Shape.DuplicatesExcluded)) p.Add("l.duplicate_of IS NULL");
        if (s.HasFlag(Shape.Start)) p.Add("l.created_at >= @StartDate");
        if (s.HasFlag(Shape.End)) p.Add("l.created_at < @EndBefore");
        if (s.HasFlag(Shape.UpdatedSince)) p.Add("l.updated_at >= @UpdatedSince");
        if (s.HasFlag(Shape.UpdatedBefore)) p.Add("l.updated_at < @UpdatedBefore");
        // search_text ends with the phone's digits, so its trigram index finds the candidates of a digits match too
        // (migration 0074); phone_digits is the exact test.
        if (s.HasFlag(Shape.SearchDigits)) p.Add("(l.search_text LIKE lower(@Search) OR (l.search_text LIKE @SearchDigits AND l.phone_digits LIKE @SearchDigits))");
        else if (s.HasFlag(Shape.Search)) p.Add("l.search_text LIKE lower(@Search)");
        if (s.HasFlag(Shape.TagId)) p.Add("EXISTS (SELECT 1 FROM tags.v_lead_tags t WHERE t.lead_id = l.id AND t.tag_id = @TagId)");
        if (s.HasFlag(Shape.TagName))
            p.Add("EXISTS (SELECT 1 FROM tags.v_lead_tags t WHERE t.lead_id = l.id AND t.workspace_id = @WorkspaceId AND lower(t.name) = lower(@TagName))");
        return string.Join("\n  AND ", p);
    });

    /// <summary>The same dimensions over the counters table (alias <c>c</c>); only meaningful when <see cref="CountersSuffice"/>.</summary>
    public string CounterWhere => CounterWhereByShape.GetOrAdd(Present, static s =>
    {
        var p = new List<string> { "c.workspace_id = @WorkspaceId" };
        if (s.HasFlag(Shape.Status)) p.Add("c.status = @Status");
        if (s.HasFlag(Shape.Source)) p.Add("c.source_id = @SourceId");
        if (s.HasFlag(Shape.Assigned)) p.Add("c.assigned_to = @AssignedTo");
        if (s.HasFlag(Shape.Unassigned)) p.Add("c.assigned_to = '00000000-0000-0000-0000-000000000000'");
        if (s.HasFlag(Shape.DuplicatesOnly)) p.Add("c.is_duplicate");
        if (s.HasFlag(Shape.DuplicatesExcluded)) p.Add("NOT c.is_duplicate");
        return string.Join("\n  AND ", p);
    });

    /// <summary>Binds the parameters <see cref="Where"/> and <see cref="CounterWhere"/> use — exactly those present, typed.</summary>
    public void Bind(NpgsqlParameterCollection p)
    {
        p.Add(new NpgsqlParameter<Guid>("WorkspaceId", NpgsqlDbType.Uuid) { TypedValue = WorkspaceId });
        if (Status is not null) p.Add(new NpgsqlParameter<string>("Status", NpgsqlDbType.Text) { TypedValue = Status });
        if (SourceId is { } s) p.Add(new NpgsqlParameter<Guid>("SourceId", NpgsqlDbType.Uuid) { TypedValue = s });
        if (AssignedTo is { } a) p.Add(new NpgsqlParameter<Guid>("AssignedTo", NpgsqlDbType.Uuid) { TypedValue = a });
        if (StartDate is { } sd) p.Add(new NpgsqlParameter<DateTime>("StartDate", NpgsqlDbType.TimestampTz) { TypedValue = sd });
        if (EndBefore is { } eb) p.Add(new NpgsqlParameter<DateTime>("EndBefore", NpgsqlDbType.TimestampTz) { TypedValue = eb });
        if (Search is not null) p.Add(new NpgsqlParameter<string>("Search", NpgsqlDbType.Text) { TypedValue = Search });
        if (SearchDigits is not null) p.Add(new NpgsqlParameter<string>("SearchDigits", NpgsqlDbType.Text) { TypedValue = SearchDigits });
        if (TagId is { } t) p.Add(new NpgsqlParameter<Guid>("TagId", NpgsqlDbType.Uuid) { TypedValue = t });
        if (TagName is not null) p.Add(new NpgsqlParameter<string>("TagName", NpgsqlDbType.Text) { TypedValue = TagName });
        if (UpdatedSince is { } us) p.Add(new NpgsqlParameter<DateTime>("UpdatedSince", NpgsqlDbType.TimestampTz) { TypedValue = us });
        if (UpdatedBefore is { } ub) p.Add(new NpgsqlParameter<DateTime>("UpdatedBefore", NpgsqlDbType.TimestampTz) { TypedValue = ub });
    }

    /// <summary>The exact number of matching leads: summed from the counters when they suffice, else counted.</summary>
    public string CountSql => CountersSuffice
        ? $"SELECT coalesce(sum(c.n), 0)::bigint FROM leads.lead_counts c WHERE {CounterWhere}"
        : $"SELECT count(*) FROM leads.leads l WHERE {Where}";

    /// <summary>Runs <see cref="CountSql"/>, prepared when <see cref="GenericPlanSafe"/>.</summary>
    public async Task<long> CountAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(CountSql, conn);
        Bind(cmd.Parameters);
        if (GenericPlanSafe) await cmd.PrepareAsync(ct);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>Validates raw query values; every problem is reported against its parameter name.</summary>
    public static (LeadFilter? Filter, Dictionary<string, string> Errors) Parse(Guid workspaceId, ILeadFilterQuery q)
    {
        var errors = new Dictionary<string, string>();
        string? status = null;
        if (q.Status is not null)
        {
            if (LeadStatuses.All.Contains(q.Status)) status = q.Status;
            else errors["status"] = $"status must be one of: {string.Join(", ", LeadStatuses.All)}.";
        }
        Guid? sourceId = null;
        if (q.SourceId is not null)
        {
            if (TypeId.TryParse(q.SourceId, IdPrefix.Source, out var s)) sourceId = s;
            else errors["sourceId"] = "sourceId must be a source ID (src_…) or UUID.";
        }
        Guid? assignedTo = null;
        var unassigned = false;
        if (q.AssignedTo is not null)
        {
            if (q.AssignedTo == "unassigned") unassigned = true;
            else if (TypeId.TryParse(q.AssignedTo, IdPrefix.User, out var u)) assignedTo = u;
            else errors["assignedTo"] = "assignedTo must be a user ID (usr_…), a UUID or 'unassigned'.";
        }
        string? duplicates = null;
        if (q.Duplicates is not null)
        {
            if (q.Duplicates is "only" or "exclude") duplicates = q.Duplicates;
            else errors["duplicates"] = "duplicates must be 'only' or 'exclude'.";
        }
        var start = ParseDate(q.StartDate, "startDate", endOfDay: false, errors);
        var endBefore = ParseDate(q.EndDate, "endDate", endOfDay: true, errors);
        if (start is not null && endBefore is not null && start >= endBefore) errors["endDate"] = "endDate must not be before startDate.";
        // updatedBefore is exclusive (a sync's next window starts where the last ended); a date-only value means that day's start.
        var updatedSince = ParseDate(q.UpdatedSince, "updatedSince", endOfDay: false, errors);
        var updatedBefore = ParseDate(q.UpdatedBefore, "updatedBefore", endOfDay: false, errors);
        if (updatedSince is not null && updatedBefore is not null && updatedSince >= updatedBefore)
            errors["updatedBefore"] = "updatedBefore must be after updatedSince.";

        string? search = null, digits = null;
        if (q.Search is not null)
        {
            var t = q.Search.Trim();
            if (t.Length > MaxSearchLength) errors["search"] = $"search must be at most {MaxSearchLength} characters.";
            else if (t.Contains('\0')) errors["search"] = "search must not contain NUL characters.";
            else if (t.Length > 0)
            {
                // Lower-cased by PostgreSQL in the statement, as search_text is: .NET's invariant casing differs for
                // some letters (it leaves U+0130 'İ' alone, PostgreSQL's lower() makes it 'i'), which hid such leads.
                search = "%" + EscapeLike(t) + "%";
                var d = new string(t.Where(char.IsAsciiDigit).ToArray());
                // A query that looks like a phone number also matches phones by digits, formatting ignored.
                if (d.Length >= 3 && t.All(c => char.IsAsciiDigit(c) || c is ' ' or '+' or '-' or '(' or ')' or '.')) digits = "%" + d + "%";
            }
        }
        Guid? tagId = null;
        string? tagName = null;
        if (q.Tag is not null)
        {
            var t = q.Tag.Trim();
            if (t.StartsWith(IdPrefix.Tag + "_", StringComparison.Ordinal) && TypeId.TryParse(t, IdPrefix.Tag, out var tid)) tagId = tid;
            else if (t.Length is >= 1 and <= 50 && !t.Contains('\0')) tagName = t;
            else errors["tag"] = "tag must be a tag ID (tag_…) or a tag name of 1–50 characters.";
        }
        if (errors.Count > 0) return (null, errors);
        return (new LeadFilter
        {
            WorkspaceId = workspaceId, Status = status, SourceId = sourceId, AssignedTo = assignedTo, Unassigned = unassigned,
            Duplicates = duplicates, StartDate = start, EndBefore = endBefore, Search = search, SearchDigits = digits,
            TagId = tagId, TagName = tagName, UpdatedSince = updatedSince, UpdatedBefore = updatedBefore,
        }, errors);
    }

    /// <summary>
    /// <paramref name="t"/> moved on by <paramref name="ticks"/>, or <see cref="DateTime.MaxValue"/> when that passes the
    /// year 9999 (<c>endDate=9999-12-31</c>): Npgsql sends MaxValue as <c>infinity</c>, so "before it" is every lead.
    /// </summary>
    private static DateTime Later(DateTime t, long ticks) =>
        t.Ticks > DateTime.MaxValue.Ticks - ticks ? DateTime.SpecifyKind(DateTime.MaxValue, DateTimeKind.Utc) : t.AddTicks(ticks);

    private static string EscapeLike(string s) => s.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    /// <summary>
    /// ISO date or date-time, as UTC. A date-only end includes that whole day; a date-time end is inclusive
    /// (PostgreSQL keeps microseconds, so "before end + 1 µs").
    /// </summary>
    private static DateTime? ParseDate(string? value, string field, bool endOfDay, Dictionary<string, string> errors)
    {
        if (value is null) return null;
        var v = value.Trim();
        if (DateOnly.TryParseExact(v, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
        {
            var start = d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
            return endOfDay ? Later(start, TimeSpan.TicksPerDay) : start;
        }
        if (v.Length >= 16 && v[4] == '-' && v[10] == 'T' && DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var dto))
            return endOfDay ? Later(dto.UtcDateTime, 10) : dto.UtcDateTime;
        errors[field] = $"{field} must be an ISO date (2026-03-01) or date-time (2026-03-01T12:00:00Z).";
        return null;
    }
}
