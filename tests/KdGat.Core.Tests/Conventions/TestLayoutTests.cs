using System.Text.RegularExpressions;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Conventions;

/// <summary>
/// The unit tests mirror src/KdGat.Core: a test folder is a Core folder (besides Support and
/// Conventions), its namespace is its folder, and the tests of a type (XTests.cs for X.cs) sit in
/// the folder of that type.
/// </summary>
[Trait("Category", "Unit")]
public sealed class TestLayoutTests
{
    private static readonly string Core = Path.Combine(RepoFiles.Root, "src", "KdGat.Core");
    private static readonly string Tests = Path.Combine(RepoFiles.Root, "tests", "KdGat.Core.Tests");
    private static readonly string[] OwnFolders = ["Support", "Conventions"];

    private static IEnumerable<(string Dir, string Name, string Path)> Files(string root) =>
        from f in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
        let rel = Path.GetRelativePath(root, f).Replace('\\', '/')
        where !rel.StartsWith("obj/", StringComparison.Ordinal) && !rel.StartsWith("bin/", StringComparison.Ordinal)
        select (Dir: Path.GetDirectoryName(rel)!.Replace('\\', '/'), Name: Path.GetFileNameWithoutExtension(rel), Path: f);

    [Fact]
    public void EveryTestFile_SitsInTheFolderOfWhatItTests_UnderItsNamespace()
    {
        var coreDirs = Files(Core).Select(f => f.Dir).ToHashSet(StringComparer.Ordinal);
        var coreTypes = Files(Core).GroupBy(f => f.Name, StringComparer.Ordinal).Where(g => g.Count() == 1).ToDictionary(g => g.Key, g => g.Single().Dir, StringComparer.Ordinal);
        var wrong = new List<string>();
        foreach (var (dir, name, path) in Files(Tests).Where(f => f.Dir.Length > 0))
        {
            var top = dir.Split('/')[0];
            if (!OwnFolders.Contains(top) && !coreDirs.Contains(dir)) wrong.Add($"{dir}/{name}.cs: src/KdGat.Core has no folder {dir}");
            if (name.EndsWith("Tests", StringComparison.Ordinal) && coreTypes.TryGetValue(name[..^"Tests".Length], out var home) && home != dir)
                wrong.Add($"{dir}/{name}.cs: belongs in {home}/ beside what it tests");
            var ns = Regex.Match(File.ReadAllText(path), @"^namespace ([\w.]+);", RegexOptions.Multiline).Groups[1].Value;
            if (ns.Length > 0 && ns != "KdGat.Core.Tests." + dir.Replace('/', '.')) wrong.Add($"{dir}/{name}.cs: namespace {ns}, not KdGat.Core.Tests.{dir.Replace('/', '.')}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }
}
