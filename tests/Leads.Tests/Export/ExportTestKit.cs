using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Leads.Tests.Infrastructure;
using Sylvan.Data.Csv;

namespace Leads.Tests.Export;

/// <summary>Small storage chunks (1 KiB) so a handful of leads already makes a multi-chunk async export file.</summary>
public class ExportApiFactory : ApiFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Exports:ChunkBytes"] = "1024" };
}

internal static class ExportTestKit
{
    public const string Header = "id,email,firstName,lastName,phone,company,status,score,source,assignedTo,tags,isDuplicate,createdAt";

    /// <summary>GET /api/leads/export with the query; asserts 200 and returns the response and its body.</summary>
    public static async Task<(HttpResponseMessage Response, string Body)> ExportAsync(this HttpClient c, string query = "")
    {
        var r = await c.GetAsync("/api/leads/export" + (query.Length > 0 ? "?" + query : ""));
        var body = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        return (r, body);
    }

    /// <summary>Records of a CSV text (a real parser: quoted fields may hold commas, quotes and line breaks).</summary>
    public static List<string[]> ParseCsv(string text)
    {
        using var reader = CsvDataReader.Create(new StringReader(text), new CsvDataReaderOptions { HasHeaders = false });
        var rows = new List<string[]>();
        while (reader.Read())
        {
            var row = new string[reader.RowFieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.GetString(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>The id column of an export, in file order (header checked and skipped).</summary>
    public static string[] Ids(string csv)
    {
        var rows = ParseCsv(csv);
        string.Join(",", rows[0]).ShouldBe(Header);
        return rows.Skip(1).Select(r => r[0]).ToArray();
    }

    /// <summary>Every ID the list returns for the query (all pages), and its pagination total.</summary>
    public static async Task<(string[] Ids, long Total)> ListAllAsync(this HttpClient c, string query)
    {
        var ids = new List<string>();
        long total = 0;
        for (var page = 1; ; page++)
        {
            var p = await c.GetObjectAsync($"/api/leads?{query}{(query.Length > 0 ? "&" : "")}limit=100&page={page}");
            total = p["pagination"]!["total"]!.GetValue<long>();
            var pageIds = p.Ids();
            ids.AddRange(pageIds);
            if (pageIds.Length < 100) return (ids.ToArray(), total);
        }
    }

    public static async Task SetCreatedAsync(this ApiFactory api, JsonNode lead, string utc)
    {
        await using var db = await api.OpenDbAsync();
        await db.ExecuteAsync("UPDATE leads.leads SET created_at = @At::timestamptz WHERE id = @Id", new { At = utc, Id = lead.Uuid() });
    }

    public static async Task SetColumnAsync(this ApiFactory api, JsonNode lead, string column, string? value)
    {
        await using var db = await api.OpenDbAsync();
        // Column names come from the tests themselves, never from input.
        await db.ExecuteAsync($"UPDATE leads.leads SET {column} = @Value WHERE id = @Id", new { Value = value, Id = lead.Uuid() });
    }

    public static async Task<JsonObject> CreateMemberAsync(this TestWorkspace ws, string name)
    {
        var r = await ws.Full.PostJsonAsync("/api/users", new { name, email = $"{Guid.NewGuid():N}@team.io", role = "member" });
        r.StatusCode.ShouldBe(HttpStatusCode.Created, await r.Content.ReadAsStringAsync());
        return (await r.BodyAsync()).AsObject();
    }

    public static async Task AssignAsync(this TestWorkspace ws, JsonNode lead, JsonNode member)
    {
        var r = await ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/assign", new { userId = member.Id() });
        r.StatusCode.ShouldBe(HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
    }

    public static async Task SetStatusAsync(this TestWorkspace ws, JsonNode lead, string status)
    {
        var r = await ws.Full.PutJsonAsync($"/api/leads/{lead.Id()}/status", new { status });
        r.StatusCode.ShouldBe(HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
    }

    /// <summary>The lead as the API shows it now (score changes with assignment/status, so read it back last).</summary>
    public static Task<JsonObject> ReloadAsync(this TestWorkspace ws, JsonNode lead) => ws.Read.GetObjectAsync($"/api/leads/{lead.Id()}");

    public static string Str(this JsonNode n, string member) => n[member]?.GetValue<string>() ?? "";
}
