using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>What reruns after what change, decided from content: real builds of the 13-stage DAG with trivial commands.</summary>
[Trait("Category", "EndToEnd")]
public sealed class IncrementalBuildTests
{
    internal static readonly string[] GatLargeDownstream =
    [
        "hcrl_sa/dqn_large_fusion", "hcrl_sa/dqn_small_fusion_kd", "hcrl_sa/eval_large_evaluation",
        "hcrl_sa/eval_small_evaluation_kd", "hcrl_sa/gat_large_curriculum", "hcrl_sa/gat_small_curriculum_kd",
    ];

    [Fact]
    public void FirstBuildRunsAllThirteenStages_SecondBuildRunsNone()
    {
        using var s = Sandbox.Trivial();

        var first = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.Ran).Length);
        Assert.True(File.Exists(Path.Combine(s.RunDir("hcrl_sa", "eval_large_evaluation"), "metrics.json")));

        var second = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length);
    }

    [Fact]
    public void TouchedAndClockSkewedFiles_RunNothing()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);

        // NFS-style skew: some files years in the future, some in the past, inputs newer than outputs.
        var rng = new Random(7);
        foreach (var f in Directory.EnumerateFiles(s.Dir, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/.kdgat/")))
            File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddDays(rng.Next(-4000, 4000)));
        File.SetLastWriteTimeUtc(s.RawFile("hcrl_sa"), DateTime.UtcNow.AddYears(5));

        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
    }

    [Fact]
    public void ParameterChange_ExplainsAndRerunsExactlyItsDownstream()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        var gatLarge = Path.Combine(s.Dir, "models", "gat", "large.yaml");
        var text = File.ReadAllText(gatLarge);
        Assert.Contains("lr: 0.001", text);
        File.WriteAllText(gatLarge, text.Replace("lr: 0.001", "lr: 0.002"));

        var explain = s.Build("-t:Explain", "-p:Dataset=hcrl_sa");
        Assert.True(explain.ExitCode == 0, explain.ToString());
        var plan = s.LastBuild();
        Assert.Equal(GatLargeDownstream, Sandbox.With(plan, Outcome.WouldRun));
        var own = plan.Stages.Single(x => x.Stage == "gat_large_curriculum");
        Assert.Contains(own.Reasons, reason => reason.Contains("lr") && reason.Contains("0.001") && reason.Contains("0.002"));
        Assert.Empty(Sandbox.With(plan, Outcome.Ran));

        var build = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Equal(GatLargeDownstream, Sandbox.With(s.LastBuild(), Outcome.Ran));
    }

    /// <summary>
    /// Only real ghosts are left out of a directory's digest. A file named like an NFS ghost but not
    /// one (`.nfs_extra_capture.csv` in the raw data) and a stage's own `.meta.tmp` in its output dir
    /// were skipped, so the build said 13 up to date while a build from scratch read the new file
    /// (found by review). A real silly-rename ghost (`.nfs` + 24 hex digits) still changes nothing.
    /// </summary>
    [Fact]
    public void FilesNamedLikeGhosts_AreContent_ARealNfsGhostIsNot()
    {
        using var s = Sandbox.Trivial();
        // preprocess also copies the raw dir's .nfs_*.csv files into {cache_dir}/.meta.tmp, which its downstreams read with the cache dir.
        s.PrefixCommand("preprocess", "mkdir -p {cache_dir} && cat {raw_dir}/.nfs_*.csv > {cache_dir}/.meta.tmp 2>/dev/null; ");
        var first = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(first.ExitCode == 0, first.ToString());
        var raw = Path.GetDirectoryName(s.RawFile("hcrl_sa"))!;

        File.WriteAllText(Path.Combine(raw, ".nfs0000000000a1b2c300000001"), "an open file someone deleted");
        var ghost = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(ghost.ExitCode == 0, ghost.ToString());
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));

        File.WriteAllText(Path.Combine(raw, ".nfs_extra_capture.csv"), "extra frames");
        var extra = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa", "-p:VerifyHashes=true");
        Assert.True(extra.ExitCode == 0, extra.ToString());
        // preprocess for its input; the other 12 for its output digest (only .meta.tmp changed in the cache dir).
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.Ran).Length);
        Assert.Equal("extra frames", File.ReadAllText(Path.Combine(s.Dir, "data", "cache", "hcrl_sa", ".meta.tmp")));
    }

    [Fact]
    public void RawDataByteChange_RerunsOnlyThatDataset()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa hcrl_ch").ExitCode);
        Assert.Equal(26, Sandbox.With(s.LastBuild(), Outcome.Ran).Length);

        var raw = s.RawFile("hcrl_ch");
        var bytes = File.ReadAllBytes(raw);
        var mtime = File.GetLastWriteTimeUtc(raw);
        bytes[0] ^= 0x20; // same size, one byte different, mtime put back: only content can tell
        File.WriteAllBytes(raw, bytes);
        File.SetLastWriteTimeUtc(raw, mtime);

        var r = s.Build("-p:Dataset=hcrl_sa hcrl_ch");
        Assert.True(r.ExitCode == 0, r.ToString());
        var ran = Sandbox.With(s.LastBuild(), Outcome.Ran);
        Assert.Equal(13, ran.Length);
        Assert.All(ran, x => Assert.StartsWith("hcrl_ch/", x));
    }

    /// <summary>
    /// Without statx (a container's seccomp filter; here strace makes every statx fail with EPERM, as
    /// such a filter does; glibc emulates a missing one, ENOSYS, with fstatat) a file has no inode or ctime: a same-size edit with its mtime put back must still be
    /// hashed, not answered from the hash cache by size and mtime alone (a review found it was), and
    /// KDG1019 says why every file is hashed.
    /// </summary>
    [Fact]
    public void WithoutStatx_ASameSizeEditWithItsMtimePutBack_StillReruns()
    {
        using var s = Sandbox.Trivial();
        ProcessResult NoStatx() => ProcessRunner.Run("strace", ["-f", "-qq", "-o", "/dev/null", "-e", "trace=statx", "-e", "inject=statx:error=EPERM",
            "dotnet", .. s.MSBuildArgs(["-p:Dataset=hcrl_sa"])], s.Dir, TimeSpan.FromMinutes(5), s.Env);
        var first = NoStatx();
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("KDG1019", first.Output);
        s.WaitPastRacyMargin(); // so that the next build's rows of every file are not racy: a cache that kept them would use them
        var second = NoStatx();
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length);

        var raw = s.RawFile("hcrl_sa");
        var bytes = File.ReadAllBytes(raw);
        var mtime = File.GetLastWriteTimeUtc(raw);
        bytes[0] ^= 0x20;
        File.WriteAllBytes(raw, bytes);
        File.SetLastWriteTimeUtc(raw, mtime);
        var r = NoStatx();

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("hcrl_sa/preprocess", Sandbox.With(s.LastBuild(), Outcome.Ran));
    }

    [Fact]
    public void DeletedOutput_WithoutCache_RerunsThatStage_AndIdenticalResultStopsThere()
    {
        using var s = Sandbox.Trivial();
        s.Env["KDGAT_CACHE"] = "off";
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        File.Delete(Path.Combine(s.RunDir("hcrl_sa", "vgae_small_autoencoder"), "model.ckpt"));

        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        // The stage is deterministic, so its new output has the same content: downstream stays up to date.
        Assert.Equal(["hcrl_sa/vgae_small_autoencoder"], Sandbox.With(s.LastBuild(), Outcome.Ran));
    }

    [Fact]
    public void DeletedOutput_WithCache_IsRestoredWithoutRunning()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        var model = Path.Combine(s.RunDir("hcrl_sa", "vgae_small_autoencoder"), "model.ckpt");
        var before = File.ReadAllBytes(model);
        File.Delete(model);

        var r = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.Equal(["hcrl_sa/vgae_small_autoencoder"], Sandbox.With(s.LastBuild(), Outcome.Restored));
        Assert.Equal(before, File.ReadAllBytes(model));
    }

    [Fact]
    public void CleanOneStage_ForcesThatStageAndItsDownstreamOnly()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);

        var clean = s.Build("-t:Clean", "-p:Dataset=hcrl_sa", "-p:Stage=gat_large_curriculum");
        Assert.True(clean.ExitCode == 0, clean.ToString());
        Assert.False(File.Exists(Path.Combine(s.RunDir("hcrl_sa", "gat_large_curriculum"), "model.ckpt")));
        Assert.True(File.Exists(Path.Combine(s.RunDir("hcrl_sa", "gat_small_curriculum"), "model.ckpt")));

        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(GatLargeDownstream, Sandbox.With(s.LastBuild(), Outcome.Ran));
    }

    [Fact]
    public void StageTarget_RunsOnlyThatStageAndWhatItNeeds()
    {
        using var s = Sandbox.Trivial();
        var r = s.Build("-t:RunStage", "-p:Stage=gat_small_curriculum", "-p:Dataset=set_01");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(["set_01/gat_small_curriculum", "set_01/preprocess", "set_01/vgae_small_autoencoder"], Sandbox.With(s.LastBuild(), Outcome.Ran));
    }
}
