using Dapper;
using Npgsql;

namespace Modules.Access.Features.DeleteUser;

internal static class Data
{
    // Locks the workspace's owners too, so two concurrent deletes cannot remove the last two owners.
    private const string LockMembersSql = """
        SELECT id, role FROM access.members
        WHERE workspace_id = @WorkspaceId AND deleted_at IS NULL AND (id = @Id OR role = 'owner')
        ORDER BY id
        FOR UPDATE
        """;

    private const string SoftDeleteSql = "UPDATE access.members SET deleted_at = now() WHERE id = @Id";

    public sealed record MemberRow(Guid Id, string Role);

    public static async Task<IReadOnlyList<MemberRow>> LockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid id, CancellationToken ct) =>
        (await conn.QueryAsync<MemberRow>(new CommandDefinition(LockMembersSql, new { WorkspaceId = workspaceId, Id = id }, tx, cancellationToken: ct))).AsList();

    public static Task SoftDeleteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(SoftDeleteSql, new { Id = id }, tx, cancellationToken: ct));
}
