using System.Text.RegularExpressions;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>A login node's per-user limits (README "Login node limits").</summary>
[Trait("Category", "EndToEnd")]
public sealed class LoginNodeLimitTests
{
    /// <summary>
    /// Every instance ready to run took its stage lock, a file held open, and then waited for one of the
    /// attempt slots: a cold build of 60 datasets held about 180 lock files with 4 stages running and,
    /// under `ulimit -n 256`, failed with KDG9001 (a thread refused) after KDG2005 "Too many open files".
    /// Now the instances holding their lock are bounded by the slots, and the build fits.
    /// </summary>
    [Fact]
    public void AColdBuildOfSixtyDatasets_FitsUlimitN256_WithFourStagesAtOnce()
    {
        using var s = Sandbox.Trivial();
        var names = Enumerable.Range(0, 60).Select(i => $"ds{i:D2}");
        s.EditConfig(c => Regex.Replace(c, @"^datasets: \[.*\]$", $"datasets: [{string.Join(", ", names)}]", RegexOptions.Multiline));

        var r = ProcessRunner.Run("bash", ["-c", "ulimit -n 256 && exec dotnet \"$@\"", "bash", .. s.MSBuildArgs(["-p:MaxParallelStages=4"])], s.Dir, TimeSpan.FromMinutes(5), s.Env);

        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Equal(60 * 13, Sandbox.With(s.LastBuild(), Outcome.Ran).Length);
    }
}
