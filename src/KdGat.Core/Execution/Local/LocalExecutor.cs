namespace KdGat.Core.Execution.Local;

/// <summary>
/// The embedded default: each attempt is /bin/sh -c in the stage's run dir, stdout and stderr to
/// its logs/, with wall time, CPU time, peak RSS and exit code from wait4. Ctrl+C kills the
/// attempt's whole process group; the stage stays stale. When the shell exits, what it left
/// running in its group is killed, as SLURM does at a job's end (KDG3016 says so).
/// </summary>
internal sealed class LocalExecutor : IStageExecutor
{
    private readonly TimeSpan _grace;
    private readonly TimeProvider _time;

    public LocalExecutor(int maxParallel, TimeSpan? killGrace = null, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        MaxParallel = Math.Max(1, maxParallel);
        _grace = killGrace ?? TimeSpan.FromSeconds(5);
    }

    public string Name => "local";
    public int MaxParallel { get; }

    public async Task<ExecutionResult> RunAsync(StageJob job, CancellationToken cancel)
    {
        var started = _time.GetUtcNow();
        if (!PosixSpawn.IsSupported)
            return new ExecutionResult { State = ExecState.NotStarted, ExitCode = -1, Started = started, Finished = started, Detail = "the local executor needs Linux (posix_spawn)" };
        Directory.CreateDirectory(Path.GetDirectoryName(job.StdoutPath)!);
        Directory.CreateDirectory(job.Instance.RunDir);
        ShellProcess.Outcome o;
        try
        {
            var command = job.TraceFile is null ? job.Command : Auditing.Strace.Wrap(job.Command, job.TraceFile);
            o = await ShellProcess.RunAsync(job.Instance.RunDir, command, job.StdoutPath, job.StderrPath,
                job.Environment.ToDictionary(kv => kv.Key, kv => (string?)kv.Value), _grace,
                pid => job.OnStarted?.Invoke(AttemptHandle.Process(pid)), cancel, _time).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            return new ExecutionResult { State = ExecState.NotStarted, ExitCode = -1, Started = started, Finished = _time.GetUtcNow(), Detail = e.Message };
        }
        // Outputs that something may still write are no result: the attempt fails (and is not retried).
        var survived = o.Leftovers == LeftoverProcesses.Survived;
        return new ExecutionResult
        {
            State = o.Cancelled ? ExecState.Cancelled : o.Exit.ExitCode == 0 && !survived ? ExecState.Completed : ExecState.Failed,
            ExitCode = o.Exit.ExitCode,
            Started = started,
            Finished = _time.GetUtcNow(),
            CpuSeconds = o.Exit.CpuSeconds,
            PeakRssKb = o.Exit.MaxRssKb,
            Handle = AttemptHandle.Process(o.Pid),
            Leftovers = o.Leftovers,
            Detail = o.Exit.Signal != 0 ? $"killed by signal {o.Exit.Signal}"
                : o.Exit.ExitCode == 125 ? "could not enter the run dir"
                : survived ? $"exit code {o.Exit.ExitCode}, but processes it left running in its process group {o.Pid} did not end on SIGKILL within 5 s (blocked in I/O, or not ours to kill), so its outputs could still change; find them with `ps -o pid,stat,cmd -g {o.Pid}`"
                : null,
        };
    }
}
