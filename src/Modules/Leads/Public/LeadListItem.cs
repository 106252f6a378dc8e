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
    [TypeId(IdPrefix.Lead)] public Guid Id { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public string? Email { get; init; }
    public string? Phone { get; init; }
    public string? Company { get; init; }
    public string Status { get; init; } = "";
    public int Score { get; init; }
    public SourceRef? Source { get; set; }
    public UserRef? AssignedTo { get; set; }
    public bool IsDuplicate { get; init; }
    public DateTime CreatedAt { get; init; }
}


/// <summary>Reads list items by ID for other modules (the Duplicates module's group view).</summary>
public static class LeadItems
{
    private const string ByIdsSql = """
        SELECT l.id, l.first_name, l.last_name, l.email, l.phone, l.company, l.status, l.score,
               l.duplicate_of IS NOT NULL AS is_duplicate, l.created_at,
               s.id, s.name, CASE WHEN s.deleted_at IS NOT NULL THEN true END AS deleted,
               m.id, m.name
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
