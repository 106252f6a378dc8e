using Dapper;
using FastEndpoints;
using FluentValidation;
using Kernel.Http;
using Kernel.Security;
using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.UpdateLeadNotes;

internal static class Data
{
    private const string UpdateSql = "UPDATE leads.leads SET notes = @Notes, updated_at = now() WHERE id = @Id";

    public static Task SetNotesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, string? notes, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(UpdateSql, new { Id = id, Notes = notes }, tx, cancellationToken: ct));
}
