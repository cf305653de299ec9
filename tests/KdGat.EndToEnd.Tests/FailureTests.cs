using System.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>Failures stop only what depends on them, and never cost a previous good result.</summary>
[Trait("Category", "EndToEnd")]
public sealed class FailureTests
{
    /// <summary>
    /// A raw file this user may not read was a bare "Access to the path ... is denied" (KDG1207) at
    /// the project, and the plan stopped the whole build (a review). Now it fails that dataset's stage
    /// at its kdgat.yaml entry, naming it, and the other dataset is built. Root reads any file, so as
    /// root the build runs without the capabilities that let it (setpriv).
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")] // file modes and setpriv
    public void AnUnreadableInput_FailsItsStageAtItsEntry_OtherDatasetsBuild()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode); // generates hcrl_sa's raw data
        var raw = Path.Combine(s.Dir, "data", "automotive", "hcrl_sa", "frames.csv");
        File.SetUnixFileMode(raw, UnixFileMode.None);

        var r = WithoutReadingAnyFile(s, "-p:Dataset=\"hcrl_sa;hcrl_ch\"");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Matches(@"kdgat\.yaml\(\d+,\d+\): error KDG1207: hcrl_sa/preprocess \(its inputs or code\): Access to the path '[^']*frames\.csv' is denied", r.Output);
        var report = s.LastBuild();
        Assert.Equal(["hcrl_sa/preprocess"], Sandbox.With(report, Outcome.Failed));
        Assert.Contains("hcrl_ch/eval_large_evaluation", Sandbox.With(report, Outcome.Ran));
    }

    /// <summary>Root reads any file: as root, the build runs without the capabilities that let it (setpriv), so file modes apply.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static ProcessResult WithoutReadingAnyFile(Sandbox s, params string[] msbuildArgs)
    {
        string[] args = [.. s.MSBuildArgs(msbuildArgs)];
        return Environment.IsPrivilegedProcess
            ? ProcessRunner.Run("setpriv", ["--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all", "dotnet", .. args], s.Dir, TimeSpan.FromMinutes(5), s.Env)
            : ProcessRunner.Run("dotnet", args, s.Dir, TimeSpan.FromMinutes(5), s.Env);
    }

    /// <summary>
    /// -t:Explain with an interrupted attempt's journal this user may not read failed as a whole, an
    /// UnauthorizedAccessException's stack trace (the fxmsgs brief). Now that instance would run, its reason
    /// naming the journal (KDG1207's text), and Explain describes the rest.
    /// </summary>
    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")] // file modes and setpriv
    public void ExplainWithAnUnreadableAttemptJournal_SaysSoForThatInstance()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        var journal = Path.Combine(s.Dir, "experimentruns", "hcrl_sa", ".kdgat", "vgae_large_autoencoder", "attempt.json");
        File.WriteAllText(journal, "{}");
        File.SetUnixFileMode(journal, UnixFileMode.None);

        var r = WithoutReadingAnyFile(s, "-t:Explain", "-p:Dataset=hcrl_sa");

        Assert.True(r.ExitCode == 0, r.Output);
        Assert.DoesNotContain("UnauthorizedAccessException", r.Output);
        Assert.Contains("experimentruns/hcrl_sa/.kdgat/vgae_large_autoencoder/attempt.json, may not be read by this user", r.Output);
        var report = s.LastBuild();
        Assert.Contains("hcrl_sa/vgae_large_autoencoder", Sandbox.With(report, Outcome.WouldRun));
        Assert.Contains("hcrl_sa/preprocess", Sandbox.With(report, Outcome.UpToDate));
    }

    [Fact]
    public void FailingStage_SkipsOnlyItsDownstream_OtherBranchesAndDatasetsComplete()
    {
        using var s = Sandbox.Trivial();
        s.PrefixCommand("gat_large_curriculum", "if [ {dataset} = hcrl_sa ]; then echo boom >&2; exit 3; fi; ");

        var r = s.Build("-m", "-p:Dataset=\"hcrl_sa;hcrl_ch\"");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("KDG3010", r.Output);
        var report = s.LastBuild();
        Assert.False(report.Succeeded);
        Assert.Equal(["hcrl_sa/gat_large_curriculum"], Sandbox.With(report, Outcome.Failed));
        Assert.Equal(
            ["hcrl_sa/dqn_large_fusion", "hcrl_sa/dqn_small_fusion_kd", "hcrl_sa/eval_large_evaluation",
             "hcrl_sa/eval_small_evaluation_kd", "hcrl_sa/gat_small_curriculum_kd"],
            Sandbox.With(report, Outcome.Skipped));
        Assert.Equal(13 + 13 - 6, Sandbox.With(report, Outcome.Ran).Length);
        Assert.Equal(3, report.Stages.Single(x => x.Dataset == "hcrl_sa" && x.Stage == "gat_large_curriculum").ExitCode);
    }

    [Fact]
    public void FailedRerun_KeepsPreviousGoodOutputs_AndStaysStale()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        var model = Path.Combine(s.RunDir("hcrl_sa", "gat_large_curriculum"), "model.ckpt");
        var good = File.ReadAllBytes(model);

        // A parameter change makes it stale; the new attempt writes a partial output, then fails.
        var gat = Path.Combine(s.Dir, "models", "gat", "large.yaml");
        File.WriteAllText(gat, File.ReadAllText(gat).Replace("lr: 0.001", "lr: 0.5"));
        s.PrefixCommand("gat_large_curriculum", "echo partial > model.ckpt; exit 1; ");
        Assert.NotEqual(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);

        Assert.Equal(good, File.ReadAllBytes(model));
        Assert.Equal(0, s.Build("-t:Explain", "-p:Dataset=hcrl_sa").ExitCode);
        Assert.Contains("hcrl_sa/gat_large_curriculum", Sandbox.With(s.LastBuild(), Outcome.WouldRun));
    }

    /// <summary>
    /// A failed attempt changes nothing, so after the change that made it is undone the instance is
    /// up to date with its earlier result: Status names the build that made that result, and the
    /// failed attempt as a later one. It named the failed attempt's build as "last ran" (a user
    /// review), the wrong build to look up for a result's provenance.
    /// </summary>
    [Fact]
    public void UpToDateAfterAFailedAttempt_StatusNamesTheBuildOfTheResult()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        var good = s.LastBuild().BuildId;
        var config = File.ReadAllText(s.Config);
        s.PrefixCommand("gat_large_curriculum", "exit 1; ");
        Assert.NotEqual(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        var failed = s.LastBuild().BuildId;
        File.WriteAllText(s.Config, config);

        var status = s.Build("-t:Status", "-p:Dataset=hcrl_sa");
        Assert.True(status.ExitCode == 0, status.ToString());
        var row = status.Output.Split('\n').Single(l => l.Contains("hcrl_sa/gat_large_curriculum "));
        Assert.Contains("up-to-date", row);
        Assert.Contains($"last ran", row);
        Assert.Matches($@"last ran [^;]*build {good}\); a later attempt \(failed, [^)]*build {failed}\) left this result as it was", row);
    }

    [Fact]
    public void ExitZeroWithoutDeclaredOutput_IsAFailure()
    {
        using var s = Sandbox.Trivial();
        s.EditConfig(c => c.Replace(" && echo {stage} > train_log.json'", "'"));

        var r = s.Build("-p:Dataset=hcrl_sa", "-t:Large");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("KDG3002", r.Output);
        var failed = s.LastBuild().Stages.Single(x => x.Stage == "vgae_large_autoencoder");
        Assert.Equal(Outcome.Failed, failed.Outcome);
        Assert.False(File.Exists(Path.Combine(s.RunDir("hcrl_sa", "vgae_large_autoencoder"), "kdgat.manifest.json")));
    }

    [Fact]
    public void BuildKilledMidStage_NextBuildRerunsThatStage()
    {
        using var s = Sandbox.Trivial();
        s.PrefixCommand("vgae_large_autoencoder", "echo half > model.ckpt; echo half > train_log.json; sleep 30; ");
        var marker = Path.Combine(s.RunDir("hcrl_sa", "vgae_large_autoencoder"), "model.ckpt");

        using (var p = s.Start(["-p:Dataset=hcrl_sa", "-t:Large"], out var output))
        {
            Eventually.Within(TimeSpan.FromMinutes(2), () => File.Exists(marker) || p.HasExited, TimeSpan.FromMilliseconds(100));
            Assert.False(p.HasExited, "build ended before the stage started:\n" + output);
            // kill -9 the whole tree, as an OOM killer or a login-node CPU limit would.
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        KillStrays(s.Dir);

        // The half-written outputs must not count as a result.
        s.EditConfig(c => c.Replace("echo half > model.ckpt; echo half > train_log.json; sleep 30; ", ""));
        var r = s.Build("-p:Dataset=hcrl_sa", "-t:Large");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("hcrl_sa/vgae_large_autoencoder", Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.NotEqual("half\n", File.ReadAllText(marker));
    }

    /// <summary>
    /// SIGTERM while MSBuild works between KdGat's tasks (here a target of the user's after the plan):
    /// the build ended with exit code 0 and printed nothing, so `dotnet msbuild ... &amp;&amp; publish`
    /// went on as after a success (a crash-injection review). Now 143 and KDG3004, and nothing ran.
    /// </summary>
    [Fact]
    public void SigtermBetweenKdGatsTasks_Is143AndKdg3004_NotASilentSuccess()
    {
        using var s = Sandbox.Trivial();
        var project = Path.Combine(s.Dir, "pipeline.proj");
        var between = Path.Combine(s.Dir, "between.txt");
        File.WriteAllText(project, File.ReadAllText(project).Replace("</Project>",
            "  <Target Name=\"UsersStepAfterThePlan\" AfterTargets=\"_KdGatPlan\"><Exec Command=\"touch between.txt; while [ -e between.txt ]; do sleep 0.1; done\" /></Target>\n</Project>"));
        try
        {
            using var p = ProcessRunner.Start("env", ["--default-signal=HUP,INT,TERM", "dotnet", .. s.MSBuildArgs(["-p:Dataset=hcrl_sa"])], s.Dir, s.Env, out var output);
            Eventually.Within(TimeSpan.FromMinutes(2), () => File.Exists(between) || p.HasExited, TimeSpan.FromMilliseconds(100));
            Assert.False(p.HasExited, "build ended before the target between KdGat's tasks:\n" + output);

            Assert.Equal(0, ProcessRunner.Run("kill", ["-TERM", p.Id.ToString()], s.Dir).ExitCode);

            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), "build did not stop after SIGTERM:\n" + output);
            p.WaitForExit();
            Assert.Equal(143, p.ExitCode);
            lock (output) Assert.Contains("KDG3004", output.ToString());
            Assert.False(File.Exists(Path.Combine(s.RunDir("hcrl_sa", "preprocess"), "kdgat.manifest.json")));
        }
        finally { File.Delete(between); } // ends the target's loop, which outlives the build
    }

    /// <summary>
    /// Ctrl+C (SIGINT), and SIGTERM and SIGHUP as a login node's CPU-time killer, SLURM or a closed
    /// terminal send them: before, SIGTERM ended the build with exit code 0, no message, and the
    /// stage still running (a crash-and-signal pass).
    /// </summary>
    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    [InlineData("HUP")]
    public void CtrlC_KillsRunningStages_AndLeavesThemStale(string signal)
    {
        using var s = Sandbox.Trivial();
        s.PrefixCommand("vgae_small_autoencoder", "echo started > started.txt; sleep 120; ");
        var started = Path.Combine(s.RunDir("hcrl_sa", "vgae_small_autoencoder"), "started.txt");

        // The build gets the default disposition of each signal whatever the test runner inherited:
        // under `nohup` SIGHUP is ignored, rightly, by every process started from it (found when a
        // CI run under nohup failed the HUP case twice).
        using var p = ProcessRunner.Start("env", ["--default-signal=HUP,INT,TERM", "dotnet", .. s.MSBuildArgs(["-p:Dataset=hcrl_sa", "-t:SmallNoKd"])], s.Dir, s.Env, out var output);
        Eventually.Within(TimeSpan.FromMinutes(2), () => File.Exists(started) || p.HasExited, TimeSpan.FromMilliseconds(100));
        Assert.False(p.HasExited, "build ended before the stage started:\n" + output);

        var kill = ProcessRunner.Run("kill", ["-" + signal, p.Id.ToString()], s.Dir);   // INT: what Ctrl+C sends
        Assert.True(kill.ExitCode == 0, "kill failed: " + kill);
        // Longer than the handler's one-minute grace, so a stop that hangs still shows what it printed.
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(90)), $"build did not stop after SIG{signal}:\n" + output);
        p.WaitForExit();
        Assert.NotEqual(0, p.ExitCode);
        lock (output) Assert.Contains("KDG3004", output.ToString());
        Assert.Empty(SleepsUnder(s.Dir));                     // the stage's process group is gone
        Assert.False(File.Exists(Path.Combine(s.RunDir("hcrl_sa", "vgae_small_autoencoder"), "kdgat.manifest.json")));
        // Status: stale, cancelled; not "failed" with KDG5021's "fix what its log says" (a user review).
        var status = s.Build("-t:Status", "-p:Dataset=hcrl_sa");
        Assert.Matches(@"hcrl_sa/vgae_small_autoencoder\s+stale\s+.*its last attempt was cancelled", status.Output);
        Assert.DoesNotContain("KDG5021", status.Output);

        s.EditConfig(c => c.Replace("echo started > started.txt; sleep 120; ", ""));
        Assert.Equal(0, s.Build("-t:Explain", "-p:Dataset=hcrl_sa").ExitCode);
        Assert.Contains("hcrl_sa/vgae_small_autoencoder", Sandbox.With(s.LastBuild(), Outcome.WouldRun));
    }

    /// <summary>
    /// Ctrl+C while the plan checks what is up to date (here the first hash of a large input): the engine's KDG3004,
    /// "cancelled while checking what is up to date", was followed by the plan task's own, "cancelled after checking",
    /// two lines for one cancel. Now the one. The input is 48 links to a sparse 1 GB file, each a path hashed on its own.
    /// </summary>
    [Fact]
    public void CtrlCDuringThePlansCheck_IsOneKdg3004()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa", "-t:Preprocess").ExitCode); // the raw data is generated
        var raw = Path.GetDirectoryName(s.RawFile("hcrl_sa"))!;
        var big = Path.Combine(raw, "big0.bin");
        using (var f = File.Create(big)) f.SetLength(1L << 30);
        for (var i = 1; i < 48; i++) Assert.Equal(0, ProcessRunner.Run("ln", [big, Path.Combine(raw, $"big{i}.bin")], s.Dir).ExitCode);

        using var p = ProcessRunner.Start("env", ["--default-signal=HUP,INT,TERM", "dotnet", .. s.MSBuildArgs(["-p:Dataset=hcrl_sa", "-t:Preprocess"])], s.Dir, s.Env, out var output);
        // The plan runs in the MSBuild process (no -m): it is checking once it has one of the files open.
        Eventually.Within(TimeSpan.FromMinutes(2), () => Hashing(p.Id, raw) || p.HasExited, TimeSpan.FromMilliseconds(10));
        Assert.False(p.HasExited, "build ended before its plan hashed the input:\n" + output);
        Assert.Equal(0, ProcessRunner.Run("kill", ["-INT", p.Id.ToString()], s.Dir).ExitCode);

        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(90)), "build did not stop after SIGINT:\n" + output);
        p.WaitForExit();
        Assert.NotEqual(0, p.ExitCode);
        string text;
        lock (output) text = output.ToString();
        var line = Assert.Single(text.Split('\n'), l => l.Contains("KDG3004", StringComparison.Ordinal)); // was two
        Assert.Contains("cancelled while checking what is up to date", line);
    }

    /// <summary>Whether process <paramref name="pid"/> has a file under <paramref name="dir"/> open.</summary>
    private static bool Hashing(int pid, string dir)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Any(fd =>
            {
                try { return new FileInfo(fd).LinkTarget?.StartsWith(dir + "/", StringComparison.Ordinal) == true; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // the stage lock is flock itself, not .NET's FileShare.None, which this variable turns off
    public void TwoConcurrentBuilds_RunEachStageOnce(bool dotnetFileLockingDisabled)
    {
        using var s = Sandbox.Trivial();
        if (dotnetFileLockingDisabled) s.Env["DOTNET_SYSTEM_IO_DISABLEFILELOCKING"] = "1";
        s.PrefixCommand("preprocess", "sleep 1; ");
        using var a = s.Start(["-p:Dataset=hcrl_sa"], out var outA);
        using var b = s.Start(["-p:Dataset=hcrl_sa"], out var outB);
        Assert.True(a.WaitForExit(TimeSpan.FromMinutes(4)) && b.WaitForExit(TimeSpan.FromMinutes(4)));
        a.WaitForExit(); b.WaitForExit();
        Assert.True(a.ExitCode == 0, outA.ToString());
        Assert.True(b.ExitCode == 0, outB.ToString());

        // Every attempt leaves an immutable record: 13 stages ran once between the two builds.
        var records = Directory.EnumerateFiles(Path.Combine(s.Dir, ".kdgat", "records", "hcrl_sa"), "*.json", SearchOption.AllDirectories).ToArray();
        Assert.Equal(13, records.Length);
        Assert.Equal(13, records.Select(Path.GetDirectoryName).Distinct().Count());
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
    }

    /// <summary>Stage processes run in their own process group; after kill -9 of the build they may outlive it.</summary>
    private static void KillStrays(string dir)
    {
        foreach (var p in SleepsUnder(dir)) { try { p.Kill(); } catch (InvalidOperationException) { } }
    }

    private static List<Process> SleepsUnder(string dir)
    {
        var found = new List<Process>();
        foreach (var p in Process.GetProcessesByName("sleep"))
        {
            try
            {
                var cwd = new DirectoryInfo($"/proc/{p.Id}/cwd").ResolveLinkTarget(false)?.FullName ?? "";
                if (cwd.StartsWith(dir, StringComparison.Ordinal)) found.Add(p);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException) { }
        }
        return found;
    }
}
