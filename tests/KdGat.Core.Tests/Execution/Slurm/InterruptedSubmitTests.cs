using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.Execution.Slurm;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Execution.Slurm;

/// <summary>
/// A submission cut off by Ctrl+C (found by review: a terminal's SIGINT killed sbatch, the build
/// reported KDG4002 "fix the resources", rolled back, and a job the controller had taken ran
/// untracked; the next build submitted a duplicate). The cluster side is in KdGat.Slurm.Tests.
/// </summary>
[Trait("Category", "Unit")]
public sealed class InterruptedSubmitTests : IDisposable
{
    private readonly TestPipeline _p = new("""
        datasets: [d1]
        paths: { runs: runs }
        stages:
          train: { command: 'echo hi > out.txt', outputs: [out.txt], resources: { time: '00:02:00' } }

        """);
    public void Dispose() => _p.Dispose();

    private sealed class Scripted(Func<string, IReadOnlyList<string>, CommandOutput> step) : ICommandRunner
    {
        public List<string> Calls { get; } = [];
        public Task<CommandOutput> RunAsync(string file, IReadOnlyList<string> args, string? workingDir, CancellationToken cancel)
        {
            lock (Calls) Calls.Add(file + " " + string.Join(' ', args));
            return Task.FromResult(step(file, args));
        }
    }

    private (StageJob Job, List<AttemptHandle> Started) Job()
    {
        var s = _p.Instances([new("train", [])]).Single();
        var started = new List<AttemptHandle>();
        return (new StageJob
        {
            Instance = s,
            Command = "true",
            StdoutPath = Path.Combine(s.LogDir, "a.out"),
            StderrPath = Path.Combine(s.LogDir, "a.err"),
            AttemptId = "b-1",
            Resources = s.Config.Resources,
            OnStarted = started.Add,
        }, started);
    }

    private static SlurmExecutor Executor(ICommandRunner run) =>
        new(new SlurmOptions { PollSeconds = 0.01, MaxPollSeconds = 0.01, LatencyWait = TimeSpan.Zero }, new RecordingLog(), new SlurmClient(run, (_, _) => Task.CompletedTask));

    /// <summary>
    /// A TIMEOUT retry whose raised time is above the partition's MaxTime is queued for a reason that never
    /// clears and cancelled (KDG4002). Its error told the user to fix resources it had not written (the stage
    /// asks for what fits); it now says the retry raised them, and what the first job's request stays.
    /// </summary>
    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    public async Task AJobThatCanNeverStart_SaysWhenARetryRaisedItsRequest(int attempt, int minutes)
    {
        var run = new Scripted((f, a) => f switch
        {
            "sbatch" => new(0, "89\n", ""),
            "squeue" when a.Contains("-j") => new(0, "89|PENDING|PartitionConfig\n", ""),
            _ => new(0, "", ""),
        });
        var (job, _) = Job();
        job = job with { Attempt = attempt, Resources = job.Resources with { TimeMinutes = minutes } };
        Assert.Equal(2, job.Instance.Config.Resources.TimeMinutes);

        var r = await Executor(run).RunAsync(job, CancellationToken.None);

        Assert.Equal(ExecState.NotStarted, r.State);
        Assert.Equal(ErrorCodes.SlurmSubmitFailed, r.ErrorCode);
        Assert.Contains("scancel 89", run.Calls);
        Assert.Contains($"It asked for cpus=-, mem=-, gpus=-, time={minutes}min", r.Detail);
        if (attempt == 1)
        {
            Assert.Contains("Fix the stage's resources", r.Detail);
            Assert.DoesNotContain("retry", r.Detail);
        }
        else
        {
            Assert.Contains("That is attempt 2, a retry after the attempt before it hit its limit (the KDG3009 line above), with time=4min where the stage asks for 2min, more than the partition lets one job have.", r.Detail);
            Assert.DoesNotContain("Fix the stage's resources", r.Detail);
        }
    }

