using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kernel.Ids;
using Leads.Tests.Export;
using Leads.Tests.Import;
using Leads.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Modules.Import.Jobs;

namespace Leads.Tests.Security;

/// <summary>
/// The hostile-string corpus through CSV import, and every stored value read back through the lead detail, the
/// list's <c>search</c>, the CSV export and the async export. Each string lands in each column the importer reads
/// (the five lead fields, plus <c>notes</c> and a custom column, which become <c>metadata</c>), one (column, string)
/// pair per row, so a rejection can only be caused by that one value. Expected: zero 5xx; every row either created
/// with exactly the trimmed value or rejected in the error report with its line and an error naming the field;
/// exports differ from the stored value only by the documented formula neutralisation.
/// </summary>
public sealed class HostileCsvTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static readonly string[] Corpus = HostileInputTests.Corpus;

    // The header's first column keys each row to its (column, string); "Custom Field" exercises a header with a space.
    private static readonly string[] Header = ["key", "email", "firstName", "lastName", "phone", "company", "notes", "Custom Field"];
    private static readonly string[] LeadColumns = ["email", "firstName", "lastName", "phone", "company"];
    private static readonly string[] MetadataColumns = ["notes", "Custom Field"];

    /// <summary>One row of the generated file: the column under test, the corpus string, and where the row starts.</summary>
    private sealed record Row(string Key, string Column, string Value, string[] Fields, long Line)
    {
        public string? Trimmed => Value.Trim() is { Length: > 0 } t ? t : null;
        public bool IsMetadata => MetadataColumns.Contains(Column);
        public string Anchor => Column == "firstName" ? "lastName" : "firstName";
    }

    private sealed record Imported(JsonObject Status, Row[] Rows, Dictionary<string, JsonObject> Leads, List<string[]> Report);

    [Fact]
    public async Task Every_string_in_every_import_column_is_created_exactly_or_a_row_error_naming_the_field()
    {
        var ws = await api.CreateWorkspaceAsync();
        var (status, rows, leads, report) = await ImportCorpusAsync(ws);

        status["status"]!.GetValue<string>().ShouldBe("completed", status.ToJsonString());
        status.ShouldReconcile();
        status.Long("totalRows").ShouldBe(rows.Length);
        status.Long("created").ShouldBe(leads.Count);
        status.Long("failed").ShouldBe(report.Count - 1);
        (leads.Count + report.Count - 1).ShouldBe(rows.Length);

        // The error report: the file's header plus line and error; each rejected row as uploaded (NUL shown as U+FFFD),
        // formula-neutralised like an export: it is opened in a spreadsheet to be fixed.
        report[0].ShouldBe([.. Header, "line", "error"]);
        var rejected = new Dictionary<string, (long Line, string Error)>();
        foreach (var r in report.Skip(1))
        {
            var row = rows.Single(x => x.Key == r[0]);
            r[..Header.Length].ShouldBe(row.Fields.Select(f => Neutralised(f.Replace('\0', '\uFFFD'))).ToArray(), row.Key);
            rejected.Add(row.Key, (long.Parse(r[^2]), r[^1]));
        }

        foreach (var row in rows)
        {
            var what = $"{row.Column} {JsonSerializer.Serialize(row.Value)} ({row.Key})";
            var field = row.IsMetadata ? "metadata" : row.Column;
            if (rejected.TryGetValue(row.Key, out var e))
            {
                leads.ContainsKey(row.Key).ShouldBeFalse(what);
                e.Line.ShouldBe(row.Line, what);
                e.Error.ShouldContain(field, Case.Sensitive, what);
                continue;
            }
            leads.ContainsKey(row.Key).ShouldBeTrue($"{what}: neither created nor in the error report");
            var lead = leads[row.Key];
            var metadata = lead["metadata"]!.AsObject();
            foreach (var c in LeadColumns)
            {
                var expected = c == row.Column ? Nfc(row.Trimmed) : c == row.Anchor ? "Anchor" : null;
                var actual = lead[c]?.GetValue<string>();
                actual.ShouldBe(expected, $"{what}: {c}");
            }
            lead["notes"].ShouldBeNull(what);
            lead["channel"]!.GetValue<string>().ShouldBe("import");
            var expectedMetadata = new JsonObject { ["key"] = row.Key };
            if (row.IsMetadata && row.Trimmed is { } t) expectedMetadata[row.Column] = t;
            // Metadata strings are checked by the text rule but kept as sent; lead fields are stored in NFC.
            metadata.ToJsonString().ShouldBe(expectedMetadata.ToJsonString(), what);
        }

        // What must be rejected is rejected, and what must be accepted is accepted: names, company and phone by their
        // limits and line breaks (a phone's format never refuses a row, §8), every column by the one text rule (controls,
        // format characters, lone surrogates). Email validity is the validator's business (covered elsewhere); here it
        // only has to be exact or a clean row error.
        foreach (var row in rows.Where(r => r.Column is not "email"))
        {
            var t = row.Trimmed;
            var limit = row.Column switch { "company" => 200, "phone" => 40, _ => 100 };
            var mustFail = t is not null && (Kernel.Http.TextRule.Violation(t, row.Column) is not null
                || (!row.IsMetadata && (t.Length > limit || t.IndexOfAny(['\r', '\n']) >= 0)));
            rejected.ContainsKey(row.Key).ShouldBe(mustFail, $"{row.Column} {JsonSerializer.Serialize(row.Value)}");
        }
        rejected.Count.ShouldBeGreaterThan(Corpus.Length); // nearly every email, plus NUL, line breaks and length in each column
        leads.Count.ShouldBeGreaterThan(4 * Corpus.Length);
    }

    [Fact]
    public async Task Imported_values_read_back_exactly_through_search_the_export_and_the_async_export()
    {
        var ws = await api.CreateWorkspaceAsync();
        var (status, rows, leads, _) = await ImportCorpusAsync(ws);
        status["status"]!.GetValue<string>().ShouldBe("completed", status.ToJsonString());
        leads.Count.ShouldBeGreaterThan(4 * Corpus.Length);

        // The synchronous export: every lead once, each text cell the stored value, neutralised only as documented.
        var (_, body) = await ws.Read.ExportAsync();
        AssertExportMatches(body, leads.Values);

        // The async export writes the same file.
        var started = await ws.Full.PostJsonAsync("/api/leads/exports", new { });
        var startedText = await started.Content.ReadAsStringAsync();
        started.StatusCode.ShouldBe(HttpStatusCode.Accepted, startedText);
        var exportId = JsonNode.Parse(startedText)!.Id();
        TypeId.TryParse(exportId, IdPrefix.Export, out var exportUuid).ShouldBeTrue();
        await api.Services.GetRequiredService<ExportLeadsJob>().RunAsync(exportUuid, CancellationToken.None);
        var done = await ws.Read.GetObjectAsync($"/api/leads/exports/{exportId}");
        done["status"]!.GetValue<string>().ShouldBe("completed", done.ToJsonString());
        done["rowCount"]!.GetValue<long>().ShouldBe(leads.Count);
        var file = await ws.Read.GetAsync(done["fileUrl"]!.GetValue<string>());
        var fileText = await file.Content.ReadAsStringAsync();
        file.StatusCode.ShouldBe(HttpStatusCode.OK, fileText);
        AssertExportMatches(fileText, leads.Values);
        fileText.ShouldBe(body);

        // Search: every stored name, email and company (and a phone as typed, when it reads as a phone number) finds its lead.
        var expectations = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var lead in leads.Values)
        {
            foreach (var c in new[] { "firstName", "lastName", "email", "company", "phone" })
            {
                if (lead[c]?.GetValue<string>() is not { } v || v.Length > 200) continue;
                if (c == "phone" && !LooksLikePhone(v)) continue;
                if (!expectations.TryGetValue(v, out var ids)) expectations[v] = ids = [];
                ids.Add(lead.Id());
            }
        }
        expectations.Count.ShouldBeGreaterThan(Corpus.Length / 2);
        var missed = new List<string>();
        foreach (var (term, ids) in expectations)
        {
            var found = await SearchAllAsync(ws.Read, term);
            if (!ids.IsSubsetOf(found)) missed.Add(JsonSerializer.Serialize(term));
        }
        missed.ShouldBeEmpty("searching for these stored values does not find their leads");
    }

    /// <summary>
    /// The documented transform (docs/api.md, "Formula neutralisation"), written out independently of the product's
    /// code: a cell starting with = + - @ tab CR LF gets a leading ', unless the whole cell is a plain number or phone
    /// number (^[+-]?[0-9 ().-]+$). Nothing else changes.
    /// </summary>
    internal static string Neutralised(string? value)
    {
        if (string.IsNullOrEmpty(value)) return "";
        if (value[0] is not ('=' or '+' or '-' or '@' or '\t' or '\r' or '\n')) return value;
        return Regex.IsMatch(value, @"\A[+-]?[0-9 ().-]+\z") ? value : "'" + value;
    }

    /// <summary>
    /// Parses an export (Sylvan) and checks it holds exactly these leads, each once, with every text cell equal to the
    /// neutralised stored value as the detail endpoint shows it.
    /// </summary>
    internal static void AssertExportMatches(string csv, IEnumerable<JsonObject> leads)
    {
        var rows = ExportTestKit.ParseCsv(csv);
        string.Join(",", rows[0]).ShouldBe(ExportTestKit.Header);
        var byId = new Dictionary<string, string[]>();
        foreach (var r in rows.Skip(1))
        {
            r.Length.ShouldBe(13, string.Join("|", r));
            byId.TryAdd(r[0], r).ShouldBeTrue($"{r[0]} twice in the export");
        }
        var expected = leads.ToList();
        byId.Count.ShouldBe(expected.Count);
        foreach (var lead in expected)
        {
            byId.TryGetValue(lead.Id(), out var r).ShouldBeTrue($"{lead.Id()} missing from the export");
            string[] cells = [.. new[] { "email", "firstName", "lastName", "phone", "company" }.Select(c => Neutralised(lead[c]?.GetValue<string>()))];
            r![1..6].ShouldBe(cells, $"{lead.Id()} {lead.ToJsonString()}");
            r[6].ShouldBe(lead["status"]!.GetValue<string>());
        }
    }

    // The list's phone-digits search applies to a query of digits and + - ( ) . and spaces with at least three digits.
    private static bool LooksLikePhone(string v) =>
        v.Count(char.IsAsciiDigit) >= 3 && v.All(c => char.IsAsciiDigit(c) || c is ' ' or '+' or '-' or '(' or ')' or '.');

    private static async Task<HashSet<string>> SearchAllAsync(HttpClient client, string term)
    {
        var ids = new HashSet<string>();
        for (var page = 1; ; page++)
        {
            var r = await client.GetAsync($"/api/leads?search={Uri.EscapeDataString(term)}&limit=100&page={page}");
            var text = await r.Content.ReadAsStringAsync();
            r.StatusCode.ShouldBe(HttpStatusCode.OK, $"search {JsonSerializer.Serialize(term)}: {text}");
            var pageIds = JsonNode.Parse(text)!.AsObject().Ids();
            ids.UnionWith(pageIds);
            if (pageIds.Length < 100) return ids;
        }
    }

    /// <summary>RFC 4180 quoting: a field holding a comma, quote, CR or LF is quoted with quotes doubled; others are written bare.</summary>
    private static string Quote(string s) => s.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    private static long LineBreaks(string s) => Regex.Matches(s, "\r\n|\r|\n").Count;

    /// <summary>Builds the file (one row per column and corpus string), imports it, and reads back every created lead's detail and the error report.</summary>
    private async Task<Imported> ImportCorpusAsync(TestWorkspace ws)
    {
        var csv = new StringBuilder();
        csv.Append(string.Join(",", Header.Select(Quote))).Append("\r\n");
        var rows = new List<Row>();
        long line = 2;
        foreach (var column in Header.Skip(1))
        {
            for (var i = 0; i < Corpus.Length; i++)
            {
                var key = $"{column.Replace(" ", "")}-{i}";
                var fields = new string[Header.Length];
                Array.Fill(fields, "");
                fields[0] = key;
                var row = new Row(key, column, Corpus[i], fields, line);
                fields[Array.IndexOf(Header, column)] = Corpus[i];
                fields[Array.IndexOf(Header, row.Anchor)] = "Anchor";
                rows.Add(row);
                var record = string.Join(",", fields.Select(Quote));
                csv.Append(record).Append("\r\n");
                line += 1 + LineBreaks(record);
            }
        }

        var r = await ws.Full.PostAsync("/api/leads/import", ImportTestKit.Multipart(Encoding.UTF8.GetBytes(csv.ToString()), "hostile.csv"));
        var text = await r.Content.ReadAsStringAsync();
        r.StatusCode.ShouldBe(HttpStatusCode.Accepted, text);
        var importId = JsonNode.Parse(text)!.Id();
        await api.RunImportAsync(importId);
        var status = await ws.Read.GetObjectAsync($"/api/leads/imports/{importId}");

        var errors = await ws.Read.GetAsync($"/api/leads/imports/{importId}/errors");
        var errorsText = await errors.Content.ReadAsStringAsync();
        errors.StatusCode.ShouldBe(HttpStatusCode.OK, errorsText);
        var report = ExportTestKit.ParseCsv(errorsText);

        var leads = new Dictionary<string, JsonObject>();
        var (ids, _) = await ws.Read.ListAllAsync("");
        foreach (var id in ids)
        {
            var lead = await ws.Read.GetObjectAsync($"/api/leads/{id}");
            var key = lead["metadata"]?["key"]?.GetValue<string>();
            key.ShouldNotBeNull(lead.ToJsonString());
            leads.TryAdd(key, lead).ShouldBeTrue($"two leads for row {key}");
        }
        return new Imported(status, [.. rows], leads, report);
    }

    private static string? Nfc(string? s) => s is null ? null : Kernel.Http.TextRule.Normalize(s);
}
