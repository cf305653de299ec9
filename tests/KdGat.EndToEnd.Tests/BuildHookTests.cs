using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>on_success / on_failure: run once after a build with the build in the environment; a failing hook only warns.</summary>
[Trait("Category", "EndToEnd")]
public sealed class BuildHookTests
{
    private const string Stage = "vgae_large_autoencoder";
    private const string WriteEnv = "printf \"%s\\n%s\\n%s\\n%s\\n\" \"$KDGAT_BUILD_ID\" \"$KDGAT_BUILD_REPORT\" \"$KDGAT_FAILED_STAGES\" \"$KDGAT_RAN_STAGES\" > hook.txt";

    private static Sandbox WithHooks(string onSuccess, string onFailure)
    {
        var s = Sandbox.Trivial();
        s.EditConfig(c => c.TrimEnd() + $"\non_success: '{onSuccess}'\non_failure: '{onFailure}'\n");
        return s;
    }

    [Fact]
    public void OnSuccess_GetsBuildIdReportAndRanStages_NotRunByExplain()
    {
        using var s = WithHooks(WriteEnv, "echo failure > hook.txt");
        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        var lines = File.ReadAllLines(Path.Combine(s.Dir, "hook.txt"));
        var report = s.LastBuild();
        Assert.Equal(report.BuildId, lines[0]);
        Assert.True(File.Exists(lines[1]), lines[1]);
        Assert.Equal("", lines[2]);
        Assert.Contains($"hcrl_sa/{Stage}", lines[3].Split(' '));
        Assert.Equal(13, lines[3].Split(' ').Length);

        File.Delete(Path.Combine(s.Dir, "hook.txt"));
        Assert.Equal(0, s.Build("-t:Explain", "-p:Dataset=hcrl_sa").ExitCode);
        Assert.False(File.Exists(Path.Combine(s.Dir, "hook.txt")));
    }

    [Fact]
    public void FailingStage_RunsOnFailure_WithTheFailedStageNamed()
    {
        using var s = WithHooks("echo success > hook.txt", WriteEnv);
        s.PrefixCommand(Stage, "exit 3; ");
        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, r.ExitCode);
        var lines = File.ReadAllLines(Path.Combine(s.Dir, "hook.txt"));
        Assert.Equal(s.LastBuild().BuildId, lines[0]);
        Assert.Equal($"hcrl_sa/{Stage}", lines[2]);
    }

    /// <summary>A sweep point is named with its variant: before, every point of a stage read hcrl_sa/STAGE alike (a review).</summary>
    [Fact]
    public void SweepPoints_AreNamedWithTheirVariant()
    {
        using var s = WithHooks(WriteEnv, "echo failure > hook.txt");
        s.WithSeeds("0, 1");
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);

        var ran = File.ReadAllLines(Path.Combine(s.Dir, "hook.txt"))[3].Split(' ');
        Assert.Contains($"hcrl_sa/{Stage}/seed=0", ran);
        Assert.Contains($"hcrl_sa/{Stage}/seed=1", ran);
        Assert.Equal(ran.Length, ran.Distinct().Count());
    }

    [Fact]
    public void FailingHook_WarnsKdg3015_AndTheBuildStillSucceeds()
    {
        using var s = WithHooks("echo hook says hello; echo boom on stderr >&2; exit 7", "true");
        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.True(s.LastBuild().Succeeded);
        Assert.Contains("KDG3015", r.Output);
        Assert.Contains("exited with code 7", r.Output);
        Assert.Contains("boom on stderr", r.Output);
        Assert.Contains("hook says hello", r.Output);
    }
}
