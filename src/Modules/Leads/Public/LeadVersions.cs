using Dapper;
using Kernel.Http;
using Microsoft.Extensions.Primitives;
using Npgsql;

namespace Modules.Leads.Public;

/// <summary>
/// Optimistic concurrency on leads (spec §9). A lead's version is its row's <c>xmin</c>: the ID of the transaction
/// that last wrote the row, which PostgreSQL changes on every update of it — fields, status, notes, assignee, group
/// links, and the touch every tag change and merge gives the lead — without a column or a trigger to keep up.
/// The ETag is that number in quotes. A write with <c>If-Match</c> checks it against the row it has locked, so a
/// stale one is refused (412, with the current ETag) before anything changes.
/// </summary>
public static class LeadVersions
{
    /// <summary>SQL for the version of <c>leads.leads</c> under the given alias.</summary>
    public const string Column = "xmin::text::bigint";

    private const string CurrentSql = $"SELECT {Column} FROM leads.leads WHERE id = @Id";

    public static string ETag(long version) => $"\"{version}\"";

    /// <summary>Throws 412 <c>precondition_failed</c> (with the current ETag) unless <paramref name="ifMatch"/> is absent, <c>*</c> or names <paramref name="version"/>.</summary>
    public static void RequireMatch(StringValues ifMatch, long version)
    {
        if (StringValues.IsNullOrEmpty(ifMatch)) return;
        var current = ETag(version);
        foreach (var header in ifMatch)
            foreach (var tag in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                if (tag == "*" || tag == current) return;
        throw new ApiProblemException(412, ProblemCodes.PreconditionFailed, "Precondition failed",
            $"The lead changed since the version in If-Match; its current ETag is {current}. Re-read it and retry.")
        {
            Headers = new Dictionary<string, string> { ["ETag"] = current },
        };
    }

    /// <summary>The lead's version as of the caller's transaction (after its own writes).</summary>
    public static async Task<string> CurrentETagAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid leadId, CancellationToken ct) =>
        ETag(await conn.ExecuteScalarAsync<long>(new CommandDefinition(CurrentSql, new { Id = leadId }, tx, cancellationToken: ct)));
}

public static class LeadDetailResponses
{
    /// <summary>Puts the lead's version in the response's <c>ETag</c> header (spec §9) and returns the lead to send.</summary>
    public static LeadDetail WithETag(this LeadDetail lead, Microsoft.AspNetCore.Http.HttpResponse response)
    {
        response.Headers.ETag = lead.ETag;
        return lead;
    }
}
