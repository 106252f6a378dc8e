using System.Text.RegularExpressions;

namespace Leads.Tests.Platform;

/// <summary>
/// ARCHITECTURE (issue #12 item 4): the Duplicates module owns the <c>duplicates</c> schema — groups, dismissed pairs and
/// merge records are written only by its SQL. Other modules' source may name the schema only through its published views
/// (<c>duplicates.v_…</c>, read-only); migrations that write it are the Duplicates module's own (<c>NNNN_duplicates_…</c>).
/// </summary>
public sealed partial class DuplicatesSchemaOwnershipTests
{
    [Fact]
    public void Only_the_Duplicates_module_writes_the_duplicates_schema()
    {
        var root = ModuleBoundaryTests.RepoRoot();
        var violations = new List<string>();
        foreach (var file in SourceFiles(Path.Combine(root, "src"), "*.cs"))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}Modules{Path.DirectorySeparatorChar}Duplicates{Path.DirectorySeparatorChar}")) continue;
            var text = File.ReadAllText(file);
            foreach (Match m in Write().Matches(text)) violations.Add($"{Path.GetRelativePath(root, file)}: writes {m.Value}");
            foreach (Match m in SchemaName().Matches(text))
                if (!m.Groups[1].Value.StartsWith("v_", StringComparison.Ordinal))
                    violations.Add($"{Path.GetRelativePath(root, file)}: names the table {m.Value} (read the published duplicates.v_… views)");
        }
        foreach (var file in SourceFiles(Path.Combine(root, "db", "migrations", "Scripts"), "*.sql"))
        {
            if (Regex.IsMatch(Path.GetFileName(file), @"^\d{4}_duplicates_")) continue;
            foreach (Match m in Write().Matches(File.ReadAllText(file))) violations.Add($"{Path.GetRelativePath(root, file)}: writes {m.Value}");
        }
        violations.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("INSERT INTO duplicates.group_members (lead_id) VALUES (1)")]
    [InlineData("UPDATE  duplicates.merges SET seq = 1")]
    [InlineData("delete from duplicates.dismissed_pairs where true")]
    [InlineData("TRUNCATE duplicates.group_members")]
    [InlineData("INSERT INTO duplicates.group_members AS g (lead_id)")]
    public void The_scan_recognises_writes(string sql) => Write().IsMatch(sql).ShouldBeTrue();

    [Fact]
    public void The_scan_lets_reads_of_published_views_through()
    {
        Write().IsMatch("LEFT JOIN duplicates.v_group_members g ON g.lead_id = l.id").ShouldBeFalse();
        SchemaName().Match("FROM duplicates.v_group_members g").Groups[1].Value.ShouldBe("v_group_members");
    }

    private static IEnumerable<string> SourceFiles(string dir, string pattern) =>
        Directory.EnumerateFiles(dir, pattern, SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

    [GeneratedRegex(@"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|MERGE\s+INTO|COPY|ALTER\s+TABLE|DROP\s+TABLE)\s+(?:ONLY\s+)?duplicates\.\w+",
        RegexOptions.IgnoreCase)]
    private static partial Regex Write();

    // SQL in this code base is lower-case; C# names (Modules.Duplicates…) are not.
    [GeneratedRegex(@"\bduplicates\.([a-z_]+)\b")]
    private static partial Regex SchemaName();
}
