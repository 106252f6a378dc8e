using Dapper;
using Kernel.Security;
using Modules.Access.Security;
using Npgsql;

namespace Modules.Access.Public;

/// <summary>
/// Creates workspaces, members and keys outside the HTTP API: the <c>keys create</c> CLI verb, the
/// first-start bootstrap and the test fixtures all go through here, so there is one way keys come to be.
/// </summary>
public sealed class KeyProvisioning(NpgsqlDataSource db)
{
    public sealed record Provisioned(Guid WorkspaceId, Guid MemberId, Guid KeyId, string Key);

    private const string EnsureWorkspaceSql = """
        INSERT INTO access.workspaces (id, name) VALUES (@Id, @Name)
        ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
        RETURNING id
        """;

    private const string FindMemberSql = """
        SELECT id FROM access.members
        WHERE workspace_id = @WorkspaceId AND role = @Role AND deleted_at IS NULL
        ORDER BY created_at, id
        LIMIT 1
        """;

    private const string InsertMemberSql = """
        INSERT INTO access.members (id, workspace_id, name, email, role) VALUES (@Id, @WorkspaceId, @Name, @Email, @Role)
        """;

    internal const string InsertKeySql = """
        INSERT INTO access.api_keys (id, workspace_id, member_id, label, scope, prefix, key_hash, expires_at)
        VALUES (@Id, @WorkspaceId, @MemberId, @Label, @Scope, @Prefix, @KeyHash, @ExpiresAt)
        """;

    /// <summary>Creates the workspace and a member of <paramref name="role"/> when missing, then a new key for that member.</summary>
    public async Task<Provisioned> CreateKeyAsync(string workspace, string scope, string role, string label, CancellationToken ct = default)
    {
        if (!KeyScopes.All.Contains(scope)) throw new ArgumentException($"scope must be one of: {string.Join(", ", KeyScopes.All)}");
        if (!MemberRoles.All.Contains(role)) throw new ArgumentException($"role must be one of: {string.Join(", ", MemberRoles.All)}");
        if (string.IsNullOrWhiteSpace(workspace) || workspace.Length > 100) throw new ArgumentException("workspace name must be 1-100 characters");

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var workspaceId = await conn.ExecuteScalarAsync<Guid>(new CommandDefinition(EnsureWorkspaceSql,
            new { Id = Guid.CreateVersion7(), Name = workspace.Trim() }, tx, cancellationToken: ct));
        var memberId = await conn.ExecuteScalarAsync<Guid?>(new CommandDefinition(FindMemberSql,
            new { WorkspaceId = workspaceId, Role = role }, tx, cancellationToken: ct));
        if (memberId is null)
        {
            memberId = Guid.CreateVersion7();
            await conn.ExecuteAsync(new CommandDefinition(InsertMemberSql, new
            {
                Id = memberId,
                WorkspaceId = workspaceId,
                Name = $"{char.ToUpperInvariant(role[0])}{role[1..]} (CLI)",
                Email = $"{role}+{memberId:N}@cli.invalid",
                Role = role,
            }, tx, cancellationToken: ct));
        }
        var key = ApiKeyFormat.Generate();
        var keyId = Guid.CreateVersion7();
        await conn.ExecuteAsync(new CommandDefinition(InsertKeySql, new
        {
            Id = keyId,
            WorkspaceId = workspaceId,
            MemberId = memberId,
            Label = label,
            Scope = scope,
            Prefix = ApiKeyFormat.DisplayPrefix(key),
            KeyHash = ApiKeyFormat.Hash(key),
            ExpiresAt = (DateTime?)null,
        }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
        return new Provisioned(workspaceId, memberId.Value, keyId, key);
    }

    /// <summary>
    /// On an empty database, creates the workspace "default" with an owner and one full key and returns the
    /// key (to be shown once); otherwise null. Concurrent first starts are serialised by a transaction lock.
    /// </summary>
    public async Task<Provisioned?> BootstrapAsync(CancellationToken ct = default)
    {
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            await conn.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(7366383837)", transaction: tx, cancellationToken: ct));
            var any = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT EXISTS (SELECT 1 FROM access.workspaces)", transaction: tx, cancellationToken: ct));
            if (any) return null;
            var workspaceId = Guid.CreateVersion7();
            var memberId = Guid.CreateVersion7();
            await conn.ExecuteAsync(new CommandDefinition("INSERT INTO access.workspaces (id, name) VALUES (@Id, 'default')",
                new { Id = workspaceId }, tx, cancellationToken: ct));
            await conn.ExecuteAsync(new CommandDefinition(InsertMemberSql, new
            {
                Id = memberId, WorkspaceId = workspaceId, Name = "Owner", Email = "owner@default.invalid", Role = MemberRoles.Owner,
            }, tx, cancellationToken: ct));
            var key = ApiKeyFormat.Generate();
            var keyId = Guid.CreateVersion7();
            await conn.ExecuteAsync(new CommandDefinition(InsertKeySql, new
            {
                Id = keyId, WorkspaceId = workspaceId, MemberId = memberId, Label = "bootstrap", Scope = KeyScopes.Full,
                Prefix = ApiKeyFormat.DisplayPrefix(key), KeyHash = ApiKeyFormat.Hash(key), ExpiresAt = (DateTime?)null,
            }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
            return new Provisioned(workspaceId, memberId, keyId, key);
        }
    }
}
