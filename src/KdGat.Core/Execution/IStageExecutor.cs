using KdGat.Core.Config;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Execution;

/// <summary>One attempt of one stage instance, ready to hand to an executor.</summary>
internal sealed record StageJob
{
    public required StageInstance Instance { get; init; }
    /// <summary>Shell command with values already quoted.</summary>
    public required string Command { get; init; }
    public required string StdoutPath { get; init; }
    public required string StderrPath { get; init; }
    public required string AttemptId { get; init; }
    public int Attempt { get; init; } = 1;
    public required ResourceSpec Resources { get; init; }
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();
    /// <summary>Called once the work exists outside this process (a process group, a batch job), so the engine can journal it.</summary>
    public Action<AttemptHandle>? OnStarted { get; init; }
    /// <summary>Batch executors: told each new state of the job while it is active (PENDING, RUNNING, ...), as the executor's polls see it.</summary>
    public Action<string>? OnBatchState { get; init; }
    /// <summary>Batch executors: job ids this attempt must wait for (afterok). Empty for the local executor.</summary>
    public IReadOnlyList<string> AfterOk { get; init; } = [];
    /// <summary>Batch executors: a job submitted by an earlier build to collect instead of submitting.</summary>
    public AttemptHandle? AttachTo { get; init; }
    /// <summary>-t:Audit (local executor): run the command under strace, writing the trace here.</summary>
    public string? TraceFile { get; init; }
}

public enum ExecState
{
    Completed, Failed, Cancelled, OutOfMemory, Timeout, NodeFail, Preempted, BootFail, NotStarted,
    /// <summary>The batch system cancelled the job because an upstream job it depended on failed.</summary>
    UpstreamFailed,
    /// <summary>The job was left in the batch system (-p:Wait=false, or Ctrl+C with CancelOnAbort=false); a later build collects it.</summary>
    LeftRunning,
}

/// <summary>What a stage command left running in its process group when it exited (local executor).</summary>
public enum LeftoverProcesses
{
    None,
    /// <summary>Killed before the outputs were hashed.</summary>
    Killed,
    /// <summary>Still there after SIGKILL and the wait (an uninterruptible NFS write, a setuid program): the outputs may still change.</summary>
    Survived,
}

/// <summary>The memory (MB, whole job) and time limit (minutes; <see cref="Config.ResourceParser.UnlimitedMinutes"/> for none) a batch job was given; each null when SLURM did not say.</summary>
internal sealed record Granted(long? MemMb, int? TimeMinutes);

internal sealed record ExecutionResult
{
    public required ExecState State { get; init; }
    public int ExitCode { get; init; }
    public DateTimeOffset Started { get; init; }
    public DateTimeOffset Finished { get; init; }
    public double WallSeconds => Math.Max(0, (Finished - Started).TotalSeconds);
    /// <summary>A batch job's start and end as SLURM's accounting recorded them (one clock for every job); null when it did not say.</summary>
    public (DateTimeOffset Start, DateTimeOffset End)? SlurmTimes { get; init; }
    public double CpuSeconds { get; init; }
    /// <summary>A batch job's done-marker, written as its script's last act: outputs changed after it were not the job's.</summary>
    public string? EndMarker { get; init; }
    /// <summary>Outputs not there yet when the job was seen ended, which the latency wait then saw appear (NFS): not compared with the marker.</summary>
    public IReadOnlyList<string> AppearedAfterEnd { get; init; } = [];
    public long PeakRssKb { get; init; }
    /// <summary>Where the attempt ran; null when it never started. <see cref="JobId"/> is its recorded form.</summary>
    public AttemptHandle? Handle { get; init; }
    public string? JobId => Handle?.RecordedId;
    public string Host { get; init; } = System.Environment.MachineName;
    /// <summary>Why it did not complete, in words (signal, SLURM reason, spawn error).</summary>
    public string? Detail { get; init; }
    /// <summary>
    /// With <see cref="ExecState.LeftRunning"/>: the build stopped waiting because SLURM kept failing
    /// to answer, not by choice; the stage fails (KDG4003) while the job stays journalled.
    /// </summary>
    public bool LostContact { get; init; }
    /// <summary>With <see cref="ExecState.Cancelled"/>: a batch job someone else cancelled (scancel), not this build's Ctrl+C; <see cref="Detail"/> says so.</summary>
    public bool CancelledOutside { get; init; }
    /// <summary>The local executor: what the command left running when it exited (<see cref="Local.AttemptProcesses.StopGroup"/>).</summary>
    public LeftoverProcesses Leftovers { get; init; }
    /// <summary>What SLURM gave a batch job (the cluster's defaults for what the stage left unset): the base of an out-of-memory or time-limit retry. Null for the local executor.</summary>
    public Granted? Granted { get; init; }
    /// <summary>The KDG code for a NotStarted attempt when the executor knows better than "could not be started" (e.g. sbatch refused it).</summary>
    public string? ErrorCode { get; init; }
}

/// <summary>
/// Runs stage attempts. Implementations: local subprocesses, SLURM jobs. The engine owns
/// staleness, manifests and records; an executor only runs a command and reports how it went.
/// </summary>
internal interface IStageExecutor
{
    string Name { get; }
    /// <summary>How many attempts may run at once (the engine throttles to this).</summary>
    int MaxParallel { get; }
    /// <summary>
    /// True for batch executors (SLURM): an attempt is handed over at submission (OnStarted), so
    /// downstream attempts may be submitted before it ends, chained with <see cref="StageJob.AfterOk"/>.
    /// </summary>
    bool SubmitsAhead => false;
    /// <summary>Runs the attempt to its end. Cancellation must stop the work it started.</summary>
    Task<ExecutionResult> RunAsync(StageJob job, CancellationToken cancel);
    /// <summary>Called once at the end of a build (e.g. to tell what Ctrl+C did to submitted jobs).</summary>
    void Finish(Diagnostics.IBuildLog log, bool cancelled) { }
    /// <summary>Batch executors: stop a job an earlier build submitted that no longer matches its stage; false when that failed (it may still run).</summary>
    Task<bool> AbandonAsync(AttemptHandle handle) => Task.FromResult(true);
    /// <summary>Batch executors: the handle of a job submitted for this attempt id, if one exists (a build killed before journalling it).</summary>
    Task<AttemptHandle?> FindSubmittedAsync(string attemptId) => Task.FromResult<AttemptHandle?>(null);
    /// <summary>
    /// Batch executors: whether the journalled job id is still this attempt's job: false when the
    /// scheduler knows that id as another job (an id reused after the controller's state was wiped,
    /// or wrapped around), null when it cannot tell.
    /// </summary>
    Task<bool?> IsAttemptsJobAsync(string attemptId, AttemptHandle job, string jobName, string workDir) => Task.FromResult<bool?>(true);
    /// <summary>
    /// Batch executors: the longest time limit a job with these resources may have (its partition's
    /// MaxTime, in minutes; <see cref="Config.ResourceParser.UnlimitedMinutes"/> for none); null when
    /// not known. A TIMEOUT retry is given at most this (<see cref="RetryPolicy.WithinPartition"/>).
    /// </summary>
    Task<int?> MaxTimeMinutesAsync(Config.ResourceSpec resources) => Task.FromResult<int?>(null);
}
