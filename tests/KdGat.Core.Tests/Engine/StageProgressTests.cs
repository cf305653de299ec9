using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Planning;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Engine;

/// <summary>The console lines of a stage's start and end, and the "still running" heartbeat (called directly, no timer).</summary>
[Trait("Category", "Unit")]
public sealed class StageProgressTests : IDisposable
{
    private readonly TestPipeline _p = new(KdGatGraph.Yaml(), "d1");
    public void Dispose() => _p.Dispose();

    [Fact]
    public void StartAndEndLines_CarryReason_Outcome_Duration_Attempt_AndJob()
    {
        var s = _p.Instances(KdGatGraph.Stages).First(i => i.Name == "gat_large_curriculum");
        var log = new RecordingLog();
        using var progress = new StageProgress(log, heartbeat: false);

        progress.Started(s, "running", 2, ["parameter lr changed (0.001 -> 0.002)"]);
        progress.Ended(new InstanceResult(s, Outcome.Ran, [new StaleReason("params", "x")]) { Seconds = 125.4, Attempts = 2, Handle = KdGat.Core.Execution.AttemptHandle.BatchJob("4711") });
        progress.Ended(new InstanceResult(s, Outcome.UpToDate, []));

        Assert.Equal(
        [
            "KdGat: d1/gat_large_curriculum: running (attempt 2): parameter lr changed (0.001 -> 0.002)",
            "KdGat: d1/gat_large_curriculum: ran in 2m 05s (attempt 2, job 4711)",
        ], log.Items.Select(d => d.Message));
    }

    /// <summary>With -p:CancelOnAbort=false a cancelled stage's job runs on; its line said only "cancelled", as if scancel'd (a review).</summary>
    [Fact]
    public void EndLine_OfACancelledStageWhoseJobWasLeftRunning_SaysSo()
    {
        var s = _p.Instances(KdGatGraph.Stages).First(i => i.Name == "gat_large_curriculum");
        var job = KdGat.Core.Execution.AttemptHandle.BatchJob("4711");

        Assert.Equal("KdGat: d1/gat_large_curriculum: cancelled, its job left running (attempt 1, job 4711)",
            StageProgress.EndLine(new InstanceResult(s, Outcome.Cancelled, []) { Attempts = 1, Handle = job, JobLeftRunning = true }));
        Assert.Equal("KdGat: d1/gat_large_curriculum: cancelled (attempt 1, job 4711)",
            StageProgress.EndLine(new InstanceResult(s, Outcome.Cancelled, []) { Attempts = 1, Handle = job }));
    }

    [Fact]
    public void Heartbeat_NamesWhatRuns_AndForHowLong_AndIsSilentWhenNothingRuns()
    {
        var instances = _p.Instances(KdGatGraph.Stages);
        var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var log = new RecordingLog();
        using var progress = new StageProgress(log, heartbeat: false, time);

        progress.Started(instances[0], "running", 1, ["never run"]);
        time.Advance(TimeSpan.FromSeconds(90));
        progress.Started(instances[1], "submitting", 1, ["never run"]);
        time.Advance(TimeSpan.FromSeconds(10));
        progress.Beat();
        progress.Stopped(instances[0]);
        progress.Stopped(instances[1]);
        progress.Beat();

        var beats = log.Items.Select(d => d.Message).Where(m => m.Contains("still running")).ToArray();
        Assert.Equal([$"KdGat: still running (2): {instances[0].Key} (1m 40s), {instances[1].Key} (10.0 s)"], beats);
    }

