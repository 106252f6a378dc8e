using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Leads.Tests.Infrastructure;
using NJsonSchema;

namespace Leads.Tests.Platform;

/// <summary>
/// The conventions of the published document (docs/openapi.md) hold for every operation, including ones added later,
/// and the document works for the consumers that matter: its own examples validate, Spectral has nothing to refuse
/// (bench/openapi/lint.sh), and a TypeScript client generated from it compiles against clients/typescript.
/// </summary>
public sealed partial class OpenApiDocumentTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static readonly string[] Modules = ["Access", "Leads", "Tags", "Duplicates", "Import", "Webhooks"];

    private async Task<JsonObject> DocumentAsync() => (await (await api.Client().GetAsync("/openapi/v1.json")).BodyAsync()).AsObject();

    private static IEnumerable<(string Path, string Method, JsonObject Op)> Operations(JsonObject doc) =>
        doc["paths"]!.AsObject().SelectMany(p => p.Value!.AsObject().Select(m => (p.Key, m.Key, m.Value!.AsObject())));

    [Fact]
    public async Task Every_operation_has_a_callable_id_one_module_tag_an_example_and_the_statuses_of_the_shared_pipeline()
    {
        var doc = await DocumentAsync();
        doc["servers"].ShouldBeNull();
        var ids = new HashSet<string>();
        foreach (var (path, method, op) in Operations(doc))
        {
            var name = $"{method.ToUpperInvariant()} {path}";
            var id = op["operationId"]!.GetValue<string>();
            CamelCase().IsMatch(id).ShouldBeTrue(name + " → " + id);
            ids.Add(id).ShouldBeTrue($"{id} is used twice");
            op["tags"]!.AsArray().Select(t => t!.GetValue<string>()).ShouldHaveSingleItem().ShouldBeOneOf(Modules);
            op["description"].ShouldNotBeNull(name);
            HasExample(op).ShouldBeTrue($"{name} ({id}) has no example: add one to src/Host/Platform/OpenApi/openapi-examples.json");
            var responses = op["responses"]!.AsObject();
            responses.ContainsKey("503").ShouldBeTrue(name);
            if (path.Contains('{')) responses.ContainsKey("404").ShouldBeTrue(name);
            if (method is "post" or "put" or "patch") responses.ContainsKey("400").ShouldBeTrue(name);
            if (op["security"] is not JsonArray { Count: 0 } && !path.StartsWith("/api/webhooks", StringComparison.Ordinal))
                foreach (var s in new[] { "401", "403", "429" }) responses.ContainsKey(s).ShouldBeTrue($"{name} {s}");
            foreach (var (status, r) in responses)
                if (int.Parse(status) >= 400)
                    r!["content"]!["application/problem+json"]!["schema"]!["$ref"]!.GetValue<string>().ShouldBe("#/components/schemas/ProblemBody");
        }
        ids.ShouldContain("listLeads");
        ids.ShouldContain("getLead");
        ids.ShouldContain("updateLeadStatus");
        ids.ShouldContain("startImport");
    }

    [Fact]
    public async Task Metadata_and_event_data_are_objects_statuses_scopes_and_roles_are_enums()
    {
        var schemas = (await DocumentAsync())["components"]!["schemas"]!.AsObject();
        schemas["LeadDetail"]!["properties"]!["metadata"]!["type"]!.GetValue<string>().ShouldBe("object");
        schemas["ListLeadEventsEventView"]!["properties"]!["data"]!["type"]!.GetValue<string>().ShouldBe("object");
        schemas.Select(s => s.Key).ShouldNotContain(k => k.StartsWith("KeyValuePair", StringComparison.Ordinal));
        Enum(schemas["LeadListItem"]!["properties"]!["status"]!).ShouldBe(["new", "contacted", "qualified", "converted", "closed"]);
        Enum(schemas["ApiKeyView"]!["properties"]!["scope"]!).ShouldBe(["read", "full"]);
        Enum(schemas["UserView"]!["properties"]!["role"]!).ShouldBe(["owner", "admin", "member"]);
        Enum(schemas["ImportView"]!["properties"]!["status"]!).ShouldBe(["queued", "running", "completed", "failed"]);
    }

    [Fact]
    public async Task The_import_takes_a_multipart_file_or_a_csv_body_and_writes_carry_their_headers()
    {
        var doc = await DocumentAsync();
        var import = doc["paths"]!["/api/leads/import"]!["post"]!;
        var form = import["requestBody"]!["content"]!["multipart/form-data"]!["schema"]!;
        form["properties"]!["file"]!["format"]!.GetValue<string>().ShouldBe("binary");
        form["required"]!.AsArray().Select(n => n!.GetValue<string>()).ShouldBe(["file"]);
        import["requestBody"]!["content"]!["text/csv"]!["schema"]!["type"]!.GetValue<string>().ShouldBe("string");
        import["requestBody"]!["content"]!.AsObject().ContainsKey("*/*").ShouldBeFalse();
        import["responses"]!["202"]!["headers"]!["Location"]!["required"]!.GetValue<bool>().ShouldBeTrue();
        import["parameters"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ShouldContain("Idempotency-Key");

        var create = doc["paths"]!["/api/leads"]!["post"]!;
        create["responses"]!["201"]!["headers"]!.AsObject().Select(h => h.Key).ShouldBe(
            ["Cache-Control", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Location", "ETag", "Idempotent-Replayed"], ignoreOrder: true);
        create["responses"]!["429"]!["headers"]!["Retry-After"].ShouldNotBeNull();
        create["responses"]!["401"]!["headers"]!["WWW-Authenticate"].ShouldNotBeNull();
    }

    [Fact]
    public async Task Every_example_validates_against_its_schema()
    {
        var contract = await OpenApiContract.GetAsync(api.Server.CreateHandler());
        var parsed = await NSwag.OpenApiDocument.FromJsonAsync(contract.Json);
        var checkedCount = 0;
        foreach (var (path, item) in parsed.Paths)
            foreach (var (method, op) in item)
            {
                foreach (var (type, media) in op.ActualRequestBody?.Content ?? new Dictionary<string, NSwag.OpenApiMediaType>())
                    checkedCount += Check($"{op.OperationId} request {type}", media);
                foreach (var (status, response) in op.ActualResponses)
                    foreach (var (type, media) in response.Content)
                        checkedCount += Check($"{op.OperationId} {status} {type}", media);
            }
        checkedCount.ShouldBeGreaterThan(30);

        static int Check(string what, NSwag.OpenApiMediaType media)
        {
            if (media.Example is null || !what.Contains("json", StringComparison.Ordinal)) return 0;
            var json = Newtonsoft.Json.JsonConvert.SerializeObject(media.Example);
            var errors = media.Schema.Validate(json, SchemaType.OpenApi3);
            errors.ShouldBeEmpty($"{what}: {string.Join("; ", errors.Select(e => $"{e.Path}: {e.Kind}"))}");
            return 1;
        }
    }

    /// <summary>
    /// CI runs on the same kind of machine as development, with node and the npm registry. Without npm (a developer
    /// machine without node) the check is skipped outside CI and fails in CI, so it never silently stops running there.
    /// </summary>
    [Fact]
    public async Task A_typescript_client_generated_from_the_document_compiles_against_the_example_program()
    {
        var npm = FindOnPath("npm");
        if (npm is null)
        {
            Environment.GetEnvironmentVariable("CI").ShouldNotBe("true", "CI must have node and npm for the TypeScript client check.");
            return;
        }
        var dir = Path.Combine(RepositoryRoot(), "clients", "typescript");
        var contract = await OpenApiContract.GetAsync(api.Server.CreateHandler());
        await File.WriteAllTextAsync(Path.Combine(dir, "openapi.json"), contract.Json);
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "openapi-typescript")))
            await RunAsync(npm, "ci --no-audit --no-fund", dir);
        await RunAsync(npm, "run check", dir);
    }

    private static bool HasExample(JsonObject op) =>
        op["parameters"] is JsonArray ps && ps.Any(p => p?["example"] is not null)
        || op["requestBody"]?["content"] is JsonObject c && c.Any(m => m.Value?["example"] is not null)
        || op["responses"]!.AsObject().Any(r => r.Value?["content"] is JsonObject rc && rc.Any(m => m.Value?["example"] is not null));

    private static string[] Enum(JsonNode schema) => [.. schema["enum"]!.AsArray().Where(v => v is not null).Select(v => v!.GetValue<string>())];

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Leads.sln"))) return d.FullName;
        throw new InvalidOperationException("Leads.sln not found above " + AppContext.BaseDirectory);
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static async Task RunAsync(string file, string args, string dir)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await p.WaitForExitAsync(timeout.Token);
        p.ExitCode.ShouldBe(0, $"{Path.GetFileName(file)} {args} in {dir}:\n{await stdout}\n{await stderr}");
    }

    [GeneratedRegex("^[a-z][a-zA-Z]+$")]
    private static partial Regex CamelCase();
}
