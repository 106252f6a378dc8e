using Dapper;
using FastEndpoints;
using Kernel.Http;
using Modules.Access.Data;
using Npgsql;

namespace Modules.Access.Features.ListUsers;

internal sealed class Endpoint(NpgsqlDataSource db) : EndpointWithoutRequest<IReadOnlyList<UserView>>
{
    private const string ListSql = """
        SELECT id, name, email, role, created_at
        FROM access.members
        WHERE workspace_id = @WorkspaceId AND deleted_at IS NULL
        ORDER BY created_at, id
        """;

    public override void Configure()
    {
        Get("/api/users");
        Summary(s => s.Summary = "List the workspace's members (who leads can be assigned to)");
    }

    public override async Task HandleAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<UserView>(new CommandDefinition(ListSql, new { HttpContext.Caller().WorkspaceId }, cancellationToken: ct));
        await Send.OkAsync(rows.AsList(), ct);
    }
}
