using System.Text.RegularExpressions;
using Shouldly;

namespace Leads.Tests.Platform;

/// <summary>The README's configuration table and src/Host/appsettings.json name the same settings, so neither drifts.</summary>
public sealed partial class ConfigurationDocsTests
{
    [GeneratedRegex(@"^\| `(?:--[\w-]+` / `)?(?<key>[A-Za-z_]+(?::[A-Za-z]+)*)`", RegexOptions.Multiline)]
    private static partial Regex TableKey();

    [Fact]
    public void Every_setting_of_the_readme_table_is_in_appsettings_json_with_its_section()
    {
        var root = ModuleBoundaryTests.RepoRoot();
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var appsettings = File.ReadAllText(Path.Combine(root, "src/Host/appsettings.json"));
        var keys = TableKey().Matches(readme).Select(m => m.Groups["key"].Value).Distinct().ToList();
        keys.Count.ShouldBeGreaterThan(20);
        // Each part of the key appears as a JSON name inside its section's braces (commented-out names count: they
        // document an unset default).
        var missing = keys.Where(k => k != "OTEL_EXPORTER_OTLP_ENDPOINT").Where(k => !Declares(appsettings, k.Split(':'))).ToList();
        missing.ShouldBeEmpty("README settings missing from src/Host/appsettings.json");
    }

    private static bool Declares(string json, string[] path)
    {
        var scope = json;
        for (var p = 0; p < path.Length; p++)
        {
            var name = $"\"{Regex.Escape(path[p])}\"\\s*:";
            if (p == path.Length - 1) return Regex.IsMatch(scope, name);
            var m = Regex.Match(scope, name + @"\s*\{");
            if (!m.Success) return false;
            var open = m.Index + m.Length - 1;
            var depth = 0;
            for (var i = open; i < scope.Length; i++)
            {
                if (scope[i] == '{') depth++;
                else if (scope[i] == '}' && --depth == 0) { scope = scope[(open + 1)..i]; break; }
            }
        }
        return false;
    }
}
