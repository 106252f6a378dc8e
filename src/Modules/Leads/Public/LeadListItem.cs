using Kernel.Http;
using System.Text.Json.Serialization;
using Dapper;
using Kernel.Ids;
using Npgsql;

namespace Modules.Leads.Public;

public sealed class SourceRef
{
    [TypeId(IdPrefix.Source)] public Guid Id { get; init; }
    public string Name { get; init; } = "";

    /// <summary>Present (true) only when the source has been deleted.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? Deleted { get; init; }
}

public sealed class UserRef
{
    [TypeId(IdPrefix.User)] public Guid Id { get; init; }
    public string Name { get; init; } = "";
}

/// <summary>A lead as it appears in lists (spec §3.1).</summary>
public class LeadListItem
{
    /// <summary>
    /// The list item's columns over <c>leads.leads l</c>, <c>leads.sources s</c> and <c>access.v_members m</c>, in the
    /// order <see cref="Read"/> and the Dapper multi-maps (split on the two later <c>id</c>s) expect.
    /// </summary>
    public const string Columns = """
        l.id, l.first_name, l.last_name, l.email, l.phone, l.company, l.status, l.score,
               l.duplicate_of IS NOT NULL AS is_duplicate, l.created_at,
               s.id, s.name, CASE WHEN s.deleted_at IS NOT NULL THEN true END AS deleted,
               m.id, m.name
        """;

    /// <summary>Reads one row of <see cref="Columns"/> (the hot list path reads without Dapper).</summary>
    public static LeadListItem Read(NpgsqlDataReader r) => new()
    {
        Id = r.GetGuid(0),
        FirstName = r.IsDBNull(1) ? null : r.GetString(1),
        LastName = r.IsDBNull(2) ? null : r.GetString(2),
        Email = r.IsDBNull(3) ? null : r.GetString(3),
        Phone = r.IsDBNull(4) ? null : r.GetString(4),
        Company = r.IsDBNull(5) ? null : r.GetString(5),
        Status = r.GetString(6),
        Score = r.GetFieldValue<short>(7),
        IsDuplicate = r.GetBoolean(8),
        CreatedAt = r.GetDateTime(9),
        Source = r.IsDBNull(10) ? null : new SourceRef { Id = r.GetGuid(10), Name = r.GetString(11), Deleted = r.IsDBNull(12) ? null : true },
        AssignedTo = r.IsDBNull(13) ? null : new UserRef { Id = r.GetGuid(13), Name = r.GetString(14) },
    };

    [TypeId(IdPrefix.Lead)] public Guid Id { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Email { get; init; }
    public string? Phone { get; init; }
    public string? Company { get; init; }
    [OneOf(typeof(LeadStatuses))] public string Status { get; init; } = "";
    public int Score { get; init; }
    public SourceRef? Source { get; set; }
    public UserRef? AssignedTo { get; set; }
    public bool IsDuplicate { get; init; }
    public DateTime CreatedAt { get; init; }
}


/// <summary>Reads list items by ID for other modules (the Duplicates module's group view).</summary>
public static class LeadItems
{
    private const string ByIdsSql = $"""
        SELECT {LeadListItem.Columns}
        FROM leads.leads l
        LEFT JOIN leads.sources s ON s.id = l.source_id
        LEFT JOIN access.v_members m ON m.id = l.assigned_to
        WHERE l.workspace_id = @WorkspaceId AND l.id = ANY(@Ids)
        """;

    /// <summary>The items for <paramref name="ids"/> (those that exist in the workspace), hydrated as <typeparamref name="T"/>.</summary>
    public static async Task<List<T>> ReadAsync<T>(NpgsqlConnection conn, Guid workspaceId, Guid[] ids, CancellationToken ct) where T : LeadListItem
    {
        var rows = await conn.QueryAsync<T, SourceRef, UserRef, T>(
            new CommandDefinition(ByIdsSql, new { WorkspaceId = workspaceId, Ids = ids }, cancellationToken: ct),
            (l, s, m) => { l.Source = s; l.AssignedTo = m; return l; }, splitOn: "id,id");
        return rows.AsList();
    }
}
