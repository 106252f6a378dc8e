using Modules.Leads.Data;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.ExportLeads;

internal static class Data
{
    // One row per lead, in list order. Text columns come back as '' rather than NULL (one read per cell on the
    // sequential reader, and CSV has no NULL anyway); tags are joined in the database, ordered like the detail view.
    // The bench (bench/export/) runs this same statement through psql's \copy: keep the two in step.
    // `{where}` is replaced by the filter's WHERE clause (LeadFilter.Where), `{order}` by the sort's (default: newest
    // first), the tag separator interpolated.
    internal const string ExportSql = $$"""
        SELECT l.id,
               coalesce(l.email, ''), coalesce(l.first_name, ''), coalesce(l.last_name, ''),
               coalesce(l.phone, ''), coalesce(l.company, ''),
               l.status, l.score,
               coalesce(s.name, ''), coalesce(m.name, ''),
               coalesce((SELECT string_agg(t.name, '{{LeadCsvExport.TagSeparator}}' ORDER BY lower(t.name), t.tag_id)
                         FROM tags.v_lead_tags t WHERE t.lead_id = l.id), ''),
               l.duplicate_of IS NOT NULL,
               l.created_at
        FROM leads.leads l
        LEFT JOIN leads.sources s ON s.id = l.source_id
        LEFT JOIN access.v_members m ON m.id = l.assigned_to
        WHERE {where}
        ORDER BY {order}
        """;

    // How many rows the export would have, counting at most @ExportCap + 1 (so the check costs no more than the cap).
    private const string CountSql = """
        SELECT count(*) FROM (SELECT 1 FROM leads.leads l WHERE {where} LIMIT @ExportCap + 1) c
        """;

    public static NpgsqlCommand CountCommand(NpgsqlConnection conn, NpgsqlTransaction tx, LeadFilter f, long cap)
    {
        var cmd = new NpgsqlCommand(CountSql.Replace("{where}", f.Where), conn, tx) { CommandTimeout = 300 };
        f.Bind(cmd.Parameters);
        cmd.Parameters.AddWithValue("ExportCap", cap);
        return cmd;
    }

    /// <summary>
    /// The export statement with the filter's values bound. Raw Npgsql rather than Dapper: Dapper's readers buffer or
    /// wrap, and this one must be read sequentially, row by row, straight into the CSV writer.
    /// </summary>
    public static NpgsqlCommand Command(NpgsqlConnection conn, NpgsqlTransaction tx, LeadFilter f, LeadSort sort)
    {
        var order = $"{sort.KeySql} {sort.Direction}, l.id {sort.Direction}";
        var cmd = new NpgsqlCommand(ExportSql.Replace("{where}", f.Where).Replace("{order}", order), conn, tx)
        {
            // Npgsql's timeout applies to each wait for data, not to the whole stream: this bounds how long the first
            // row may take (a full sort of a large workspace) without cutting off a long, slowly consumed download.
            CommandTimeout = 300,
        };
        f.Bind(cmd.Parameters);
        return cmd;
    }
}