    /// <summary>sbatch killed by the Ctrl+C (exit 130, no output) after the controller took the job: found by its comment, journalled, cancelled.</summary>
    [Fact]
    public async Task CtrlC_KillingSbatch_AfterTheControllerTookTheJob_JournalsAndCancelsIt()
    {
        using var ctrlC = new CancellationTokenSource();
        var run = new Scripted((f, _) => f switch
        {
            "sbatch" => Killed(ctrlC),
            "squeue" => new(0, "40|kdgat-other\n42|kdgat-b-1\n", ""),
            _ => new(0, "", ""),
        });
        var (job, started) = Job();

        var r = await Executor(run).RunAsync(job, ctrlC.Token);

        Assert.Equal(ExecState.Cancelled, r.State);
        Assert.Equal("42", r.Handle?.Id);
        Assert.Equal(["42"], started.Select(h => h.Id)); // journalled: never forgotten
        Assert.Contains("scancel 42", run.Calls);
        Assert.Null(r.ErrorCode);
    }

    /// <summary>The same with no job listed: a cancel (KDG3004), not KDG4002's "fix the stage's resources".</summary>
    [Fact]
    public async Task CtrlC_KillingSbatch_WithNoJobListed_IsACancel_NotARefusal()
    {
        using var ctrlC = new CancellationTokenSource();
        var run = new Scripted((f, _) => f == "sbatch" ? Killed(ctrlC) : new(0, "40|kdgat-other\n", ""));
        var (job, started) = Job();

        var r = await Executor(run).RunAsync(job, ctrlC.Token);

        Assert.Equal(ExecState.Cancelled, r.State);
        Assert.Null(r.ErrorCode);
        Assert.Empty(started);
        Assert.Single(run.Calls, c => c.StartsWith("sbatch", StringComparison.Ordinal)); // not submitted again
        Assert.True(run.Calls.Count(c => c.StartsWith("squeue", StringComparison.Ordinal)) >= 2); // looked again: a killed call's request may land late
    }

    /// <summary>A refusal racing the Ctrl+C is still a cancel of the build; the next build shows the refusal if it is one.</summary>
    [Fact]
    public async Task CtrlC_DuringARefusedSubmission_IsACancel()
    {
        using var ctrlC = new CancellationTokenSource();
        var run = new Scripted((f, _) =>
        {
            if (f != "sbatch") return new(0, "", "");
            ctrlC.Cancel();
            return new(1, "", "sbatch: error: Batch job submission failed: Invalid partition name specified");
        });
        var r = await Executor(run).RunAsync(Job().Job, ctrlC.Token);
        Assert.Equal(ExecState.Cancelled, r.State);
        Assert.Contains("Invalid partition", r.Detail);
    }

    /// <summary>
    /// A SLURM review: Ctrl+C while the job was pending, and scancel failed ("Unable to contact slurm
    /// controller"): the attempt was called cancelled, rolled back and its journal deleted, while the
    /// job ran on, wrote its old command's output into the next build's attempt and was committed
    /// under the new fingerprint (a stale result reported as current). Now the job is left, journalled:
    /// the next build re-attaches to it or cancels it.
    /// </summary>
    [Fact]
    public async Task CtrlC_WhileTheJobWaits_WithScancelFailing_LeavesItJournalled_NotCancelled()
    {
        using var ctrlC = new CancellationTokenSource();
        var run = new Scripted((f, _) => f switch
        {
            "sbatch" => Submitted(ctrlC, cancel: false),
            "squeue" => Pending(ctrlC),
            "scancel" => new(1, "", "scancel: error: Kill job error on job id 42: Unable to contact slurm controller (connect failure)"),
            _ => new(0, "", ""),
        });
        var (job, started) = Job();

        var r = await Executor(run).RunAsync(job, ctrlC.Token);

        Assert.Equal(ExecState.LeftRunning, r.State);
        Assert.False(r.LostContact); // the build was cancelled: the stage is cancelled with its job left running
        Assert.Contains("scancel", r.Detail);
        Assert.Equal(["42"], started.Select(h => h.Id));
        Assert.Contains(run.Calls, c => c.StartsWith("scancel", StringComparison.Ordinal));
    }

