using Dapper;
using Modules.Access.Data;
using Npgsql;

namespace Modules.Access.Features.CreateUser;

internal static class Data
{
    private const string InsertSql = """
        INSERT INTO access.members (id, workspace_id, name, email, role)
        VALUES (@Id, @WorkspaceId, @Name, @Email, @Role)
        RETURNING id, name, email, role, created_at
        """;

    /// <summary>Null when the email is already a member of the workspace (the unique index decides, race-free).</summary>
    public static async Task<UserView?> InsertAsync(NpgsqlConnection conn, Guid workspaceId, string name, string email, string role, CancellationToken ct)
    {
        try
        {
            return await conn.QuerySingleAsync<UserView>(new CommandDefinition(InsertSql,
                new { Id = Guid.CreateVersion7(), WorkspaceId = workspaceId, Name = name, Email = email, Role = role }, cancellationToken: ct));
        }
        catch (PostgresException e) when (e.SqlState == Kernel.Data.Db.SqlState.UniqueViolation)
        {
            return null;
        }
    }
}
