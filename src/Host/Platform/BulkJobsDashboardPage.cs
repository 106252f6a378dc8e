using System.Net;
using System.Text;
using Hangfire.Dashboard;
using Kernel.Ids;
using Modules.Import.Public;
using Npgsql;

namespace Leads.Host.Platform;

/// <summary>
/// "Imports &amp; exports" page in the Hangfire dashboard (same protection as the dashboard): each recent
/// import, export and bulk action (its action, matched leads done) with its file, rows and progress, so operators see bulk work without the API.
/// </summary>
internal sealed class BulkJobsDashboardPage : IDashboardDispatcher
{
    public const string Path = "/bulk-jobs";
    private static int _registered;

    /// <summary>Hangfire's dashboard routes and menu are process-wide: register the page once per process.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        DashboardRoutes.Routes.Add(Path, new BulkJobsDashboardPage());
        NavigationMenu.Items.Add(page => new MenuItem("Imports & exports", page.Url.To(Path)));
    }

    private static readonly string[] Statuses = ["queued", "running", "completed", "failed"];

    private static string? Filter(string? v) => string.IsNullOrWhiteSpace(v) ? null : v.Trim();

    /// <summary>
    /// The newest Hangfire job of each import/export (its ID is the job's first argument). Hangfire is this host's own
    /// schema; jobs expire a day after they finish, and a row without one is shown unlinked.
    /// </summary>
    private static async Task<Dictionary<Guid, long>> HangfireJobIdsAsync(NpgsqlDataSource db, Guid[] ids, CancellationToken ct)
    {
        if (ids.Length == 0) return [];
        const string sql = $"""
            SELECT x.id AS Object, j.id AS Job
            FROM unnest(@Ids) AS x(id)
            JOIN LATERAL (SELECT id FROM {Database.DatabaseBootstrap.HangfireSchema}.job
                          WHERE btrim(arguments ->> 0, '"') = x.id::text ORDER BY id DESC LIMIT 1) j ON true
            """;
        await using var conn = await db.OpenConnectionAsync(ct);
        var found = await Dapper.SqlMapper.QueryAsync<(Guid Object, long Job)>(conn, new Dapper.CommandDefinition(sql, new { Ids = ids }, cancellationToken: ct));
        return found.ToDictionary(f => f.Object, f => f.Job);
    }

    public async Task Dispatch(DashboardContext context)
    {
        var http = context.GetHttpContext();
        // This host's database, resolved per request (the route itself is shared by every host in the process).
        var db = http.RequestServices.GetRequiredService<NpgsqlDataSource>();
        var workspace = Filter(http.Request.Query["workspace"]);
        var status = Filter(http.Request.Query["status"]);
        var rows = await BulkJobProgress.RecentAsync(db, 50, workspace, status, http.RequestAborted);
        var jobIds = await HangfireJobIdsAsync(db, rows.Select(r => r.Id).ToArray(), http.RequestAborted);
        var html = new StringBuilder("""
            <!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>Imports &amp; exports</title>
            <style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
            .bar{background:#eee;width:160px;height:12px}.fill{background:#337ab7;height:12px}</style></head><body>
            <p><a href="../">← Hangfire dashboard</a></p><h1>Imports &amp; exports</h1><p>Imports, exports and bulk actions (rows = matched leads). Refreshes every 5 s. An ID links to its Hangfire job.</p>
            """);
        html.Append($"""
            <form method="get"><label>Workspace <input name="workspace" value="{WebUtility.HtmlEncode(workspace ?? "")}"></label>
            <label>Status <select name="status"><option value="">any</option>{string.Concat(Statuses.Select(st => $"<option{(st == status ? " selected" : "")}>{st}</option>"))}</select></label>
            <button>Filter</button></form>
            """);
        html.Append("""
            <table><tr><th>Kind</th><th>ID</th><th>Workspace</th><th>File</th><th>Status</th><th>Rows</th><th>Progress</th><th>Failed rows</th><th>Created</th><th>Finished</th><th>Reason</th></tr>
            """);
        foreach (var r in rows)
        {
            var pct = r.TotalRows is > 0 ? (int)Math.Min(100, r.ProcessedRows * 100 / r.TotalRows.Value) : r.Status == "completed" ? 100 : 0;
            string E(string? s) => WebUtility.HtmlEncode(s ?? "");
            var id = TypeId.Format(r.Kind switch { "import" => IdPrefix.Import, "bulk" => IdPrefix.Bulk, _ => IdPrefix.Export }, r.Id);
            var idCell = jobIds.TryGetValue(r.Id, out var job) ? $"<a href=\"{http.Request.PathBase}/jobs/details/{job}\">{id}</a>" : id;
            html.Append($"<tr><td>{r.Kind}</td><td>{idCell}</td><td>{E(r.WorkspaceName)}</td><td>{E(r.Name)}</td><td>{r.Status}</td>")
                .Append($"<td>{r.ProcessedRows:N0} / {(r.TotalRows is { } t ? t.ToString("N0") : "?")}</td>")
                .Append($"<td><div class=\"bar\"><div class=\"fill\" style=\"width:{pct}%\"></div></div>{pct}%</td><td>{r.Failed:N0}</td>")
                .Append($"<td>{r.CreatedAt:u}</td><td>{r.FinishedAt:u}</td><td>{E(r.FailureReason)}</td></tr>");
        }
        html.Append("</table></body></html>");
        http.Response.ContentType = "text/html; charset=utf-8";
        await http.Response.WriteAsync(html.ToString(), http.RequestAborted);
    }
}
