using Dapper;
using Kernel.Http;
using Kernel.Ids;
using Microsoft.Extensions.Primitives;
using Modules.Leads.Intake;
using Npgsql;

namespace Modules.Leads.Public;

/// <summary>The scoring-relevant state of one lead, as locked by <see cref="LeadLookup.LockAsync"/>.</summary>
public sealed record LeadRow
{
    public Guid Id { get; init; }
    public Guid WorkspaceId { get; init; }
    public string? Email { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Phone { get; init; }
    public string? PhoneE164 { get; init; }
    public string? Company { get; init; }
    public string? Notes { get; init; }
    public string Status { get; init; } = "";
    public int Score { get; init; }
    public Guid? SourceId { get; init; }
    public Guid? AssignedTo { get; init; }
    public int MetadataKeys { get; init; }
    public Guid? DuplicateOf { get; init; }

    /// <summary>The row version when it was locked (<see cref="LeadVersions"/>).</summary>
    public long Version { get; init; }

    public ScoreInput ToScoreInput() => new(Email, LeadRules.IsValidE164(PhoneE164), Company, FirstName, LastName, SourceId is not null, MetadataKeys, Status);
}

/// <summary>Finding a lead by its path ID, with the spec's 404s: <c>lead_not_found</c> and <c>lead_merged</c> (+ <c>mergedIntoId</c>).</summary>
public static class LeadLookup
{
    private const string ExistsSql = "SELECT EXISTS (SELECT 1 FROM leads.leads WHERE id = @Id AND workspace_id = @WorkspaceId)";

    private const string LiveSql = "SELECT id FROM leads.leads WHERE id = ANY(@Ids) AND workspace_id = @WorkspaceId";

    private const string MergedSql = "SELECT merged_into FROM leads.merged_leads WHERE id = @Id AND workspace_id = @WorkspaceId";

    /// <summary>Parses a path ID; malformed or foreign-typed IDs are simply not found.</summary>
    public static Guid ParseOrNotFound(string id) =>
        TypeId.TryParse(id, IdPrefix.Lead, out var g) ? g : throw NotFound();

    /// <summary>
    /// Locks the lead row for the rest of the transaction, or throws the right 404; with the request's
    /// <c>If-Match</c>, throws 412 when the locked row is another version (<see cref="LeadVersions"/>).
    /// </summary>
    public static async Task<LeadRow> LockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid id, CancellationToken ct,
        StringValues ifMatch = default)
    {
        var lead = await LeadLocks.TryLockAsync(conn, tx, workspaceId, id, ct) ?? throw await MissingAsync(conn, tx, workspaceId, id, ct);
        LeadVersions.RequireMatch(ifMatch, lead.Version);
        return lead;
    }

    /// <summary><see cref="LockAsync"/> for an edit of the lead's fields (<c>FOR NO KEY UPDATE</c>, see <see cref="LeadLocks"/>).</summary>
    public static async Task<LeadRow> LockForEditAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid id, CancellationToken ct,
        StringValues ifMatch = default)
    {
        var lead = await LeadLocks.TryLockForEditAsync(conn, tx, workspaceId, id, ct) ?? throw await MissingAsync(conn, tx, workspaceId, id, ct);
        LeadVersions.RequireMatch(ifMatch, lead.Version);
        return lead;
    }

    public static async Task EnsureExistsAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct)
    {
        if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(ExistsSql, new { Id = id, WorkspaceId = workspaceId }, cancellationToken: ct)))
            throw await MissingAsync(conn, null, workspaceId, id, ct);
    }

    /// <summary>Like <see cref="EnsureExistsAsync"/> for several leads in one query: the 404 is the first missing one's, in the given order.</summary>
    public static async Task EnsureAllExistAsync(NpgsqlConnection conn, Guid workspaceId, Guid[] ids, CancellationToken ct)
    {
        var live = (await conn.QueryAsync<Guid>(new CommandDefinition(LiveSql, new { Ids = ids, WorkspaceId = workspaceId }, cancellationToken: ct))).ToHashSet();
        foreach (var id in ids)
            if (!live.Contains(id)) throw await MissingAsync(conn, null, workspaceId, id, ct);
    }

    /// <summary>The 404 for an ID that is not a live lead: merged away, or never existed here.</summary>
    public static async Task<ApiProblemException> MissingAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid workspaceId, Guid id, CancellationToken ct)
    {
        var into = await conn.ExecuteScalarAsync<Guid?>(new CommandDefinition(MergedSql, new { Id = id, WorkspaceId = workspaceId }, tx, cancellationToken: ct));
        if (into is null) return NotFound();
        var intoId = TypeId.Format(IdPrefix.Lead, into.Value);
        return new ApiProblemException(404, "lead_merged", "Lead merged",
            $"This lead was merged into {intoId}.", extensions: new Dictionary<string, object?> { ["mergedIntoId"] = intoId });
    }

    public static ApiProblemException NotFound() => ApiProblemException.NotFound("lead_not_found", "Lead");
}

/// <summary>Locks taken by a merge: both leads, in a fixed order, so opposing merges queue instead of deadlocking.</summary>
public static class LeadLocks
{
    private const string TryLockSql = RowSql + "FOR UPDATE";

    // An edit changes no key: FOR NO KEY UPDATE still queues it behind every other writer of the lead, but lets intake
    // flag a new duplicate against it meanwhile (the FK check's KEY SHARE), so an edit waiting on intake's match-key
    // locks cannot deadlock with an intake waiting on the lead.
    private const string TryLockForEditSql = RowSql + "FOR NO KEY UPDATE";

    private const string RowSql = """
        SELECT id, workspace_id, email, first_name, last_name, phone, phone_e164, company, notes, status, score,
               source_id, assigned_to, (SELECT count(*) FROM jsonb_object_keys(metadata))::int AS metadata_keys, duplicate_of,
               xmin::text::bigint AS version
        FROM leads.leads
        WHERE id = @Id AND workspace_id = @WorkspaceId

        """;

    private const string LockAllSql = "SELECT id FROM leads.leads WHERE workspace_id = @WorkspaceId AND id = ANY(@Ids) ORDER BY id FOR UPDATE";

    /// <summary>
    /// Locks those of the leads that still exist, in ascending ID order (the order every multi-lead writer takes), in one
    /// statement; returns them in that order.
    /// </summary>
    public static async Task<Guid[]> LockAllAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid[] ids, CancellationToken ct) =>
        [.. await conn.QueryAsync<Guid>(new CommandDefinition(LockAllSql, new { WorkspaceId = workspaceId, Ids = ids }, tx, cancellationToken: ct))];

    internal static Task<LeadRow?> TryLockForEditAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<LeadRow>(new CommandDefinition(TryLockForEditSql, new { Id = id, WorkspaceId = workspaceId }, tx, cancellationToken: ct));

    /// <summary>Locks the lead if it still exists; null when it is gone (merged or deleted meanwhile).</summary>
    public static Task<LeadRow?> TryLockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<LeadRow>(new CommandDefinition(TryLockSql, new { Id = id, WorkspaceId = workspaceId }, tx, cancellationToken: ct));
}
