using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.Execution.Local;
using KdGat.Core.Execution.Slurm;
using KdGat.Core.Hashing;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Execution.Slurm;

/// <summary>What a real site needs: max_jobs, latency_wait, setup lines, executor: local (the cluster side is in KdGat.Slurm.Tests).</summary>
[Trait("Category", "Unit")]
public sealed class SiteOptionsTests : IDisposable
{
    private const string Yaml = """
        datasets: [d1]
        paths: { runs: runs }
        slurm: { max_jobs: 3, latency_wait: 120 }
        stages:
          prep: { command: 'echo prep > out.txt', outputs: [out.txt], executor: local }
          train: { command: 'echo "$GREETING" > out.txt', outputs: [out.txt], setup: ['GREETING=hi', 'export GREETING'] }

        """;

    private readonly TestPipeline _p = new(Yaml);
    public void Dispose() => _p.Dispose();

    private StageInstance Instance(string name) => _p.Instances([new("prep", []), new("train", ["prep"])]).Single(s => s.Name == name);

    private sealed class Sacct(string state) : ICommandRunner
    {
        public Task<CommandOutput> RunAsync(string file, IReadOnlyList<string> args, string? workingDir, CancellationToken cancel) => Task.FromResult(file switch
        {
            "sbatch" => new CommandOutput(0, "42\n", ""),
            "squeue" => new CommandOutput(0, $"42|{state}|None\n", ""),
            _ => new CommandOutput(0, $"42|{state}|0:0|00:00:01|1K|||None|00:00:00|node1\n", ""),
        });
    }

    private static StageJob Job(StageInstance s, string command) => new()
    {
        Instance = s,
        Command = command,
        StdoutPath = Path.Combine(s.LogDir, "a.out"),
        StderrPath = Path.Combine(s.LogDir, "a.err"),
        AttemptId = "b-1",
        Resources = s.Config.Resources,
    };

    [Fact]
    public void Config_ReadsTheSiteKeys()
    {
        var c = _p.LoadConfig();
        Assert.Equal(3, c.Slurm.MaxJobs);
        Assert.Equal(120, c.Slurm.LatencyWaitSeconds);
        Assert.Equal(ExecutorKind.Local, c.Stages["prep"].Executor);
        Assert.Null(c.Stages["train"].Executor);
        Assert.Equal(["GREETING=hi", "export GREETING"], c.Stages["train"].Setup);
        Assert.Equal(5, new SlurmConfig().LatencyWaitSeconds);
    }

    [Fact]
    public void Config_PollingKeys_DefaultTo5_180_30_AndReachTheExecutorsOptions()
    {
        var d = SlurmOptions.From(new SlurmConfig(), wait: true, cancelOnAbort: true);
        Assert.Equal((5.0, 180.0, 30.0), (d.PollSeconds, d.MaxPollSeconds, d.MaxMarkerSeconds));
        _p.WriteConfig(Yaml.Replace("slurm: { max_jobs: 3,", "slurm: { poll_seconds: 2, max_poll_seconds: 300, max_marker_seconds: 15, max_jobs: 3,"));
        var o = SlurmOptions.From(_p.LoadConfig().Slurm, wait: true, cancelOnAbort: true);
        Assert.Equal((2.0, 300.0, 15.0), (o.PollSeconds, o.MaxPollSeconds, o.MaxMarkerSeconds));
        _p.WriteConfig(Yaml.Replace("slurm: { max_jobs: 3,", "slurm: { max_marker_seconds: 0, max_jobs: 3,"));
        Assert.Contains("slurm.max_marker_seconds", Assert.Throws<KdgException>(() => _p.LoadConfig()).Message);
    }

    [Fact]
    public void Config_StageExecutorOtherThanLocal_IsKdg1004AtTheValue()
    {
        _p.WriteConfig(Yaml.Replace("executor: local", "executor: slurm"));
        var e = Assert.Throws<KdgException>(() => _p.LoadConfig());
        Assert.Equal(ErrorCodes.ConfigWrongType, e.Code);
        Assert.Equal(5, e.Line);
        Assert.Contains("stage 'prep'.executor", e.Message);
    }

    [Fact]
    public void MaxJobs_IsTheSubmissionWindow()
    {
        Assert.Equal(3, new SlurmExecutor(SlurmOptions.From(_p.LoadConfig().Slurm, true, true), new RecordingLog()).MaxParallel);
        Assert.True(new SlurmExecutor(new SlurmOptions(), new RecordingLog()).MaxParallel >= 10_000); // no max_jobs: everything at once
    }

    [Fact]
    public async Task OutputWait_OutputAppearingOnTheSecondPoll_IsFound()
    {
        var polls = 0;
        var delays = new List<TimeSpan>();
        var found = await OutputWait.UntilPresentAsync(["/nfs/run/model.ckpt"], TimeSpan.FromSeconds(5), _ => ++polls >= 2,
            (t, _) => { delays.Add(t); return Task.CompletedTask; }, CancellationToken.None);
        Assert.True(found);
        Assert.Equal(2, polls);
        Assert.Equal([OutputWait.Interval], delays);
    }

    [Fact]
    public async Task OutputWait_NeverAppearing_GivesUpAfterTheLatencyWait()
    {
        var delays = 0;
        var found = await OutputWait.UntilPresentAsync(["/nfs/run/model.ckpt"], TimeSpan.FromSeconds(3), _ => false,
            (_, _) => { delays++; return Task.CompletedTask; }, CancellationToken.None);
        Assert.False(found);
        Assert.Equal(6, delays); // 3 s in 0.5 s steps
    }

