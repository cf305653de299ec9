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
        using var s = SixtyDatasets();

        var r = UnderUlimitN(s, 256);

        Assert.True(r.ExitCode == 0, r.Output);
        Assert.Equal(60 * 13, Sandbox.With(s.LastBuild(), Outcome.Ran).Length);
    }

    /// <summary>
    /// Below what the dataset locks need (one per dataset, for the whole build) the build stops, and said
    /// "the folder is read-only or full, or its file system refuses file locks": a user checked the disk.
    /// Now it names the open-file limit, its value and what to do.
    /// </summary>
    [Fact]
    public void BelowWhatTheDatasetLocksNeed_TheErrorNamesTheOpenFileLimit()
    {
        using var s = SixtyDatasets();

        var r = UnderUlimitN(s, 200);

        Assert.NotEqual(0, r.ExitCode);
        Assert.DoesNotContain("KDG9001", r.Output);
        Assert.DoesNotContain("read-only or full", r.Output);
        Assert.Matches(@"error KDG1207: KdGat cannot take its lock '[^']*build\.lock': this build is at its open-file limit \(now 200; this build's process [^)]*\), and a build holds one lock file per dataset it builds\. Raise the limit \(`ulimit -n`", r.Output);
    }

    private static Sandbox SixtyDatasets()
    {
        var s = Sandbox.Trivial();
        var names = Enumerable.Range(0, 60).Select(i => $"ds{i:D2}");
        s.EditConfig(c => Regex.Replace(c, @"^datasets: \[.*\]$", $"datasets: [{string.Join(", ", names)}]", RegexOptions.Multiline));
        return s;
    }

    private static ProcessResult UnderUlimitN(Sandbox s, int files) =>
        ProcessRunner.Run("bash", ["-c", $"ulimit -n {files} && exec dotnet \"$@\"", "bash", .. s.MSBuildArgs(["-p:MaxParallelStages=4"])], s.Dir, TimeSpan.FromMinutes(5), s.Env);
}
