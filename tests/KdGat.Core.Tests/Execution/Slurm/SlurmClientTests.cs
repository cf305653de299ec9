using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Execution.Slurm;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Execution.Slurm;

/// <summary>Retry and tolerance logic with scripted command results (the real cluster is exercised by KdGat.Slurm.Tests).</summary>
[Trait("Category", "Unit")]
public sealed class SlurmClientTests
{
    private sealed class Scripted(params Func<string, IReadOnlyList<string>, CommandOutput>[] steps) : ICommandRunner
    {
        public List<string> Calls { get; } = [];
        private int _i;

        public Task<CommandOutput> RunAsync(string file, IReadOnlyList<string> args, string? workingDir, CancellationToken cancel)
        {
            lock (Calls)
            {
                Calls.Add(file + " " + string.Join(' ', args));
                var step = steps[Math.Min(_i++, steps.Length - 1)];
                return Task.FromResult(step(file, args));
            }
        }
    }

    private static readonly Func<TimeSpan, CancellationToken, Task> NoDelay = (_, _) => Task.CompletedTask;

    [Fact]
    public async Task Submit_ChainsAfterOkWithKillOnInvalidDep()
    {
        var run = new Scripted((_, _) => new(0, "42\n", ""));
        var id = await new SlurmClient(run, NoDelay).SubmitAsync("/r/job.sbatch", "/r", ["7", "9"], "kdgat-x", "d1/train", CancellationToken.None);
        Assert.Equal("42", id);
        Assert.Equal(["sbatch --parsable --dependency=afterok:7:9 --kill-on-invalid-dep=yes /r/job.sbatch"], run.Calls);
    }

    /// <summary>
    /// A journalled job id is the attempt's only while SLURM says so: by its comment while squeue lists it,
    /// by its job name once only sacct does; an id SLURM reused for another job was re-attached to and its
    /// end committed as the stage's result (a review). Null when neither answers.
    /// </summary>
    [Theory]
    [InlineData("40|kdgat-a1\n41|kdgat-other\n", 0, "", true)]
    [InlineData("40|kdgat-other\n", 0, "", false)]
    [InlineData("", 0, "40|kdgat-d1-train|/r/runs/d1/train\n", true)]
    [InlineData("", 0, "40|kdgat-d1-train|/r/runs/d1/train/\n", true)]
    [InlineData("", 0, "40|kdgat-d1-train|/other/checkout/runs/d1/train\n", false)] // another checkout's job of the same stage: the same name
    [InlineData("", 0, "40|kdgat-d1-train|/r/runs/d1/train\n40|unrelated|/home/x\n", false)] // accounting holds the old job and the new one
    [InlineData("", 0, "40|unrelated|/home/x\n", false)]
    [InlineData("", 1, "", null)]
    [InlineData("", 0, "", null)]
    public async Task IsAttemptsJob_ByCommentWhileListed_ElseByJobName(string squeue, int sacctExit, string sacct, bool? expected)
    {
        var run = new Scripted((f, _) => f == "squeue" ? new(0, squeue, "") : new(sacctExit, sacct, sacctExit == 0 ? "" : "sacct: error"));

        Assert.Equal(expected, await new SlurmClient(run, NoDelay).IsAttemptsJobAsync("40", "a1", "kdgat-d1-train", "/r/runs/d1/train", CancellationToken.None));
    }

    /// <summary>sbatch records getcwd(3), the run dir with links resolved: a checkout reached through a link (/home -> /gpfs/home) is still the attempt's (a review).</summary>
    [Fact]
    public async Task IsAttemptsJob_ComparesWorkingDirectoriesWithLinksResolved()
    {
        using var d = new TempDir();
        Directory.CreateDirectory(d["real/runs/d1/train"]);
        Directory.CreateSymbolicLink(d["home"], d["real"]);
        var run = new Scripted((f, _) => f == "squeue" ? new(0, "", "") : new(0, $"40|kdgat-d1-train|{d["real/runs/d1/train"]}\n", ""));

        Assert.True(await new SlurmClient(run, NoDelay).IsAttemptsJobAsync("40", "a1", "kdgat-d1-train", d["home/runs/d1/train"], CancellationToken.None));
    }