    [Fact]
    public async Task SlurmExecutor_ACompletedJobsLateOutput_IsThereWhenTheAttemptEnds()
    {
        var s = Instance("train");
        Directory.CreateDirectory(s.RunDir);
        var output = Path.Combine(s.RunDir, "out.txt");
        var waits = 0;
        // The "file system" shows the output after the second wait, as NFS would a moment after the job ended.
        var options = new SlurmOptions { PollSeconds = 0.05, MaxPollSeconds = 0.05, LatencyWait = TimeSpan.FromSeconds(10),
            Delay = (_, _) => { if (++waits == 2) File.WriteAllText(output, "late"); return Task.CompletedTask; } };
        var result = await new SlurmExecutor(options, new RecordingLog(), new SlurmClient(new Sacct("COMPLETED"), (_, _) => Task.CompletedTask)).RunAsync(Job(s, "true"), CancellationToken.None);
        Assert.Equal(ExecState.Completed, result.State);
        Assert.True(File.Exists(output));
        Assert.Equal(2, waits);
    }

    /// <summary>WAIT=false in the environment (MSBuild's Wait, KDG1225) was said as "not waiting (-p:Wait=false)", a -p: never passed (the fxenvrest brief).</summary>
    [Fact]
    public async Task SlurmExecutor_NotWaiting_SaysWhereWaitFalseCameFrom()
    {
        var s = Instance("train");
        var setting = KdGat.Core.Engine.EnvironmentProperties.Setting([new("Wait", "WAIT", "false")], "Wait", "false");
        var options = SlurmOptions.From(_p.LoadConfig().Slurm, wait: false, cancelOnAbort: true, setting);

        var result = await new SlurmExecutor(options, new RecordingLog(), new SlurmClient(new Sacct("RUNNING"))).RunAsync(Job(s, "true"), CancellationToken.None);

        Assert.Equal(ExecState.LeftRunning, result.State);
        Assert.Equal("job 42 submitted; not waiting (WAIT=false in the environment (the property Wait; no -p:Wait))", result.Detail);
    }

    [Fact]
    public async Task SlurmExecutor_RunsAnExecutorLocalStageOnThisMachine_NotAsAJob()
    {
        var s = Instance("prep");
        var result = await new SlurmExecutor(new SlurmOptions(), new RecordingLog(), new SlurmClient(new Sacct("FAILED"))).RunAsync(Job(s, s.RenderCommand()), CancellationToken.None);
        Assert.Equal(ExecState.Completed, result.State);
        Assert.StartsWith("pid:", result.JobId); // a local process, no sbatch
        Assert.Equal("prep\n", File.ReadAllText(Path.Combine(s.RunDir, "out.txt")));
    }

    [Fact]
    public async Task SlurmExecutor_CollectsAnEarlierBuildsJobForAStageThatNowRunsLocally_InsteadOfRunningItBeside()
    {
        var s = Instance("prep");
        var result = await new SlurmExecutor(new SlurmOptions { LatencyWait = TimeSpan.Zero }, new RecordingLog(), new SlurmClient(new Sacct("COMPLETED")))
            .RunAsync(Job(s, s.RenderCommand()) with { AttachTo = AttemptHandle.BatchJob("42") }, CancellationToken.None);
        Assert.Equal("42", result.JobId);
        Assert.False(File.Exists(Path.Combine(s.RunDir, "out.txt"))); // not run here as well
    }

    [Fact]
    public async Task Setup_RunsInTheCommandsShell_AndAFailingLineStopsTheAttempt()
    {
        var s = Instance("train");
        var ok = await new LocalExecutor(1).RunAsync(Job(s, StageSetup.Prefix(s.Config.Setup, s.RenderCommand())), CancellationToken.None);
        Assert.Equal(ExecState.Completed, ok.State);
        Assert.Equal("hi\n", File.ReadAllText(Path.Combine(s.RunDir, "out.txt")));

        var failed = await new LocalExecutor(1).RunAsync(Job(s, StageSetup.Prefix(["exit 7 # a comment", "echo never"], "touch ran")), CancellationToken.None);
        Assert.Equal(7, failed.ExitCode);
        Assert.False(File.Exists(Path.Combine(s.RunDir, "ran")));
    }

    [Fact]
    public void Setup_IsInTheJobScriptBeforeTheCommand()
    {
        var s = Instance("train");
        var script = JobScript.Render(Job(s, StageSetup.Prefix(s.Config.Setup, s.RenderCommand())), []);
        var cd = script.IndexOf("cd ", StringComparison.Ordinal);
        Assert.True(cd < script.IndexOf("GREETING=hi", StringComparison.Ordinal));
        Assert.True(script.IndexOf("export GREETING", StringComparison.Ordinal) < script.IndexOf("echo \"$GREETING\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Setup_IsFingerprinted_AndNoSetupLeavesTheFingerprintAsItWas()
    {
        var fp = new Fingerprinter(new PathHasher(new HashCache()), _ => null);
        var train = Instance("train");
        var upstream = new Dictionary<string, string> { ["prep"] = "d" };
        var with = fp.Compute(train, upstream);
        Assert.Equal(StageSetup.Prefix(train.Config.Setup, train.RenderCommandForFingerprint()), with.Command);
        _p.WriteConfig(Yaml.Replace("'export GREETING'", "'export GREETING; module load cuda/12'"));
        Assert.NotEqual(with.Digest(), (fp.Compute(Instance("train"), upstream)).Digest());
        var prep = Instance("prep");
        Assert.Equal(prep.RenderCommandForFingerprint(), fp.Compute(prep, new Dictionary<string, string>()).Command);
    }
}
