using Dapper;
using Npgsql;

namespace Modules.Leads.Features.UpdateLead;

internal static class Data
{
    /// <summary>What an edit needs beyond <c>LeadRow</c>: the stored email's key, the metadata and the lead's age.</summary>
    public sealed record Extra(string? EmailNorm, string Metadata, DateTime CreatedAt);

    private const string ExtraSql = "SELECT email_norm, metadata::text AS metadata, created_at FROM leads.leads WHERE id = @Id";

    // Only the columns an edit changes; the counters, the change log and the list cache follow through the table's triggers.
    private const string UpdateSql = """
        UPDATE leads.leads
        SET email = @Email, email_norm = @EmailNorm, first_name = @FirstName, last_name = @LastName, phone = @Phone,
            phone_e164 = @PhoneE164, company = @Company, source_id = @SourceId, metadata = @Metadata::jsonb, updated_at = now()
        WHERE id = @Id
        """;

    public static Task<Extra> ExtraAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct) =>
        conn.QuerySingleAsync<Extra>(new CommandDefinition(ExtraSql, new { Id = id }, tx, cancellationToken: ct));

    public static Task UpdateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, object args, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(UpdateSql, args, tx, cancellationToken: ct));
}
