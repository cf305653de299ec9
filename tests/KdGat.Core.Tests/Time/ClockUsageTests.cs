using System.Text.RegularExpressions;

namespace KdGat.Core.Tests.Time;

/// <summary>
/// Time is injected: every "now" and every wait in src goes through a TimeProvider (src/KdGat.Core/Time/Clock.cs),
/// so no decision or wait is welded to the system clock where a test cannot reach it.
/// </summary>
[Trait("Category", "Unit")]
public sealed partial class ClockUsageTests
{
    // The seam itself, and the sample program's stress hook whose sleep is the point (it stands in for a slow stage).
    private static readonly string[] Allowed = ["KdGat.Core/Time/Clock.cs", "KdGat.Sample/Cli/StressHooks.cs"];

    [Fact]
    public void NoDirectClockCalls_OutsideTheSeam()
    {
        var src = Path.Combine(RepoRoot(), "src");
        var hits = (from file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
                    let rel = Path.GetRelativePath(src, file).Replace('\\', '/')
                    where !rel.Contains("/obj/") && !rel.Contains("/bin/") && !Allowed.Contains(rel)
                    from line in File.ReadLines(file).Select((text, i) => (text, i))
                    where DirectClock().IsMatch(line.text)
                    select $"{rel}:{line.i + 1}: {line.text.Trim()}").ToArray();
        Assert.True(hits.Length == 0, "direct clock calls (use the TimeProvider of the build, or Time.Clock):\n" + string.Join("\n", hits));
    }

    [Fact]
    public void ThePattern_FindsWhatItMustFind()
    {
        Assert.Matches(DirectClock(), "var t = DateTimeOffset.UtcNow;");
        Assert.Matches(DirectClock(), "Thread.Sleep(50);");
        Assert.Matches(DirectClock(), "await Task.Delay(250, cancel);");
        Assert.Matches(DirectClock(), "var d = DateTime.Now;");
        Assert.DoesNotMatch(DirectClock(), "var t = time.GetUtcNow();");
    }

    [GeneratedRegex(@"\b(DateTime|DateTimeOffset)\.(UtcNow|Now|Today)\b|\bThread\.Sleep\(|\bTask\.Delay\(|\bStopwatch\.GetTimestamp\(|new\s+(System\.Threading\.)?Timer\(")]
    private static partial Regex DirectClock();

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "KdGat.sln"))) return d.FullName;
        throw new InvalidOperationException("KdGat.sln not found above the test assembly");
    }
}
