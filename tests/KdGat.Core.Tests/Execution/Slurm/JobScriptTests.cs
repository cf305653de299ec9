using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.Execution.Slurm;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Execution.Slurm;

[Trait("Category", "Unit")]
public sealed class JobScriptTests : IDisposable
{
    private readonly TestPipeline _p = new("datasets: [d1]\npaths:\n  runs: runs\nstages:\n  train: { command: x, outputs: [o] }\n");
    private readonly StageInstance _s;

    public JobScriptTests() => _s = _p.Instances([new("train", [])]).Single();

    public void Dispose() => _p.Dispose();

    private StageJob Job(ResourceSpec r, string command = "echo hi", string? logDir = null) => new()
    {
        Instance = _s,
        Command = command,
        StdoutPath = Path.Combine(logDir ?? _s.LogDir, "a.out"),
        StderrPath = Path.Combine(logDir ?? _s.LogDir, "a.err"),
        AttemptId = "20260101T000000Z-abc123-1",
        Resources = r,
        Environment = new Dictionary<string, string> { ["KDGAT_STAGE"] = "train", ["KDGAT_X"] = "it's $(x)" },
    };

    [Fact]
    public void Directives_ComeFromResourcesThenConfigExtrasThenStageExtras()
    {
        var r = new ResourceSpec { Account = "proj1", Partition = "gpu", Qos = "normal", Cpus = 4, MemMb = 8192, TimeMinutes = 90, Gpus = 2, Extra = ["--constraint=a100"] };
        var d = JobScript.Directives(Job(r), ["--mail-type=NONE"]);
        Assert.Equal([
            "--job-name=kdgat-d1-train",
            $"--output={Path.Combine(_s.LogDir, "a.out")}",
            $"--error={Path.Combine(_s.LogDir, "a.err")}",
            "--comment=kdgat-20260101T000000Z-abc123-1",
            "--account=proj1", "--partition=gpu", "--qos=normal", "--cpus-per-task=4", "--mem=8192M", "--time=90", "--gpus=2",
            "--mail-type=NONE", "--constraint=a100"], d);
    }

    [Fact]
    public void Directives_APartitionList_AndAnUnlimitedTime_ReachSbatchAsItReadsThem()
    {
        var d = JobScript.Directives(Job(new ResourceSpec { Partition = "cpu,gpu", TimeMinutes = ResourceParser.UnlimitedMinutes }), []);
        Assert.Contains("--partition=cpu,gpu", d);
        Assert.Contains("--time=UNLIMITED", d);
        Assert.Throws<KdgException>(() => JobScript.Directives(Job(new ResourceSpec { Partition = "cpu,g\npu" }), []));
    }

    [Fact]
    public void Directives_GpuType_IsPartOfGpus()
    {
        var d = JobScript.Directives(Job(new ResourceSpec { Gpus = 2, GpuType = "a100" }), []);
        Assert.Contains("--gpus=a100:2", d);
    }