    /// <summary>The same when the Ctrl+C came while sbatch ran (the job cancelled right after it was submitted).</summary>
    [Fact]
    public async Task CtrlC_DuringSbatch_WithScancelFailing_LeavesTheJobJournalled()
    {
        using var ctrlC = new CancellationTokenSource();
        var run = new Scripted((f, _) => f switch
        {
            "sbatch" => Submitted(ctrlC, cancel: true),
            "scancel" => new(1, "", "scancel: error: Unable to contact slurm controller (connect failure)"),
            _ => new(0, "", ""),
        });

        var r = await Executor(run).RunAsync(Job().Job, ctrlC.Token);

        Assert.Equal(ExecState.LeftRunning, r.State);
        Assert.Equal("42", r.Handle?.Id);
    }

    /// <summary>
    /// scancel answered, but the one squeue after it failed: whether the job had completed before the
    /// cancel is unknown. It was taken as cancelled and a completed job's result thrown away; now it is
    /// left journalled, and the next build collects it (completed) or runs the stage (cancelled).
    /// </summary>
    [Fact]
    public async Task CtrlC_WithTheSqueueAfterTheCancelFailing_LeavesTheJobForTheNextBuild()
    {
        using var ctrlC = new CancellationTokenSource();
        var cancelled = false;
        var run = new Scripted((f, _) => f switch
        {
            "sbatch" => Submitted(ctrlC, cancel: false),
            "squeue" when cancelled => new(1, "", "squeue: error: Socket timed out on send/recv operation"),
            "squeue" => Pending(ctrlC),
            "scancel" => Scancel(ref cancelled),
            _ => new(0, "", ""),
        });

        var r = await Executor(run).RunAsync(Job().Job, ctrlC.Token);

        Assert.Equal(ExecState.LeftRunning, r.State);
        Assert.False(r.LostContact);
    }

    private static CommandOutput Scancel(ref bool cancelled)
    {
        cancelled = true;
        return new(0, "", "");
    }

    private static CommandOutput Submitted(CancellationTokenSource ctrlC, bool cancel)
    {
        if (cancel) ctrlC.Cancel();
        return new(0, "42\n", "");
    }

    /// <summary>The job pending at every poll; the first poll is where the user presses Ctrl+C.</summary>
    private static CommandOutput Pending(CancellationTokenSource ctrlC)
    {
        ctrlC.Cancel();
        return new(0, "42|PENDING|BeginTime\n", "");
    }

    /// <summary>sbatch failed and squeue cannot say whether the job exists: the attempt is left journalled (no rollback), for the next build to find the job.</summary>
    [Fact]
    public async Task SbatchFailing_WhileSqueueCannotAnswer_LeavesTheAttemptJournalled()
    {
        var run = new Scripted((f, _) => f == "sbatch" ? new(137, "", "") : new(1, "", "squeue: error: Socket timed out"));
        var r = await Executor(run).RunAsync(Job().Job, CancellationToken.None);
        Assert.Equal(ExecState.LeftRunning, r.State);
        Assert.True(r.LostContact); // the stage fails with KDG4003, its journal stays
        Assert.Contains("kdgat-b-1", r.Detail);
        Assert.DoesNotContain("Nothing was submitted", r.Detail);
    }

