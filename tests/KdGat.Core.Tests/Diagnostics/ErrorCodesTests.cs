using System.Reflection;
using KdGat.Core.Diagnostics;
using KdGat.Core.Tests.Config;

namespace KdGat.Core.Tests.Diagnostics;

public sealed class ErrorCodesTests
{
    private static readonly (string Name, string Code)[] All = typeof(ErrorCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string))
        .Select(f => (f.Name, (string)f.GetRawConstantValue()!))
        .ToArray();

    [Fact]
    public void Codes_AreWellFormedAndUnique()
    {
        Assert.True(All.Length >= 25, $"only {All.Length} codes found");
        Assert.All(All, c => Assert.Matches(@"^KDG[123]\d{3}$", c.Code));
        var duplicates = All.GroupBy(c => c.Code).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(c => c.Name))}");
        Assert.Empty(duplicates);
    }

    [Fact]
    public void Codes_AreEachListedInTheReadmeErrorTable_WhenTheReadmeIsPresent()
    {
        var readme = Path.Combine(ConfigLoaderTests.RepoRoot(), "README.md");
        if (!File.Exists(readme)) return; // a partial checkout without the README has nothing to keep in step
        var text = File.ReadAllText(readme);

        var missing = All.Where(c => !text.Contains($"| {c.Code} |", StringComparison.Ordinal)).Select(c => $"{c.Code} ({c.Name})");

        Assert.Empty(missing);
    }

    [Fact]
    public void KdgException_ToString_IsMsBuildStyle()
    {
        Assert.Equal("/r/kdgat.yaml(3,5): error KDG1003: unknown key", new KdgException("KDG1003", "unknown key", "/r/kdgat.yaml", 3, 5).ToString());
        Assert.Equal("/r/kdgat.yaml: error KDG1102: unknown dataset", new KdgException("KDG1102", "unknown dataset", "/r/kdgat.yaml").ToString());
        Assert.Equal("error KDG3010: failed", new KdgException("KDG3010", "failed").ToString());
    }
}
