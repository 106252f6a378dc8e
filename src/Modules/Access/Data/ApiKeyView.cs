using Kernel.Security;
using Dapper;
using Kernel.Http;
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
    /// <summary>False once deactivated, and for every key of a removed member (such keys no longer authenticate).</summary>
    public bool Active { get; init; }
    public DateTime? ExpiresAt { get; init; }
    public DateTime? LastUsedAt { get; init; }
    public DateTime CreatedAt { get; init; }
    public MemberRef CreatedBy { get; set; } = new();
}

internal static class ApiKeysData
{
    private const string SelectSql = """
        SELECT k.id, k.label, k.scope, k.prefix, k.active AND m.deleted_at IS NULL AS active, k.expires_at, k.last_used_at, k.created_at,
               m.id, m.name
        FROM access.api_keys k
        JOIN access.members m ON m.id = k.member_id
        WHERE k.workspace_id = @WorkspaceId AND (@Id::uuid IS NULL OR k.id = @Id)
        ORDER BY k.created_at DESC, k.id DESC
        """;

    private const string OwnedByOwnerSql = """
        SELECT m.role = 'owner' FROM access.api_keys k JOIN access.members m ON m.id = k.member_id
        WHERE k.id = @Id AND k.workspace_id = @WorkspaceId
        """;

    /// <summary>
    /// Why a guarded change of key <paramref name="id"/> changed nothing: it belongs to an owner (403 for an admin), or
    /// there is no such key in the workspace (404).
    /// </summary>
    public static async Task<ApiProblemException> UnchangedAsync(NpgsqlConnection conn, Guid workspaceId, Guid id, CancellationToken ct) =>
        await conn.ExecuteScalarAsync<bool?>(new CommandDefinition(OwnedByOwnerSql, new { Id = id, WorkspaceId = workspaceId }, cancellationToken: ct)) == true
            ? new ApiProblemException(403, ProblemCodes.InsufficientRole, "Insufficient role", "Only an owner may change or delete an owner's API key.")
            : ApiProblemException.NotFound("api_key_not_found", "API key");

    public static async Task<IReadOnlyList<ApiKeyView>> ListAsync(NpgsqlConnection conn, Guid workspaceId, Guid? id, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<ApiKeyView, MemberRef, ApiKeyView>(
            new CommandDefinition(SelectSql, new { WorkspaceId = workspaceId, Id = id }, cancellationToken: ct),
            (k, m) => { k.CreatedBy = m; return k; }, splitOn: "id");
        return rows.AsList();
    }
}
