using System.Globalization;
using Dapper;
using Kernel.Ids;
using Modules.Leads.Public;
using Npgsql;

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
}

/// <summary>
/// Parsed, validated filters bound as SQL parameters of one fixed statement (no string-built SQL).
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

    /// <summary>Whether the exact total can be summed from the counters instead of counting rows.</summary>
    public bool CountersSuffice => Search is null && StartDate is null && EndBefore is null && TagId is null && TagName is null;

    /// <summary>
    /// The WHERE clause every filtered read uses (alias <c>l</c>). Each optional filter is a fixed predicate
    /// that PostgreSQL folds away when its parameter is null (Npgsql sends unprepared statements, so plans are custom).
    /// </summary>
    public const string Where = """
        l.workspace_id = @WorkspaceId
          AND (@Status::text IS NULL OR l.status = @Status)
          AND (@SourceId::uuid IS NULL OR l.source_id = @SourceId)
          AND (@AssignedTo::uuid IS NULL OR l.assigned_to = @AssignedTo)
          AND (NOT @Unassigned OR l.assigned_to IS NULL)
          AND (@Duplicates::text IS NULL OR (l.duplicate_of IS NOT NULL) = (@Duplicates = 'only'))
          AND (@StartDate::timestamptz IS NULL OR l.created_at >= @StartDate)
          AND (@EndBefore::timestamptz IS NULL OR l.created_at < @EndBefore)
          AND (@Search::text IS NULL OR l.search_text LIKE lower(@Search) OR (@SearchDigits::text IS NOT NULL AND l.phone_digits LIKE @SearchDigits))
          AND (@TagId::uuid IS NULL OR EXISTS (SELECT 1 FROM tags.v_lead_tags t WHERE t.lead_id = l.id AND t.tag_id = @TagId))
          AND (@TagName::text IS NULL OR EXISTS (SELECT 1 FROM tags.v_lead_tags t WHERE t.lead_id = l.id AND t.workspace_id = @WorkspaceId AND lower(t.name) = lower(@TagName)))
        """;

    /// <summary>The same dimensions over the counters table (alias <c>c</c>).</summary>
    public const string CounterWhere = """
        c.workspace_id = @WorkspaceId
          AND (@Status::text IS NULL OR c.status = @Status)
          AND (@SourceId::uuid IS NULL OR c.source_id = @SourceId)
          AND (@AssignedTo::uuid IS NULL OR c.assigned_to = @AssignedTo)
          AND (NOT @Unassigned OR c.assigned_to = '00000000-0000-0000-0000-000000000000')
          AND (@Duplicates::text IS NULL OR c.is_duplicate = (@Duplicates = 'only'))
        """;

    private const string CountRowsSql = $"SELECT count(*) FROM leads.leads l WHERE {Where}";
    private const string CountCountersSql = $"SELECT coalesce(sum(c.n), 0)::bigint FROM leads.lead_counts c WHERE {CounterWhere}";

    public Task<long> CountAsync(NpgsqlConnection conn, CancellationToken ct) =>
        conn.ExecuteScalarAsync<long>(new CommandDefinition(CountersSuffice ? CountCountersSql : CountRowsSql, this, cancellationToken: ct));

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
            TagId = tagId, TagName = tagName,
        }, errors);
    }

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
            return endOfDay ? start.AddDays(1) : start;
        }
        if (v.Length >= 16 && v[4] == '-' && v[10] == 'T' && DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var dto))
            return endOfDay ? dto.UtcDateTime.AddTicks(10) : dto.UtcDateTime;
        errors[field] = $"{field} must be an ISO date (2026-03-01) or date-time (2026-03-01T12:00:00Z).";
        return null;
    }
}
