using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.UpdateLeadStatus;

internal static class Data
{
    private const string UpdateSql = "UPDATE leads.leads SET status = @Status, updated_at = now() WHERE id = @Id";

    public static Task SetStatusAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, string status, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(UpdateSql, new { Id = id, Status = status }, tx, cancellationToken: ct));
}
