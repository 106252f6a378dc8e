using System.Text.RegularExpressions;

namespace Leads.Tests.Platform;

/// <summary>ARCHITECTURE: a module may use another module only through that module's Public/ folder.</summary>
public sealed partial class ModuleBoundaryTests
{
    [Fact]
    public void No_module_references_another_module_outside_Public()
    {
        var root = RepoRoot();
        var modules = Directory.GetDirectories(Path.Combine(root, "src", "Modules")).Select(Path.GetFileName).ToArray();
        modules.ShouldContain("Leads");
        var violations = new List<string>();
        foreach (var module in modules)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src", "Modules", module!), "*.cs", SearchOption.AllDirectories))
            {
                if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
                foreach (Match m in ModuleReference().Matches(File.ReadAllText(file)))
                {
                    var other = m.Groups[1].Value;
                    if (other != module && m.Groups[2].Value != "Public")
                        violations.Add($"{Path.GetRelativePath(root, file)}: {m.Value}");
                }
            }
        }
        violations.ShouldBeEmpty();
    }

    [Fact]
    public void Module_projects_reference_other_modules_only_as_projects_for_their_Public_api()
    {
        // A project reference is the only way to reach Public/; the source scan above keeps it there.
        var root = RepoRoot();
        foreach (var csproj in Directory.GetFiles(Path.Combine(root, "src", "Modules"), "*.csproj", SearchOption.AllDirectories))
            File.ReadAllText(csproj).ShouldNotContain("Host.csproj");
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Leads.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Leads.sln not found above the test folder");
    }

    [GeneratedRegex(@"\bModules\.(Access|Leads|Tags|Duplicates|Import|Webhooks)(?:\.([A-Za-z]+))?")]
    private static partial Regex ModuleReference();
}
