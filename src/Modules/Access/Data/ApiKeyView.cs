using Kernel.Security;
using Kernel.Http;
using Dapper;
using Kernel.Ids;
using Npgsql;

namespace Modules.Access.Data;

internal sealed class MemberRef
{
    [TypeId(IdPrefix.User)] public Guid Id { get; init; }
    public string Name { get; init; } = "";
}

/// <summary>Spec §2 key shape. Never carries the secret or its hash; only the 12-character display prefix.</summary>
internal class ApiKeyView
{
    [TypeId(IdPrefix.ApiKey)] public Guid Id { get; init; }
    public string Label { get; init; } = "";
    [OneOf(typeof(KeyScopes))] public string Scope { get; init; } = "";
    public string Prefix { get; init; } = "";
    public bool Active { get; init; }
    public DateTime? ExpiresAt { get; init; }
    public DateTime? LastUsedAt { get; init; }
    public DateTime CreatedAt { get; init; }
    public MemberRef CreatedBy { get; set; } = new();
}

internal static class ApiKeysData
{
    private const string SelectSql = """
        SELECT k.id, k.label, k.scope, k.prefix, k.active, k.expires_at, k.last_used_at, k.created_at,
               m.id, m.name
        FROM access.api_keys k
        JOIN access.members m ON m.id = k.member_id
        WHERE k.workspace_id = @WorkspaceId AND (@Id::uuid IS NULL OR k.id = @Id)
        ORDER BY k.created_at DESC, k.id DESC
        """;

    public static async Task<IReadOnlyList<ApiKeyView>> ListAsync(NpgsqlConnection conn, Guid workspaceId, Guid? id, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<ApiKeyView, MemberRef, ApiKeyView>(
            new CommandDefinition(SelectSql, new { WorkspaceId = workspaceId, Id = id }, cancellationToken: ct),
            (k, m) => { k.CreatedBy = m; return k; }, splitOn: "id");
        return rows.AsList();
    }
}