    [Fact]
    public async Task Submit_RetriesTransientErrors_AndAdoptsAJobATimedOutCallCreated()
    {
        var run = new Scripted(
            (_, _) => new(1, "", "sbatch: error: Socket timed out on send/recv operation"),
            (f, _) => f == "squeue" ? new(0, "40|kdgat-other\n41|kdgat-x\n", "") : new(1, "", "unexpected"));
        var id = await new SlurmClient(run, NoDelay).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None);
        Assert.Equal("41", id);
        Assert.Equal(2, run.Calls.Count); // no second sbatch: no duplicate
    }

    [Fact]
    public async Task Submit_RetriesUntilTheControllerAnswers()
    {
        var n = 0;
        var run = new Scripted((f, _) => f == "squeue" ? new(0, "", "") : ++n < 3 ? new(1, "", "Unable to contact slurm controller") : new(0, "43", ""));
        Assert.Equal("43", await new SlurmClient(run, NoDelay).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None));
    }

    /// <summary>Ctrl+C while sbatch is being retried (a controller at its job limit): no further try, and the build does not wait out the backoff.</summary>
    [Fact]
    public async Task Submit_CtrlCBetweenTries_StopsWithoutAnotherSbatch()
    {
        using var ctrlC = new CancellationTokenSource();
        var run = new Scripted((f, _) =>
        {
            if (f == "squeue") return new(0, "", "");
            ctrlC.Cancel();
            return new(124, "", "sbatch timed out after 2m 00s: sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying");
        });
        var delays = 0;
        var client = new SlurmClient(run, (_, c) => { delays++; c.ThrowIfCancellationRequested(); return Task.CompletedTask; });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None, stopRetrying: ctrlC.Token));
        Assert.Equal(["sbatch --parsable /r/job.sbatch", "squeue -h -t all -o %i|%k"], run.Calls);
        Assert.Equal(0, delays);
    }

    /// <summary>A failed try may still have created the job: after Ctrl+C too it is found and returned (the executor then cancels it), never lost.</summary>
    [Fact]
    public async Task Submit_CtrlCBetweenTries_KeepsTheJobAFailedTryCreated()
    {
        using var ctrlC = new CancellationTokenSource();
        var run = new Scripted((f, _) =>
        {
            ctrlC.Cancel();
            return f == "squeue" ? new(0, "41|kdgat-x\n", "") : new(1, "", "sbatch: error: Socket timed out on send/recv operation");
        });
        Assert.Equal("41", await new SlurmClient(run, NoDelay).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None, stopRetrying: ctrlC.Token));
    }

    /// <summary>The last try too may have created the job: it is found, not given up on while it runs in the cluster.</summary>
    [Fact]
    public async Task Submit_LastTryTimedOut_ButCreatedTheJob_ReturnsIt()
    {
        var sbatch = 0;
        var run = new Scripted((f, _) => f == "squeue"
            ? new(0, sbatch == 3 ? "41|kdgat-x\n" : "", "")
            : new(1, "", $"sbatch: error: Socket timed out on send/recv operation ({++sbatch})"));
        Assert.Equal("41", await new SlurmClient(run, NoDelay).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None, maxTries: 3));
    }

    /// <summary>
    /// A killed sbatch whose request reaches the controller during the backoff, after the first look
    /// (found by review): before, the second sbatch made a second job with the same comment. Now the job
    /// is looked up again immediately before every resubmission, and adopted.
    /// </summary>
    [Fact]
    public async Task Submit_AKilledSbatchsJobListedOnlyAfterTheFirstLook_IsAdopted_NotSubmittedTwice()
    {
        var squeues = 0;
        var sbatches = 0;
        var run = new Scripted((f, _) => f == "squeue"
            ? new(0, ++squeues == 1 ? "" : "41|kdgat-x\n", "")
            : ++sbatches == 1 ? new(137, "", "") : new(0, "42\n", ""));
        Assert.Equal("41", await new SlurmClient(run, NoDelay).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None));
        Assert.Single(run.Calls, c => c.StartsWith("sbatch", StringComparison.Ordinal));
    }

    /// <summary>When the look before a resubmission gets no answer, nothing is resubmitted that round: it waits and looks again.</summary>
    [Fact]
    public async Task Submit_NoAnswerBeforeAResubmission_SubmitsNothingUntilSqueueAnswers()
    {
        var squeues = 0;
        var sbatches = 0;
        var run = new Scripted((f, _) => f == "squeue"
            ? (++squeues == 2 ? new(1, "", "squeue: error: Socket timed out") : new(0, "", ""))
            : ++sbatches == 1 ? new(1, "", "sbatch: error: Socket timed out on send/recv operation") : new(0, "43\n", ""));
        Assert.Equal("43", await new SlurmClient(run, NoDelay).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None));
        Assert.Equal(["sbatch", "squeue", "squeue", "squeue", "sbatch"], run.Calls.Select(c => c.Split(' ')[0]));
    }

    [Fact]
    public async Task Submit_SbatchNeverGetsThrough_IsKDG4003_WithControllerAdvice_NotResourceAdvice()
    {
        var run = new Scripted((f, _) => f == "squeue" ? new(0, "", "") : new(1, "", "sbatch: error: Socket timed out on send/recv operation"));
        var e = await Assert.ThrowsAsync<KdgException>(() => new SlurmClient(run, NoDelay).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None, maxTries: 3));
        Assert.Equal(ErrorCodes.SlurmUnavailable, e.Code);
        Assert.Contains("d1/train: sbatch failed 3 times", e.Message);
        Assert.Contains("Nothing was submitted", e.Message);
        Assert.Contains("scontrol ping", e.Message);
        Assert.DoesNotContain("resources", e.Message);
        Assert.Equal(3, run.Calls.Count(c => c.StartsWith("sbatch", StringComparison.Ordinal)));
    }

    /// <summary>
    /// Giving up while squeue fails too: the last try may have created the job, so it is looked for a
    /// few more times, and if SLURM never says, the error names the job's comment instead of "nothing
    /// was submitted" (found by review: a job could run that nothing tracked).
    /// </summary>
    [Fact]
    public async Task Submit_GivingUpWhileSqueueFails_LooksAgain_AndOtherwiseSaysTheJobMayExist()
    {
        var run = new Scripted((f, _) => f == "squeue" ? new(1, "", "squeue: error: Socket timed out") : new(1, "", "sbatch: error: Socket timed out on send/recv operation"));
        var e = await Assert.ThrowsAsync<KdgException>(() => new SlurmClient(run, NoDelay).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None, maxTries: 2));
        Assert.Equal(ErrorCodes.SlurmUnavailable, e.Code);
        Assert.Contains("did not answer whether that try created the job", e.Message);
        Assert.Contains("kdgat-x", e.Message);
        Assert.DoesNotContain("Nothing was submitted", e.Message);
        Assert.Equal(2 + 5, run.Calls.Count(c => c.StartsWith("squeue", StringComparison.Ordinal))); // one per try, then five more

        var found = 0;
        var late = new Scripted((f, _) => f == "squeue" ? (++found < 3 ? new(1, "", "squeue: error: Socket timed out") : new(0, "41|kdgat-x\n", "")) : new(1, "", "sbatch: error: Socket timed out on send/recv operation"));
        using var ctrlC = new CancellationTokenSource();
        ctrlC.Cancel();
        Assert.Equal("41", await new SlurmClient(late, NoDelay).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None, stopRetrying: ctrlC.Token));
    }

    /// <summary>Ctrl+C during the backoff after a try whose job SLURM did not confirm or deny: it is looked for before giving up.</summary>
    [Fact]
    public async Task Submit_CtrlCInTheBackoff_AfterAnUnansweredLookup_StillLooksForTheJob()
    {
        using var ctrlC = new CancellationTokenSource();
        var squeues = 0;
        var run = new Scripted((f, _) => f == "squeue"
            ? (++squeues == 1 ? new(1, "", "squeue: error: Socket timed out") : new(0, "41|kdgat-x\n", ""))
            : new(1, "", "sbatch: error: Socket timed out on send/recv operation"));
        var client = new SlurmClient(run, (_, c) => { if (!ctrlC.IsCancellationRequested) { ctrlC.Cancel(); c.ThrowIfCancellationRequested(); } return Task.CompletedTask; });

        Assert.Equal("41", await client.SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None, stopRetrying: ctrlC.Token));
        Assert.Single(run.Calls, c => c.StartsWith("sbatch", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Submit_Retry_IsToldTheNextTryAndWhyTheLastFailed()
    {
        var n = 0;
        var run = new Scripted((f, _) => f == "squeue" ? new(0, "", "") : ++n < 3 ? new(1, "", $"Unable to contact slurm controller {n}") : new(0, "43", ""));
        var retries = new List<(int, string)>();
        await new SlurmClient(run, NoDelay).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None, onRetry: (t, why) => retries.Add((t, why)));
        Assert.Equal([(2, "Unable to contact slurm controller 1"), (3, "Unable to contact slurm controller 2")], retries);
    }

    /// <summary>A client call past its time is ended; what it printed until then (sbatch says why it waits) is in the failure, which counts as passing.</summary>
    [Fact]
    public async Task ProcessRunner_TimedOutCall_KeepsWhatItSaid_AndIsTransient()
    {
        var r = await new ProcessCommandRunner(TimeSpan.FromSeconds(1)).RunAsync("sh",
            ["-c", "echo 'sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying' >&2; echo 'sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying' >&2; exec sleep 30"], null, CancellationToken.None);
        Assert.Equal(124, r.ExitCode);
        Assert.Equal("sh timed out after 1.0 s: sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying", r.Text);
        Assert.True(SlurmClient.IsTransient(r.Text));
    }

    [Fact]
    public async Task Submit_PermanentError_IsKDG4002NamingTheStage()
    {
        var run = new Scripted((_, _) => new(1, "", "sbatch: error: Batch job submission failed: Invalid partition name specified"));
        var e = await Assert.ThrowsAsync<KdgException>(() => new SlurmClient(run, NoDelay).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None));
        Assert.Equal(ErrorCodes.SlurmSubmitFailed, e.Code);
        Assert.Contains("d1/train", e.Message);
        Assert.Contains("Invalid partition", e.Message);
        Assert.Equal(["sbatch --parsable /r/job.sbatch", "squeue -h -t all -o %i|%k"], run.Calls); // looked up (no job), not retried
    }

    [Fact]
    public async Task Submit_Refused_NamesTheRequestAndEveryResourceField()
    {
        var run = new Scripted((_, _) => new(1, "", "sbatch: error: Invalid generic resource (gres) specification"));
        var request = new KdGat.Core.Config.ResourceSpec { Cpus = 1, MemMb = 8192, Gpus = 1, TimeMinutes = 60 }.Describe();
        var e = await Assert.ThrowsAsync<KdgException>(() => new SlurmClient(run, NoDelay).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None, request: request));
        Assert.Equal(ErrorCodes.SlurmSubmitFailed, e.Code);
        Assert.Contains("cpus=1, mem=8192M, gpus=1, time=60min, partition=-, account=-, qos=-", e.Message);
        foreach (var field in new[] { "cpus", "mem", "gpus", "time", "partition", "account", "qos", "extra", "slurm.extra" })
            Assert.Contains(field, e.Message[e.Message.IndexOf("Fix the stage's resources", StringComparison.Ordinal)..]);
        Assert.Contains("sinfo", e.Message);
    }

    [Fact]
    public async Task Submit_MissingSbatch_IsKDG4003()
    {
        var run = new Scripted((_, _) => new(127, "", "sbatch: No such file or directory"));
        var e = await Assert.ThrowsAsync<KdgException>(() => new SlurmClient(run, NoDelay).SubmitAsync("/r/job.sbatch", "/r", [], "kdgat-x", "d1/train", CancellationToken.None));
        Assert.Equal(ErrorCodes.SlurmUnavailable, e.Code);
    }

    [Fact]
    public async Task Watcher_OneQueryPerPollForAllJobs_ToleratesFailures_AndWaitsForSacct()
    {
        var step = 0;
        var run = new Scripted((f, args) =>
        {
            if (f == "squeue")
            {
                step++;
                return step switch
                {
                    1 => new(0, "1|RUNNING|None\n2|PENDING|Dependency\n", ""),
                    2 => new(1, "", "squeue: error: Socket timed out on send/recv operation"),
                    _ => new(0, "1|COMPLETED|None\n2|OUT_OF_MEMORY|OutOfMemory\n", ""),
                };
            }
            // sacct lags: the first time it knows only job 1.
            return step < 4
                ? new(0, "1|COMPLETED|0:0|00:00:02||2026-11-23T13:31:44|2026-11-23T13:31:46|None\n1.batch|COMPLETED|0:0|00:00:02|5000K|||\n", "")
                : new(0, "1|COMPLETED|0:0|00:00:02||||None\n2|OUT_OF_MEMORY|0:125|00:00:01||||None\n2.batch|OUT_OF_MEMORY|0:125|00:00:01|900K|||\n", "");
        });
        var log = new RecordingLog();
        var w = new JobWatcher(new SlurmClient(run, NoDelay), new PollBackoff(0.05, 0.1), log);
        var t1 = w.WaitAsync("1", CancellationToken.None);
        var t2 = w.WaitAsync("2", CancellationToken.None);
        var done = await Task.WhenAll(t1, t2).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(("COMPLETED", 5000L), (done[0].State, done[0].MaxRssKb));
        Assert.Equal(("OUT_OF_MEMORY", 900L), (done[1].State, done[1].MaxRssKb));
        // One squeue per poll for every outstanding job (no process per job).
        Assert.Contains(run.Calls, c => c.StartsWith("squeue", StringComparison.Ordinal) && (c.Contains("-j 1,2") || c.Contains("-j 2,1")));
        Assert.Single(log.Items, d => d.Code == ErrorCodes.SlurmQueryRetry); // one warning for the failed query, no failed job
    }

    [Fact]
    public async Task Watcher_AllIdsUnknownToTheController_AsksSacct()
    {
        var run = new Scripted((f, _) => f == "squeue"
            ? new(1, "", "slurm_load_jobs error: Invalid job id specified")
            : new(0, "9|TIMEOUT|0:0|00:01:21||||None\n9.batch|CANCELLED|0:15|00:01:22|3212K|||\n", ""));
        var w = new JobWatcher(new SlurmClient(run, NoDelay), new PollBackoff(0.05, 0.1), new RecordingLog());
        var s = await w.WaitAsync("9", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("TIMEOUT", s.State);
        Assert.Equal(81, s.ElapsedSeconds);
    }
    /// <summary>`scontrol show partition -o`: the named partition's MaxTime, the largest of a list, the default partition's without one.</summary>
    [Fact]
    public void ParsePartitionMaxTime_NamedListOrDefault()
    {
        const string text =
            "PartitionName=cpu AllowGroups=ALL Default=YES DefaultTime=NONE MaxNodes=UNLIMITED MaxTime=00:05:00 MinNodes=0 State=UP\n" +
            "PartitionName=long Default=NO MaxTime=2-00:00:00 State=UP\n" +
            "PartitionName=free Default=NO MaxTime=UNLIMITED State=UP\n";
        Assert.Equal(5, SlurmClient.ParsePartitionMaxTime(text, null));
        Assert.Equal(5, SlurmClient.ParsePartitionMaxTime(text, "cpu"));
        Assert.Equal(2880, SlurmClient.ParsePartitionMaxTime(text, "cpu,long"));
        Assert.Equal(ResourceParser.UnlimitedMinutes, SlurmClient.ParsePartitionMaxTime(text, "long,free"));
        Assert.Null(SlurmClient.ParsePartitionMaxTime(text, "gpu"));
        Assert.Null(SlurmClient.ParsePartitionMaxTime("", null));
    }
}
