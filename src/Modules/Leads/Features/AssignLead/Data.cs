using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Kernel.Ids;
using Kernel.Security;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.AssignLead;

internal static class Data
{
    // FOR SHARE holds off a concurrent removal of the member (which locks the row FOR UPDATE) until we commit,
    // so its unassign step then sees and clears this assignment too.
    private const string MemberExistsSql = """
        SELECT true FROM access.v_members WHERE id = @Id AND workspace_id = @WorkspaceId AND NOT deleted FOR SHARE
        """;

    private const string AssignSql = "UPDATE leads.leads SET assigned_to = @UserId, updated_at = now() WHERE id = @Id";

    public static Task<bool> MemberExistsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid userId, CancellationToken ct) =>
        conn.ExecuteScalarAsync<bool>(new CommandDefinition(MemberExistsSql, new { Id = userId, WorkspaceId = workspaceId }, tx, cancellationToken: ct));

    public static Task AssignAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, Guid? userId, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(AssignSql, new { Id = id, UserId = userId }, tx, cancellationToken: ct));
}
