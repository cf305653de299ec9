using KdGat.Core.Diagnostics;
using KdGat.Core.Execution.Slurm;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Execution.Slurm;

/// <summary>
/// The watcher's polling against a scripted cluster on a simulated clock (<see cref="TimerClock"/>):
/// how often it calls squeue while long jobs run, how soon a done-marker gets a job collected, that
/// the safety net still catches jobs that end without one, and that a marker decides nothing.
/// Defaults as shipped: poll_seconds 5, max_poll_seconds 180, max_marker_seconds 30.
/// </summary>
[Trait("Category", "Unit")]
public sealed class JobWatcherMarkerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kdgat-watcher-").FullName;
    private readonly TimerClock _clock = new(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeSlurm _slurm = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>squeue/sacct over a table of job states the test changes; counts the calls.</summary>
    private sealed class FakeSlurm : ICommandRunner
    {
        private readonly object _gate = new();
        private readonly Dictionary<string, (string State, int Exit)> _jobs = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _reasons = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _acctStates = new(StringComparer.Ordinal);
        public int Squeues, Saccts;
        /// <summary>Every query fails as on a login node whose SLURM client is misconfigured.</summary>
        public volatile bool Failing;
        /// <summary>sacct fails as with slurmdbd down; squeue answers.</summary>
        public volatile bool SacctFailing;
        /// <summary>Jobs the controller has forgotten (MinJobAge): squeue does not list them, sacct still does.</summary>
        public readonly HashSet<string> Purged = new(StringComparer.Ordinal);

        /// <summary>What sacct says instead of the state squeue gives (sacct's "CANCELLED by 1234").</summary>
        public void SetAcctState(string id, string state) { lock (_gate) _acctStates[id] = state; }

        public void Set(string id, string state, int exit = 0, string reason = "None") { lock (_gate) { _jobs[id] = (state, exit); _reasons[id] = reason; } }

        public Task<CommandOutput> RunAsync(string file, IReadOnlyList<string> args, string? workingDir, CancellationToken cancel)
        {
            lock (_gate)
            {
                var ids = args[args.ToList().IndexOf("-j") + 1].Split(',');
                var known = ids.Where(_jobs.ContainsKey).Select(id => (id, _jobs[id])).ToArray();
                if (Failing) return Task.FromResult(new CommandOutput(1, "", $"{file}: error: Invalid user for SlurmUser slurm, ignored"));
                if (file == "squeue")
                {
                    Squeues++;
                    return Task.FromResult(new CommandOutput(0, string.Concat(known.Where(j => !Purged.Contains(j.id)).Select(j => $"{j.id}|{j.Item2.State}|{_reasons[j.id]}\n")), ""));
                }
                Saccts++;
                if (SacctFailing) return Task.FromResult(new CommandOutput(1, "", "sacct: error: Problem talking to the database: Connection refused"));
                return Task.FromResult(new CommandOutput(0, string.Concat(known.Select(j =>
                    $"{j.id}|{_acctStates.GetValueOrDefault(j.id, j.Item2.State)}|{j.Item2.Exit}:0|00:15:00||2026-12-02T12:00:00|2026-12-02T12:15:00|None|00:00:01|vm\n" +
                    $"{j.id}.batch|{j.Item2.State}|{j.Item2.Exit}:0|00:15:00|2048K|||\n")), ""));
            }
        }
    }

    private JobWatcher Watcher(RecordingLog? log = null) => new(new SlurmClient(_slurm, time: _clock), new PollBackoff(5, 180), log ?? new RecordingLog(), _clock, maxMarkerSeconds: 30);

    /// <summary>Real time, on a condition: the watcher's loop runs on the thread pool.</summary>
    private static async Task Until(Func<bool> condition)
    {
        var limit = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > limit) throw new TimeoutException("condition not met in 20 s");
            await Task.Yield();
        }
    }

    private string Marker(string id) => Path.Combine(_dir, $"{id}.done");

    private static void WriteMarker(string path, int exitCode) => File.WriteAllText(path, $"{exitCode}\n");

    /// <summary>13 long jobs, 11 pending: what an hour of waiting costs in squeue calls.</summary>
    private (JobWatcher W, Task<JobStatus>[] Jobs) ThirteenLongJobs()
    {
        var w = Watcher();
        var jobs = new Task<JobStatus>[13];
        for (var i = 1; i <= 13; i++)
        {
            _slurm.Set($"{i}", i <= 2 ? "RUNNING" : "PENDING");
            jobs[i - 1] = w.WaitAsync($"{i}", CancellationToken.None, Marker($"{i}"));
        }
        return (w, jobs);
    }

    [Fact]
    public async Task AHeldJob_IsToldAsHeld_WithHowToReleaseIt()
    {
        var told = new List<string>();
        _slurm.Set("7", "PENDING");
        var job = Watcher().WaitAsync("7", CancellationToken.None, Marker("7"), state => { lock (told) told.Add(state); });
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(1));
        _slurm.Set("7", "PENDING", reason: "JobHeldAdmin"); // scontrol hold: PENDING for ever (was shown as just "pending")
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(10));
        _slurm.Set("7", "RUNNING");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(20));

        lock (told) Assert.Equal(["PENDING", "HELD (JobHeldAdmin: scontrol release 7)", "RUNNING"], told);
        Assert.False(job.IsCompleted);
    }

    /// <summary>
    /// A squeue that keeps failing (not a passing controller restart) ends the wait after
    /// JobWatcher.UnreachableAfter instead of never: the build stopped only when killed.
    /// </summary>
    [Fact]
    public async Task ASqueueThatKeepsFailing_EndsTheWait_AfterHalfAnHour_NotBefore()
    {
        _slurm.Set("7", "RUNNING");
        var job = Watcher().WaitAsync("7", CancellationToken.None, Marker("7"));
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(1));
        _slurm.Failing = true;
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(29));
        Assert.False(job.IsCompleted);
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(40), () => job.IsCompleted);

        var status = await job;
        Assert.Equal(JobWatcher.Unreachable, status.State);
        Assert.Contains("Invalid user for SlurmUser", status.Reason);
    }

    /// <summary>
    /// A job that completed and that the controller has forgotten (a -p:Wait=false build's, collected
    /// later) while sacct fails (slurmdbd down): it was counted as missing and, after
    /// JobWatcher.MissingPatience polls, ended NODE_FAIL, which is retried: a completed job run again.
    /// Now the wait goes on while sacct fails, and the job's result is collected once it answers.
    /// </summary>
    [Fact]
    public async Task APurgedCompletedJob_WhileSacctFails_IsNotTakenForLost_AndIsCollectedOnceSacctAnswers()
    {
        _slurm.Set("7", "COMPLETED");
        _slurm.Purged.Add("7");
        _slurm.SacctFailing = true;
        WriteMarker(Marker("7"), 0);
        var job = new JobWatcher(new SlurmClient(_slurm, time: _clock), new PollBackoff(1, 2), new RecordingLog(), _clock, maxMarkerSeconds: 2)
            .WaitAsync("7", CancellationToken.None, Marker("7"));
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(25), () => job.IsCompleted); // hundreds of polls, far over MissingPatience
        Assert.True(_slurm.Saccts > JobWatcher.MissingPatience);
        Assert.False(job.IsCompleted);
        _slurm.SacctFailing = false;
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(26), () => job.IsCompleted);

        Assert.Equal("COMPLETED", (await job).State);
    }

    /// <summary>sacct that never answers (no accounting) for a job squeue no longer lists: the wait ends as for a failing squeue, the marker named, never taken as the outcome.</summary>
    [Fact]
    public async Task APurgedJob_WhileSacctKeepsFailing_EndsUnreachable_AfterHalfAnHour()
    {
        _slurm.Set("7", "COMPLETED");
        _slurm.Purged.Add("7");
        _slurm.SacctFailing = true;
        WriteMarker(Marker("7"), 0);
        var job = Watcher().WaitAsync("7", CancellationToken.None, Marker("7"));
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(29), () => job.IsCompleted);
        Assert.False(job.IsCompleted);
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(40), () => job.IsCompleted);
        Assert.True(job.IsCompleted);

        var status = await job;
        Assert.Equal(JobWatcher.Unreachable, status.State);
        Assert.Contains("squeue no longer lists job 7", status.Reason);
        Assert.Contains("Connection refused", status.Reason);
        Assert.Contains("done-marker", status.Reason);
    }

    /// <summary>A failed sacct long before (for another job, collected from squeue) does not count toward the half hour: the streak is of sacct calls in a row.</summary>
    [Fact]
    public async Task AnEarlierSacctFailure_DoesNotShortenTheHalfHour()
    {
        _slurm.SacctFailing = true;
        _slurm.Set("6", "COMPLETED");
        _slurm.Set("7", "RUNNING");
        var w = Watcher();
        var first = w.WaitAsync("6", CancellationToken.None, Marker("6"));
        var job = w.WaitAsync("7", CancellationToken.None, Marker("7"));
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(5), () => first.IsCompleted);
        Assert.True(first.IsCompleted); // from squeue, sacct never answering
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(45));
        _slurm.Purged.Add("7"); // ended and forgotten while sacct still fails
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(70), () => job.IsCompleted);
        Assert.False(job.IsCompleted);
    }

    [Fact]
    public async Task ASqueueFailingForAWhile_ThenAnswering_KeepsWaiting()
    {
        _slurm.Set("7", "RUNNING");
        var job = Watcher().WaitAsync("7", CancellationToken.None, Marker("7"));
        _slurm.Failing = true;
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(20));
        _slurm.Failing = false;
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(25));
        _slurm.Failing = true;
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(50)); // 25 minutes of failures: a new streak
        Assert.False(job.IsCompleted);
    }

    /// <summary>A job back in the queue after it ran (node failure, preemption, scontrol requeue) is named as requeued, with its stage; before, it only looked pending again.</summary>
    [Fact]
    public async Task AJobRequeuedAfterRunning_IsNamedAsRequeuedBySlurm_Once()
    {
        var log = new RecordingLog();
        var w = Watcher(log);
        _slurm.Set("7", "PENDING");
        var job = w.WaitAsync("7", CancellationToken.None, Marker("7"), label: "d1/train");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(1));
        Assert.DoesNotContain(log.Items, i => i.Message.Contains("requeued", StringComparison.Ordinal)); // queued at first: no requeue
        _slurm.Set("7", "RUNNING");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(5));
        _slurm.Set("7", "REQUEUED");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(10));
        _slurm.Set("7", "PENDING", reason: "BeginTime");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(15));

        var line = Assert.Single(log.Items, i => i.Message.Contains("requeued", StringComparison.Ordinal));
        Assert.Equal("KdGat: d1/train: job 7 was requeued by SLURM; it runs again as the same attempt, its script clearing the declared outputs first.", line.Message);
        Assert.False(job.IsCompleted);
    }

    [Fact]
    public async Task AJobRequeuedInHeldState_IsToldAsHeld()
    {
        var told = new List<string>();
        _slurm.Set("7", "PENDING", reason: "job requeued in held state"); // scontrol requeuehold
        var job = Watcher().WaitAsync("7", CancellationToken.None, Marker("7"), state => { lock (told) told.Add(state); });
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(1));

        lock (told) Assert.Equal(["HELD (job requeued in held state: scontrol release 7)"], told);
        Assert.False(job.IsCompleted);
    }

    /// <summary>
    /// A job held while the build waits (scontrol hold) waits for a human for ever: the console says so
    /// when the hold is first seen, once per hold, not only in the next progress line (up to 10 minutes away).
    /// </summary>
    [Fact]
    public async Task AHoldIsSaidOnTheConsoleWhenItIsSeen_OncePerHold()
    {
        var log = new RecordingLog();
        var w = Watcher(log);
        _slurm.Set("7", "PENDING", reason: "Dependency");
        var job = w.WaitAsync("7", CancellationToken.None, Marker("7"), label: "d1/train");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(1));
        _slurm.Set("7", "PENDING", reason: "JobHeldAdmin");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(4)); // the next poll
        var line = Assert.Single(log.Items, i => i.Message.Contains("held", StringComparison.Ordinal));
        Assert.Equal("KdGat: d1/train: job 7 is held (JobHeldAdmin): SLURM does not start it until someone releases it (scontrol release 7); the build waits for it.", line.Message);
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(20));
        Assert.Single(log.Items, i => i.Message.Contains("held", StringComparison.Ordinal));
        _slurm.Set("7", "PENDING", reason: "Dependency"); // scontrol release
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(30));
        _slurm.Set("7", "PENDING", reason: "JobHeldUser"); // held again
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(40));

        Assert.Equal(2, log.Items.Count(i => i.Message.Contains("is held", StringComparison.Ordinal)));
        Assert.False(job.IsCompleted);
    }

    /// <summary>scontrol requeuehold of a running job: the requeue line said it "runs again", but it waits for a release.</summary>
    [Fact]
    public async Task AJobRequeuedInHeldStateAfterRunning_IsSaidToWaitForARelease()
    {
        var log = new RecordingLog();
        var w = Watcher(log);
        _slurm.Set("7", "RUNNING");
        var job = w.WaitAsync("7", CancellationToken.None, Marker("7"), label: "d1/train");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(1));
        _slurm.Set("7", "PENDING", reason: "job requeued in held state");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(10));

        var line = Assert.Single(log.Items, i => i.Message.Contains("held", StringComparison.Ordinal));
        Assert.Equal("KdGat: d1/train: job 7 was requeued by SLURM (job requeued in held state) and held: once someone releases it (scontrol release 7) it runs again as the same attempt, " +
                     "its script clearing the declared outputs first; the build waits for it.", line.Message);
        Assert.False(job.IsCompleted);
    }

    /// <summary>
    /// squeue gives a cancelled job's bare state; sacct says who cancelled it. A job someone cancelled
    /// while it waited on its dependency (reason Dependency) was taken for SLURM's dependency cancel
    /// (an upstream failed) and submitted again.
    /// </summary>
    [Fact]
    public async Task WhoCancelledAJob_AsSacctSaysIt_ReachesTheStatus()
    {
        _slurm.Set("7", "PENDING", reason: "Dependency");
        var job = Watcher().WaitAsync("7", CancellationToken.None, Marker("7"));
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(1));
        _slurm.Set("7", "CANCELLED", reason: "Dependency");
        _slurm.SetAcctState("7", "CANCELLED by 1234");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(5), () => job.IsCompleted);

        Assert.True(job.IsCompleted);
        var status = await job;
        Assert.Equal(global::KdGat.Core.Execution.ExecState.Cancelled, SlurmState.ToExecState(status.State, status.Reason));
    }

    [Fact]
    public async Task LongJobs_AnHourOfWaiting_CostsAFewDozenSqueueCalls_AndNoSacct()
    {
        var (w, jobs) = ThirteenLongJobs();
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(10));
        var afterRamp = _slurm.Squeues;
        var looksAfterRamp = w.MarkerLooks;
        // Job 3 starts (PENDING -> RUNNING): no end, so the backoff stays at max_poll_seconds.
        _slurm.Set("3", "RUNNING");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(70));

        Assert.All(jobs, j => Assert.False(j.IsCompleted));
        Assert.InRange(afterRamp, 5, 14);                   // 5 s growing by half to 180 s
        Assert.InRange(_slurm.Squeues - afterRamp, 19, 21); // one every 180 s: 20 in the hour
        Assert.InRange(w.MarkerLooks - looksAfterRamp, 119, 121); // one every 30 s (13 stats each)
        Assert.Equal(0, _slurm.Saccts);
        Assert.Equal(_slurm.Squeues, w.Queries);
    }

    [Fact]
    public async Task LongJobs_EachSqueueRidesOnALooksWakeUp_NotOneOfItsOwn()
    {
        var (w, jobs) = ThirteenLongJobs();
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(10));
        var (wakeUps, squeues, looks) = (w.WakeUps, _slurm.Squeues, w.MarkerLooks);
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(70));

        Assert.All(jobs, j => Assert.False(j.IsCompleted));
        Assert.InRange(_slurm.Squeues - squeues, 19, 21);  // the safety net as before: one squeue every 180 s
        Assert.InRange(w.MarkerLooks - looks, 119, 121);   // and a look every 30 s
        Assert.InRange(w.WakeUps - wakeUps, 119, 121);     // in 120 wake-ups an hour, not 140 (each a timer and a thread-pool hop)
    }

    [Fact]
    public async Task AMarker_GetsTheJobCollectedWithinPollSeconds_NotAtTheNextSqueue()
    {
        var (_, jobs) = ThirteenLongJobs();
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(30));
        var squeues = _slurm.Squeues;

        // Job 1 finishes: its script writes the marker as its last act, then SLURM records the end.
        var ended = _clock.Elapsed;
        WriteMarker(Marker("1"), 0);
        _slurm.Set("1", "COMPLETED");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(60), () => jobs[0].IsCompleted);

        var s = await jobs[0];
        Assert.Equal(("COMPLETED", 0, 2048L), (s.State, s.ExitCode, s.MaxRssKb));
        Assert.InRange(_clock.Elapsed - ended, TimeSpan.Zero, TimeSpan.FromSeconds(30)); // without the marker: up to 180 s
        Assert.Equal(squeues + 1, _slurm.Squeues);
        Assert.All(jobs.Skip(1), j => Assert.False(j.IsCompleted));
    }

    [Fact]
    public async Task EachNewStateWhileActive_IsToldOnce_AStartWithinMaxPollSeconds()
    {
        var w = Watcher();
        var states = new List<string>();
        _slurm.Set("5", "PENDING");
        var job = w.WaitAsync("5", CancellationToken.None, Marker("5"), st => { lock (states) states.Add(st); });
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(20));
        var started = _clock.Elapsed;
        _slurm.Set("5", "RUNNING");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(30), () => { lock (states) return states.Count == 2; });
        var seen = _clock.Elapsed;
        _slurm.Set("5", "COMPLETED");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(60), () => job.IsCompleted);

        Assert.Equal(["PENDING", "RUNNING"], states); // each once, the end not (the build's own end line tells it)
        Assert.InRange(seen - started, TimeSpan.Zero, TimeSpan.FromSeconds(180));
    }

    [Fact]
    public async Task AMarkerDecidesNothing_TheOutcomeIsSacct()
    {
        var w = Watcher();
        _slurm.Set("7", "RUNNING");
        var job = w.WaitAsync("7", CancellationToken.None, Marker("7"));
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(20));

        // The marker says 0, SLURM says the job failed with 3 (e.g. an epilog or the batch step's real status): SLURM wins.
        WriteMarker(Marker("7"), 0);
        _slurm.Set("7", "FAILED", 3);
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(30), () => job.IsCompleted);
        var s = await job;
        Assert.Equal(("FAILED", 3), (s.State, s.ExitCode));
    }

    [Fact]
    public async Task AMarkerWhileSlurmStillListsTheJob_KeepsPollingAtPollSeconds_UntilItEnds()
    {
        var w = Watcher();
        _slurm.Set("8", "RUNNING");
        var job = w.WaitAsync("8", CancellationToken.None, Marker("8"));
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(20));

        var squeues = _slurm.Squeues;
        WriteMarker(Marker("8"), 0);
        _slurm.Set("8", "COMPLETING"); // the shell is exiting; the controller has not recorded the end yet
        var seen = _clock.Elapsed;
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(30), () => _slurm.Squeues > squeues);
        var firstLook = _clock.Elapsed;
        await _clock.RunUntilAsync(firstLook + TimeSpan.FromSeconds(12));
        Assert.InRange(_slurm.Squeues - squeues, 3, 4); // 0, 5, 10 (15) s after the marker was seen
        _slurm.Set("8", "COMPLETED");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(30), () => job.IsCompleted);

        Assert.Equal("COMPLETED", (await job).State);
        // Seen within 30 s; from then polls every 5 s: the end is collected at the next one (without: up to 180 s).
        Assert.InRange(_clock.Elapsed - seen, TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(30 + 15 + 5));
    }

    [Fact]
    public async Task AJobKilledWithoutAMarker_IsCaughtByTheSafetyNetWithinMaxPollSeconds()
    {
        var (_, jobs) = ThirteenLongJobs();
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(30));
        var killed = _clock.Elapsed;
        _slurm.Set("2", "TIMEOUT"); // SIGTERM, then SIGKILL: the script never gets to write its marker
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(60), () => jobs[1].IsCompleted);

        Assert.Equal("TIMEOUT", (await jobs[1]).State);
        Assert.InRange(_clock.Elapsed - killed, TimeSpan.Zero, TimeSpan.FromSeconds(180));
    }

    [Fact]
    public async Task AMarkerOfAJobThatKeepsRunning_DoesNotKeepThePollingFast()
    {
        // A job requeued after it wrote its marker (or a stale one): after MarkerPatience quick polls the backoff grows again.
        var w = Watcher();
        _slurm.Set("9", "RUNNING");
        var job = w.WaitAsync("9", CancellationToken.None, Marker("9"));
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(20));
        WriteMarker(Marker("9"), 0);
        var before = _slurm.Squeues;
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(80));

        Assert.False(job.IsCompleted);
        Assert.InRange(_slurm.Squeues - before, JobWatcher.MarkerPatience, JobWatcher.MarkerPatience + 12 + 20);
    }

    [Fact]
    public async Task WithoutMarkers_TheBackoffAloneDecides()
    {
        var w = Watcher();
        _slurm.Set("5", "RUNNING");
        var job = w.WaitAsync("5", CancellationToken.None, marker: null);
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(20));
        var ended = _clock.Elapsed;
        _slurm.Set("5", "COMPLETED");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(30), () => job.IsCompleted);
        Assert.Equal("COMPLETED", (await job).State);
        Assert.InRange(_clock.Elapsed - ended, TimeSpan.Zero, TimeSpan.FromSeconds(180));
    }

    [Fact]
    public async Task AShortJob_IsSeenAtPollSeconds_TheMarkerLooksStartOverAtEachSubmission()
    {
        var w = Watcher();
        _slurm.Set("1", "RUNNING");
        var first = w.WaitAsync("1", CancellationToken.None, Marker("1"));
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(20)); // marker looks backed off to 30 s
        _slurm.Set("2", "RUNNING");
        var submitted = _clock.Elapsed;
        var squeues = _slurm.Squeues;
        var second = w.WaitAsync("2", CancellationToken.None, Marker("2"));
        await Until(() => _slurm.Squeues > squeues); // the submission's own query, before the clock moves on
        WriteMarker(Marker("2"), 0); // a job of a second
        _slurm.Set("2", "COMPLETED");
        await _clock.RunUntilAsync(TimeSpan.FromMinutes(40), () => second.IsCompleted);

        Assert.Equal("COMPLETED", (await second).State);
        Assert.InRange(_clock.Elapsed - submitted, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.False(first.IsCompleted);
    }
}