    [Fact]
    public void Directives_LeaveOutWhatIsNotSet_AndZeroGpus()
    {
        var d = JobScript.Directives(Job(new ResourceSpec { Gpus = 0 }), []);
        Assert.Equal(4, d.Count);
        Assert.DoesNotContain(d, x => x.StartsWith("--gpus", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_QuotesEnvironment_EntersRunDir_AndRunsTheCommandAsRendered()
    {
        var text = JobScript.Render(Job(new ResourceSpec { MemMb = 100 }, "printf %s 'a b' > o"), []);
        var lines = text.Split('\n');
        Assert.Equal("#!/bin/sh", lines[0]);
        Assert.Contains("#SBATCH --mem=100M", lines);
        Assert.Contains("export KDGAT_X='it'\\''s $(x)'", lines);
        Assert.Contains($"cd '{_s.RunDir}' || exit 125", lines);
        Assert.Contains("printf %s 'a b' > o", lines);
        // Every directive precedes the first command: sbatch stops reading directives there.
        var firstCommand = Array.FindIndex(lines, l => l.Length > 0 && !l.StartsWith('#'));
        Assert.True(lines.Skip(firstCommand).All(l => !l.StartsWith("#SBATCH", StringComparison.Ordinal)));
    }

    [Fact]
    public void Render_WithAMultiLineQuotedValue_KeepsItInsideTheCommand()
    {
        var text = JobScript.Render(Job(new ResourceSpec(), "echo 'x\n#SBATCH --mem=1\n$(rm -rf ~)'"), []);
        var lines = text.Split('\n');
        var firstCommand = Array.FindIndex(lines, l => l.Length > 0 && !l.StartsWith('#'));
        Assert.True(Array.IndexOf(lines, "#SBATCH --mem=1") > firstCommand);
        Assert.Contains("\necho 'x\n#SBATCH --mem=1\n$(rm -rf ~)'\n)\n", text);
    }

    [Fact]
    public void Render_RunsTheCommandInASubshell_ThenWritesItsExitCodeToTheMarkerAtomically_AndExitsWithIt()
    {
        var job = Job(new ResourceSpec(), "echo hi");
        var text = JobScript.Render(job, []);
        var marker = JobScript.MarkerPath(job);
        Assert.Equal(Path.Combine(_s.LogDir, "a.done"), marker);
        Assert.Contains(
            $"kdgat_done='{marker}'\nrm -f \"$kdgat_done\"\n" +
            $"if [ \"${{SLURM_RESTART_COUNT:-0}}\" != 0 ]; then rm -rf -- '{_s.Outputs[0]}'; fi\n" +
            $"(\ncd '{_s.RunDir}' || exit 125\necho hi\n)\nkdgat_rc=$?\n", text);
        // Then the scan for what the command left running (LeftoverScan), then the marker.
        Assert.Contains("grep -lzxF -e 'KDGAT_ATTEMPT_ID=20260101T000000Z-abc123-1' /proc/[0-9]*/environ", text);
        Assert.EndsWith(
            "{ printf '%s\\n' \"$kdgat_rc\"; if [ -n \"$kdgat_left\" ]; then printf 'leftovers:%s\\n' \"$kdgat_left\"; fi; } > \"$kdgat_done.tmp\" 2>/dev/null && mv -f \"$kdgat_done.tmp\" \"$kdgat_done\" 2>/dev/null\nexit \"$kdgat_rc\"\n", text);
    }

    /// <summary>
    /// A command that leaves a background writer (found by review: under SLURM the job COMPLETED, the
    /// cut-short output was committed and cached silently). The script, started as SLURM starts it (the
    /// leader of its own process group), kills the leftover before its marker and names it there; the
    /// executor then reports it as the local executor does (KDG3016, not cached).
    /// </summary>
    [Theory]
    [InlineData(true, "(sleep 3; echo late >> o) & echo early > o; sleep 0.3")] // found by process group, though the subshell carries no KDGAT_ATTEMPT_ID in /proc/PID/environ
    [InlineData(false, "setsid sh -c 'sleep 3; echo late >> o' & echo early > o; sleep 0.3")] // left the group: found by KDGAT_ATTEMPT_ID
    public void TheScript_KillsWhatTheCommandLeftRunning_BeforeItsMarker_AndNamesItThere(bool leader, string command)
    {
        if (!File.Exists("/bin/sh") || !File.Exists("/usr/bin/setsid")) return;
        var job = Job(new ResourceSpec(), command) with { Environment = new Dictionary<string, string> { ["KDGAT_ATTEMPT_ID"] = "20260101T000000Z-abc123-1" } };
        Directory.CreateDirectory(_s.RunDir);
        Directory.CreateDirectory(_s.LogDir);
        var script = Path.Combine(_s.LogDir, "a.sbatch");
        File.WriteAllText(script, JobScript.Render(job, []));
        File.WriteAllText(JobScript.OpenPath(job), ""); // written before sbatch
        // setsid: the script leads its own process group as under slurmstepd; without it, it shares the test's (then only the environment tells).
        using var p = System.Diagnostics.Process.Start(leader ? new System.Diagnostics.ProcessStartInfo("/usr/bin/setsid", ["-w", "/bin/sh", script]) : new System.Diagnostics.ProcessStartInfo("/bin/sh", [script]))!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        var marker = File.ReadAllText(JobScript.MarkerPath(job));
        Assert.StartsWith("0\nleftovers: ", marker);
        Assert.True(JobScript.MarkerNamesLeftovers(JobScript.MarkerPath(job)));
        Thread.Sleep(3500);
        Assert.Equal("early\n", File.ReadAllText(Path.Combine(_s.RunDir, "o"))); // killed: "late" never came
    }

    [Fact]
    public void AMarkerOfAJobThatLeftNothing_NamesNoLeftovers()
    {
        var marker = Path.Combine(_p.Root, "m.done");
        File.WriteAllText(marker, "0\n");
        Assert.False(JobScript.MarkerNamesLeftovers(marker));
        Assert.False(JobScript.MarkerNamesLeftovers(marker + ".missing"));
        Assert.False(JobScript.MarkerNamesLeftovers(null));
    }

    [Theory]
    [InlineData("exit 3", 3)]
    [InlineData("exec sh -c 'exit 4'", 4)]
    [InlineData("true", 0)]
    public void TheScript_RunUnderSh_WritesTheCommandsExitCode_EvenWhenItExitsOrExecs(string command, int code)
    {
        if (!File.Exists("/bin/sh")) return;
        var job = Job(new ResourceSpec(), command);
        Directory.CreateDirectory(_s.RunDir);
        Directory.CreateDirectory(_s.LogDir);
        var script = Path.Combine(_s.LogDir, "a.sbatch");
        File.WriteAllText(script, JobScript.Render(job, []));
        File.WriteAllText(JobScript.OpenPath(job), ""); // written before sbatch
        File.WriteAllText(JobScript.MarkerPath(job), "stale\n"); // a requeued job's first run: removed, then written afresh
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/bin/sh", [script]) { RedirectStandardOutput = true })!;
        p.WaitForExit();
        Assert.Equal(code, p.ExitCode);
        Assert.Equal($"{code}\n", File.ReadAllText(JobScript.MarkerPath(job)));
        Assert.False(File.Exists(JobScript.MarkerPath(job) + ".tmp"));
        Assert.Equal(JobScript.MarkerPath(job), JobScript.MarkerWrittenBy(script, JobScript.MarkerPath(job)));
    }

    /// <summary>
    /// A requeued job runs the script again in the same run dir (SLURM sets SLURM_RESTART_COUNT): what
    /// the killed first run wrote into a declared output must not be committed with the second run's.
    /// </summary>
    [Theory]
    [InlineData(null, true)]
    [InlineData("0", true)]
    [InlineData("1", false)]
    public void ARequeuedJob_StartsWithoutWhatTheKilledRunLeftInItsOutputs(string? restartCount, bool kept)
    {
        if (!File.Exists("/bin/sh")) return;
        var job = Job(new ResourceSpec(), "ls o > listing.txt");
        Directory.CreateDirectory(Path.Combine(_s.RunDir, "o"));
        File.WriteAllText(Path.Combine(_s.RunDir, "o", "partial-from-run-1"), "x");
        File.WriteAllText(Path.Combine(_s.RunDir, "keep.txt"), "not an output");
        Directory.CreateDirectory(_s.LogDir);
        var script = Path.Combine(_s.LogDir, "a.sbatch");
        File.WriteAllText(script, JobScript.Render(job, []));
        File.WriteAllText(JobScript.OpenPath(job), ""); // written before sbatch
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh", [script]) { RedirectStandardError = true };
        start.Environment.Remove("SLURM_RESTART_COUNT");
        if (restartCount is not null) start.Environment["SLURM_RESTART_COUNT"] = restartCount;
        using var p = System.Diagnostics.Process.Start(start)!;
        p.WaitForExit();
        Assert.Equal(kept, File.Exists(Path.Combine(_s.RunDir, "o", "partial-from-run-1")));
        Assert.True(File.Exists(Path.Combine(_s.RunDir, "keep.txt")));
    }

    /// <summary>
    /// A job KdGat has collected (its outputs committed) that an admin requeues ran its script again in the
    /// committed run dir: it cleared the outputs and wrote them anew under builds that rely on them. Once the
    /// executor has seen the job end it removes the attempt's open file; a run without it touches nothing
    /// (no output cleared, no marker removed, the command not run) and says why on stderr, exit code 3.
    /// A requeue before the end (the open file still there) runs again as before (the theory above).
    /// </summary>
    [Fact]
    public void AJobRunAgainAfterItWasCollected_RefusesBeforeTouchingAnything()
    {
        if (!File.Exists("/bin/sh")) return;
        var job = Job(new ResourceSpec(), "echo second > o/result; touch ran-again");
        Directory.CreateDirectory(Path.Combine(_s.RunDir, "o"));
        File.WriteAllText(Path.Combine(_s.RunDir, "o", "result"), "first\n");
        Directory.CreateDirectory(_s.LogDir);
        File.WriteAllText(JobScript.MarkerPath(job), "0\n");
        var script = Path.Combine(_s.LogDir, "a.sbatch");
        File.WriteAllText(script, JobScript.Render(job, []));
        var start = new System.Diagnostics.ProcessStartInfo("/bin/sh", [script]) { RedirectStandardError = true };
        start.Environment["SLURM_RESTART_COUNT"] = "1";
        start.Environment["SLURM_JOB_ID"] = "77";
        using var p = System.Diagnostics.Process.Start(start)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();

        Assert.Equal(JobScript.RanAfterCollectedExitCode, p.ExitCode);
        Assert.Equal("first\n", File.ReadAllText(Path.Combine(_s.RunDir, "o", "result")));
        Assert.False(File.Exists(Path.Combine(_s.RunDir, "ran-again")));
        Assert.Equal("0\n", File.ReadAllText(JobScript.MarkerPath(job)));
        Assert.StartsWith($"KdGat: error KDG4022: {_s.Key} attempt 1: this job ran again (scontrol requeue?) after a KdGat build had collected it (job 77, restart 1); it refuses to run", err);
    }

    [Fact]
    public void AScriptWithoutTheMarkerLine_OrNone_WritesNoMarker()
    {
        var job = Job(new ResourceSpec());
        Directory.CreateDirectory(_s.LogDir);
        var old = Path.Combine(_s.LogDir, "old.sbatch");
        File.WriteAllText(old, "#!/bin/sh\ncd /x || exit 125\necho hi\n"); // written by a KdGat before markers
        Assert.Null(JobScript.MarkerWrittenBy(old, JobScript.MarkerPath(job)));
        Assert.Null(JobScript.MarkerWrittenBy(Path.Combine(_s.LogDir, "gone.sbatch"), JobScript.MarkerPath(job)));
    }

    [Theory]
    [InlineData("--constraint=a100\n#SBATCH --x")]
    [InlineData("--comment=\"x\"")]
    [InlineData("-x")]
    [InlineData("--begin=now\r")]
    [InlineData("--time=1:00\n")] // "$" matched before a final newline, which ends the #SBATCH line
    public void UnsafeExtra_IsRefusedWithKDG4001(string extra)
    {
        var e = Assert.Throws<KdgException>(() => JobScript.Render(Job(new ResourceSpec { Extra = [extra] }), []));
        Assert.Equal(ErrorCodes.SlurmUnsafeValue, e.Code);
        Assert.Contains("train", e.Message);
    }

    [Theory]
    [InlineData("proj 1")]
    [InlineData("a;b")]
    [InlineData("$(x)")]
    [InlineData("proj\n")]
    public void UnsafeAccount_IsRefusedWithKDG4001(string account)
    {
        var e = Assert.Throws<KdgException>(() => JobScript.Directives(Job(new ResourceSpec { Account = account }), []));
        Assert.Equal(ErrorCodes.SlurmUnsafeValue, e.Code);
        Assert.Contains("resources.account", e.Message);
    }

    [Fact]
    public void LogPaths_WithPercentAreEscaped_WithSpacesQuoted_WithQuotesRefused()
    {
        Assert.Contains(JobScript.Directives(Job(new ResourceSpec(), logDir: "/tmp/50%/logs"), []), d => d == "--output=/tmp/50%%/logs/a.out");
        Assert.Contains(JobScript.Directives(Job(new ResourceSpec(), logDir: "/tmp/my logs"), []), d => d == "--output=\"/tmp/my logs/a.out\"");
        Assert.Equal(ErrorCodes.SlurmUnsafeValue, Assert.Throws<KdgException>(() => JobScript.Directives(Job(new ResourceSpec(), logDir: "/tmp/a\"b"), [])).Code);
        Assert.Equal(ErrorCodes.SlurmUnsafeValue, Assert.Throws<KdgException>(() => JobScript.Directives(Job(new ResourceSpec(), logDir: "/tmp/a\nb"), [])).Code);
    }
}