    [Fact]
    public void BatchJobs_HeartbeatTellsQueuedFromRunning_AndAStartGetsOneLine()
    {
        var instances = _p.Instances(KdGatGraph.Stages);
        var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var log = new RecordingLog();
        using var progress = new StageProgress(log, heartbeat: false, time);

        foreach (var (s, id) in new[] { (instances[0], "41"), (instances[1], "42") })
        {
            progress.Started(s, "submitting", 1, []);
            progress.JobStarted(s, KdGat.Core.Execution.AttemptHandle.BatchJob(id));
            progress.JobState(s, "PENDING");
        }
        time.Advance(TimeSpan.FromSeconds(300));
        progress.JobState(instances[0], "RUNNING");
        progress.JobState(instances[0], "RUNNING");    // the same state again: nothing
        time.Advance(TimeSpan.FromSeconds(10));
        progress.JobState(instances[0], "COMPLETING"); // still running: no second line
        time.Advance(TimeSpan.FromSeconds(5));
        progress.Beat();

        var lines = log.Items.Select(d => d.Message).Where(m => !m.Contains("submitting")).ToArray();
        Assert.Equal(
        [
            $"KdGat: {instances[0].Key}: running (job 41)",
            $"KdGat: in progress (2): {instances[0].Key} (completing 15.0 s), {instances[1].Key} (pending 5m 15s)", // running first
        ], lines);
    }

    /// <summary>An sbatch call that hangs or is retried (a controller at its job limit) shows as "submitting", not as running; the queue time counts from the submission.</summary>
    [Fact]
    public void Heartbeat_TellsAJobBeingSubmittedFromOneThatRuns()
    {
        var s = _p.Instances(KdGatGraph.Stages)[0];
        var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var log = new RecordingLog();
        using var progress = new StageProgress(log, heartbeat: false, time);

        progress.Started(s, "submitting", 1, []);
        progress.JobState(s, KdGat.Core.Execution.Slurm.SlurmExecutor.Submitting);
        time.Advance(TimeSpan.FromSeconds(125));
        progress.JobState(s, "SUBMITTING (sbatch try 2; the last: sbatch timed out after 2m 00s)");
        time.Advance(TimeSpan.FromSeconds(35));
        progress.Beat();
        progress.JobStarted(s, KdGat.Core.Execution.AttemptHandle.BatchJob("43"));
        progress.JobState(s, "PENDING");
        time.Advance(TimeSpan.FromSeconds(10));
        progress.Beat();

        var beats = log.Items.Select(d => d.Message).Where(m => m.StartsWith("KdGat: in progress", StringComparison.Ordinal) || m.Contains("still running")).ToArray();
        Assert.Equal(
        [
            $"KdGat: in progress (1): {s.Key} (submitting (sbatch try 2; the last: sbatch timed out after 2m 00s) 2m 40s)",
            $"KdGat: in progress (1): {s.Key} (pending 10.0 s)",
        ], beats);
    }
    /// <summary>
    /// A held job's time in the heartbeat is how long it has been held, not how long since it was queued
    /// (an hour in the queue and one minute held read "held 1h"); once released it counts from the release.
    /// </summary>
    [Fact]
    public void Heartbeat_CountsAHeldJobsTimeFromTheHold_AndFromTheRelease()
    {
        var s = _p.Instances(KdGatGraph.Stages)[0];
        var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var log = new RecordingLog();
        using var progress = new StageProgress(log, heartbeat: false, time);

        progress.Started(s, "submitting", 1, []);
        progress.JobStarted(s, KdGat.Core.Execution.AttemptHandle.BatchJob("44"));
        progress.JobState(s, "PENDING");
        time.Advance(TimeSpan.FromMinutes(60));
        progress.JobState(s, "HELD (JobHeldAdmin: scontrol release 44)");
        time.Advance(TimeSpan.FromSeconds(90));
        progress.Beat();
        progress.JobState(s, "PENDING");
        time.Advance(TimeSpan.FromSeconds(20));
        progress.Beat();

        var beats = log.Items.Select(d => d.Message).Where(m => m.StartsWith("KdGat: in progress", StringComparison.Ordinal)).ToArray();
        Assert.Equal(
        [
            $"KdGat: in progress (1): {s.Key} (held (JobHeldAdmin: scontrol release 44) 1m 30s)",
            $"KdGat: in progress (1): {s.Key} (pending 20.0 s)",
        ], beats);
    }
}
