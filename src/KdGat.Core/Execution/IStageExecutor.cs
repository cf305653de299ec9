using KdGat.Core.Config;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Execution;

/// <summary>One attempt of one stage instance, ready to hand to an executor.</summary>
public sealed record StageJob
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
    /// <summary>Called once the work exists outside this process ("pid:123", "slurm:456"), so the engine can journal it.</summary>
    public Action<string>? OnStarted { get; init; }
}

public enum ExecState { Completed, Failed, Cancelled, OutOfMemory, Timeout, NodeFail, Preempted, BootFail, NotStarted }

public sealed record ExecutionResult
{
    public required ExecState State { get; init; }
    public int ExitCode { get; init; }
    public DateTimeOffset Started { get; init; }
    public DateTimeOffset Finished { get; init; }
    public double WallSeconds => Math.Max(0, (Finished - Started).TotalSeconds);
    public double CpuSeconds { get; init; }
    public long PeakRssKb { get; init; }
    public string? JobId { get; init; }
    public string Host { get; init; } = System.Environment.MachineName;
    /// <summary>Why it did not complete, in words (signal, SLURM reason, spawn error).</summary>
    public string? Detail { get; init; }
}

/// <summary>
/// Runs stage attempts. Implementations: local subprocesses, SLURM jobs. The engine owns
/// staleness, manifests and records; an executor only runs a command and reports how it went.
/// </summary>
public interface IStageExecutor
{
    string Name { get; }
    /// <summary>How many attempts may run at once (the engine throttles to this).</summary>
    int MaxParallel { get; }
    /// <summary>Runs the attempt to its end. Cancellation must stop the work it started.</summary>
    Task<ExecutionResult> RunAsync(StageJob job, CancellationToken cancel);
}
