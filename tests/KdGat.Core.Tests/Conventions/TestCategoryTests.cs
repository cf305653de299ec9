using System.Text.RegularExpressions;

namespace KdGat.Core.Tests.Conventions;

/// <summary>
/// Every test class in every test project says which set it belongs to, so
/// `dotnet test KdGat.sln --filter Category=Unit` is the fast set and nothing falls through.
/// </summary>
[Trait("Category", "Unit")]
public sealed class TestCategoryTests
{
    private static readonly string[] Categories = ["Unit", "EndToEnd", "Slurm", "Browser"];

    [Fact]
    public void EveryTestClass_HasOneKnownCategory()
    {
        var root = new DirectoryInfo(Diagnostics.ErrorCodeDocumentationTests.Root);
        var missing = new List<string>();
        var files = Directory.EnumerateFiles(Path.Combine(root.FullName, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));
        var count = 0;
        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            // Each class declaration, the attributes right above it, and its body up to the next class.
            var classes = Regex.Matches(text, @"((?:^[ \t]*\[.*\][ \t]*\r?\n)*)^[ \t]*(?:(?:public|internal|sealed|static|partial)\s+)*class\s+(\w+)", RegexOptions.Multiline);
            for (var i = 0; i < classes.Count; i++)
            {
                var end = i + 1 < classes.Count ? classes[i + 1].Index : text.Length;
                if (!Regex.IsMatch(text[classes[i].Index..end], @"\[(Fact|Theory)\b")) continue;
                count++;
                var category = Regex.Match(classes[i].Groups[1].Value, @"\[Trait\(""Category"", ""(\w+)""\)\]");
                if (!category.Success || !Categories.Contains(category.Groups[1].Value))
                    missing.Add($"{Path.GetRelativePath(root.FullName, file)}: {classes[i].Groups[2].Value}");
            }
        }
        Assert.True(count > 40, $"only {count} test classes found");
        Assert.True(missing.Count == 0, "test classes without [Trait(\"Category\", \"Unit|EndToEnd|Slurm|Browser\")]:\n" + string.Join("\n", missing));
    }
}
