using System.Reflection;
using System.Text.RegularExpressions;
using KdGat.Core.Diagnostics;
using Xunit;

namespace KdGat.Core.Tests.Diagnostics;

/// <summary>The README's error table and the codes in ErrorCodes stay in step.</summary>
[Trait("Category", "Unit")]
public sealed class ErrorCodeDocumentationTests
{
    internal static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KdGat.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("KdGat.sln not found");
    }

    private static string[] CodesInSource() =>
        typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).Order().ToArray();

    private static string[] CodesInReadmeTable() =>
        File.ReadAllLines(Path.Combine(Root, "README.md"))
            .Select(l => Regex.Match(l, @"^\| (KDG\d{4}) \|")).Where(m => m.Success).Select(m => m.Groups[1].Value).Order().ToArray();

    [Fact]
    public void EveryCode_IsUnique_AndShapedKdgPlusFourDigits()
    {
        var codes = CodesInSource();
        Assert.All(codes, c => Assert.Matches(@"^KDG\d{4}$", c));
        Assert.Equal(codes.Length, codes.Distinct().Count());
    }

    [Fact]
    public void ReadmeTable_ListsExactlyTheCodesInSource() => Assert.Equal(CodesInSource(), CodesInReadmeTable());

    [Fact]
    public void EveryCode_HasADocComment()
    {
        var undocumented = (from f in Directory.GetFiles(Path.Combine(Root, "src", "KdGat.Core", "Diagnostics"), "ErrorCodes*.cs")
                            let lines = File.ReadAllLines(f)
                            from i in Enumerable.Range(0, lines.Length)
                            where Regex.IsMatch(lines[i], @"\bconst string \w+ = ""KDG\d{4}""")
                            where i == 0 || !lines[i - 1].TrimStart().StartsWith("///", StringComparison.Ordinal)
                            select $"{Path.GetFileName(f)}:{i + 1}: {lines[i].Trim()}").ToArray();
        Assert.True(undocumented.Length == 0, "codes without a /// comment (say what happened and at which severity):\n" + string.Join("\n", undocumented));
    }
}
