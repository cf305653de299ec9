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
        OutputFolders.Create(job.Instance);
        ShellProcess.Outcome o;
        var spawned = false;
        try
        {
            var command = job.TraceFile is null ? job.Command : Auditing.Strace.Wrap(job.Command, job.TraceFile);
            o = await ShellProcess.RunAsync(job.Instance.RunDir, command, job.StdoutPath, job.StderrPath,
                job.Environment.ToDictionary(kv => kv.Key, kv => (string?)kv.Value), _grace,
                pid => { spawned = true; job.OnStarted?.Invoke(AttemptHandle.Process(pid)); }, cancel, _time).ConfigureAwait(false);
        }
        // Refused for a login node's limit after the retries: a code of its own that names the limit (KDG3021-3023).
        catch (StartRefusedException e) when (!spawned)
        {
            return new ExecutionResult { State = ExecState.NotStarted, ExitCode = -1, Started = started, Finished = _time.GetUtcNow(), ErrorCode = e.Code, Detail = $"{job.Instance.Key}: {e.Message}" };
        }
        // A Ctrl+C while a refused start waited to be tried again: nothing ran.
        catch (OperationCanceledException) when (!spawned && cancel.IsCancellationRequested)
        {
            return new ExecutionResult { State = ExecState.Cancelled, ExitCode = -1, Started = started, Finished = _time.GetUtcNow(), Detail = "cancelled before its command could start" };
        }
        // Once it started, a file error (its pid not journalled on a full disk) is the stage's file error (KDG3007), not
        // "the command could not be started" (KDG3005, whose advice is to check the shell; a quota review).
        catch (IOException e) when (!spawned)
        {
            return new ExecutionResult { State = ExecState.NotStarted, ExitCode = -1, Started = started, Finished = _time.GetUtcNow(), Detail = e.Message };
        }
        // Outputs that something may still write are no result: the attempt fails (and is not retried).
        var survived = o.Leftovers == LeftoverProcesses.Survived;
        var cancelled = o.Cancelled || (o.Exit.Signal is SigHup or SigInt or SigTerm && await CancelledSoonAsync(cancel).ConfigureAwait(false));
        return new ExecutionResult
        {
            State = cancelled ? ExecState.Cancelled : o.Exit.ExitCode == 0 && !survived ? ExecState.Completed : ExecState.Failed,
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

    private const int SigHup = 1, SigInt = 2, SigTerm = 15;

    /// <summary>How long a stage killed by SIGHUP, SIGINT or SIGTERM waits for the build's cancel before it counts as failed.</summary>
    internal static readonly TimeSpan SignalCancelWindow = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A terminal's Ctrl+C goes to the whole foreground process group, and a stage spawned at that
    /// instant can get it before it is in a group of its own and before MSBuild has asked the task
    /// to cancel: it dies of the signal first. Such a death counts as cancelled when the build's
    /// cancel comes within a moment; it was "failed, exit code 130", with KDG3001 and a KDG3010
    /// that blamed it for the stages the cancel skipped (a user review, 1 Ctrl+C in 13).
    /// </summary>
    private async Task<bool> CancelledSoonAsync(CancellationToken cancel)
    {
        if (cancel.IsCancellationRequested) return true;
        try
        {
            await Time.Clock.Delay(_time, SignalCancelWindow, cancel).ConfigureAwait(false);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }
}
