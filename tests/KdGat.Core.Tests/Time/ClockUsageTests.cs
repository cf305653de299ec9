using System.Text.RegularExpressions;
using KdGat.Core.Tests.Support;

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
        var hits = (from f in RepoFiles.Sources()
                    where !Allowed.Contains(f.Relative)
                    let rel = f.Relative
                    from line in File.ReadLines(f.Path).Select((text, i) => (text, i))
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
}