    /// <summary>Without a Ctrl+C a killed sbatch whose job is listed is adopted, not submitted again (no duplicate).</summary>
    [Fact]
    public async Task Submit_SbatchKilled_ButTheJobIsListed_ReturnsIt()
    {
        var run = new Scripted((f, _) => f == "sbatch" ? new(143, "", "") : new(0, "41|kdgat-x\n", ""));
        Assert.Equal("41", await new SlurmClient(run, (_, _) => Task.CompletedTask).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None));
        Assert.Single(run.Calls, c => c.StartsWith("sbatch", StringComparison.Ordinal));
    }

    /// <summary>Even a refusal is checked against the queue before it is believed (an sbatch killed after printing an error): a listed active job is kept.</summary>
    [Fact]
    public async Task Submit_Refused_ButAnActiveJobIsListed_ReturnsIt()
    {
        var run = new Scripted((f, a) => f == "sbatch" ? new(1, "", "sbatch: error: something")
            : a.Contains("-j") ? new(0, "41|PENDING|Priority\n", "") : new(0, "41|kdgat-x\n", ""));
        Assert.Equal("41", await new SlurmClient(run, (_, _) => Task.CompletedTask).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None));
    }

    /// <summary>
    /// A refusal the controller records as an ended job (found on the local cluster: --gpus=3 on a
    /// 2-GPU node is refused, yet squeue lists a FAILED job, reason BadConstraints, with the comment):
    /// still KDG4002 with the resource advice, not a job collected as failed (KDG3001).
    /// </summary>
    [Fact]
    public async Task Submit_Refused_WithAnEndedRecordListed_IsStillKDG4002()
    {
        var run = new Scripted((f, a) => f == "sbatch" ? new(1, "", "sbatch: error: Batch job submission failed: Requested node configuration is not available")
            : a.Contains("-j") ? new(0, "41|FAILED|BadConstraints\n", "") : new(0, "41|kdgat-x\n", ""));
        var e = await Assert.ThrowsAsync<KdgException>(() => new SlurmClient(run, (_, _) => Task.CompletedTask).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None));
        Assert.Equal(ErrorCodes.SlurmSubmitFailed, e.Code);
    }

    /// <summary>
    /// The SLURM client calls run in a session (and so a process group) of their own: a terminal's
    /// Ctrl+C, sent to the build's foreground process group, does not reach sbatch.
    /// </summary>
    [Fact]
    public async Task ClientCalls_RunOutsideTheBuildsProcessGroup()
    {
        Assert.True(File.Exists("/usr/bin/setsid") || File.Exists("/bin/setsid"), "setsid (util-linux) is not installed here");
        var r = await new ProcessCommandRunner().RunAsync("sh", ["-c", "cat /proc/$$/stat"], null, CancellationToken.None);
        Assert.Equal(0, r.ExitCode);
        var (childGroup, childSession) = GroupAndSession(r.Stdout);
        var (ownGroup, ownSession) = GroupAndSession(File.ReadAllText("/proc/self/stat"));
        Assert.NotEqual(ownGroup, childGroup);
        Assert.NotEqual(ownSession, childSession);

        var missing = await new ProcessCommandRunner().RunAsync("kdgat-no-such-program", [], null, CancellationToken.None);
        Assert.Equal(127, missing.ExitCode); // "sbatch was not found" still tells a missing client
    }

    /// <summary>The job script named what it killed in its marker: the result says so, as the local executor's does (KDG3016, not cached).</summary>
    [Theory]
    [InlineData("0\nleftovers: 4711 4712\n", LeftoverProcesses.Killed)]
    [InlineData("0\n", LeftoverProcesses.None)]
    public async Task ACompletedJob_WhoseMarkerNamesLeftovers_ReportsThem(string marker, LeftoverProcesses expected)
    {
        var run = new Scripted((f, _) => f switch
        {
            "sbatch" => new(0, "42\n", ""),
            "squeue" => new(0, "42|COMPLETED|None\n", ""),
            _ => new(0, "42|COMPLETED|0:0|00:00:01|1K|||None|00:00:00|node1\n", ""),
        });
        var (job, _) = Job();
        Directory.CreateDirectory(job.Instance.LogDir);
        File.WriteAllText(JobScript.MarkerPath(job), marker);
        var r = await Executor(run).RunAsync(job, CancellationToken.None);
        Assert.Equal(ExecState.Completed, r.State);
        Assert.Equal(expected, r.Leftovers);
    }

    private static (string Group, string Session) GroupAndSession(string stat)
    {
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (f[2], f[3]);
    }

    private static CommandOutput Killed(CancellationTokenSource ctrlC)
    {
        ctrlC.Cancel();
        return new(130, "", "");
    }
}
