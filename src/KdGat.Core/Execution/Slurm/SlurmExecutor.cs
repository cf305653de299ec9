using System.Collections.Concurrent;
using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.IO;

namespace KdGat.Core.Execution.Slurm;

/// <summary>How the SLURM executor behaves for one build (-p:Wait, -p:CancelOnAbort, the config's slurm: section).</summary>
internal sealed record SlurmOptions
{
    public double PollSeconds { get; init; } = 5;
    public double MaxPollSeconds { get; init; } = 180;
    /// <summary>slurm.max_marker_seconds: the longest wait between two looks for done-markers.</summary>
    public double MaxMarkerSeconds { get; init; } = 30;
    public IReadOnlyList<string> Extra { get; init; } = [];
    /// <summary>False (-p:Wait=false): submit and return; a later build collects the jobs.</summary>
    public bool Wait { get; init; } = true;
    /// <summary>How messages name Wait=false: "-p:Wait=false", or the environment variable that set it (KDG1225).</summary>
    public string NoWaitSetting { get; init; } = "-p:Wait=false";
    /// <summary>False (-p:CancelOnAbort=false): Ctrl+C leaves the jobs running for a later build to re-attach.</summary>
    public bool CancelOnAbort { get; init; } = true;
    /// <summary>slurm.max_jobs: at most this many of the build's jobs submitted and not ended at once; 0: no limit.</summary>
    public int MaxJobs { get; init; }
    /// <summary>slurm.latency_wait: how long a COMPLETED job's outputs may take to appear here.</summary>
    public TimeSpan LatencyWait { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>Waits between output polls; null: the executor's clock (tests substitute one that does not sleep).</summary>
    public Func<TimeSpan, CancellationToken, Task>? Delay { get; init; }

    public static SlurmOptions From(SlurmConfig c, bool wait, bool cancelOnAbort, string noWaitSetting = "-p:Wait=false") =>
        new()
        {
            PollSeconds = c.PollSeconds, MaxPollSeconds = c.MaxPollSeconds, MaxMarkerSeconds = c.MaxMarkerSeconds, Extra = c.Extra, Wait = wait, CancelOnAbort = cancelOnAbort, NoWaitSetting = noWaitSetting,
            MaxJobs = c.MaxJobs, LatencyWait = TimeSpan.FromSeconds(c.LatencyWaitSeconds),
        };
}

/// <summary>
/// Runs each stage attempt as one SLURM job: writes the job script next to the attempt's logs,
/// submits it (chained with afterok on upstream jobs), reports the job id at once so the engine
/// journals it and submits downstream stages, then waits through the shared <see cref="JobWatcher"/>.
/// Ctrl+C cancels every job this build submitted with one scancel, unless CancelOnAbort is off.
/// A stage with <c>executor: local</c> runs on this machine instead; its downstream jobs are
/// submitted once it has ended.
/// </summary>
internal sealed class SlurmExecutor : IStageExecutor
{
    private readonly SlurmOptions _options;
    private readonly SlurmClient _client;
    private readonly JobWatcher _watcher;
    private readonly ConcurrentDictionary<string, string> _submitted = new(StringComparer.Ordinal); // id -> stage key
    private readonly ConcurrentDictionary<string, byte> _ended = new(StringComparer.Ordinal);
    private readonly Lazy<Local.LocalExecutor> _local = new(() => new Local.LocalExecutor(Environment.ProcessorCount));
    private int _aborted;
    private int _submitRetried;
    private readonly IBuildLog _log;
    private volatile Task<bool>? _cancelTask;

    public SlurmExecutor(SlurmOptions options, IBuildLog log, SlurmClient? client = null, TimeProvider? time = null)
    {
        _options = options;
        _log = log;
        _time = time ?? TimeProvider.System;
        _client = client ?? new SlurmClient(time: _time);
        _watcher = new JobWatcher(_client, new PollBackoff(options.PollSeconds, options.MaxPollSeconds), log, _time, options.MaxMarkerSeconds);
    }

    private readonly TimeProvider _time;

    public string Name => "slurm";
    /// <summary>
    /// The submission window: the engine holds a slot from submission to the job's end, so with
    /// slurm.max_jobs at most that many jobs are queued; the rest are submitted as jobs end. A stage
    /// is submitted only once its upstreams are (afterok), so every job in the window can run.
    /// Without max_jobs every stale stage is submitted at once and SLURM does the throttling.
    /// </summary>
    public int MaxParallel => _options.MaxJobs > 0 ? _options.MaxJobs : 100_000;
    public bool SubmitsAhead => true;

    public async Task<ExecutionResult> RunAsync(StageJob job, CancellationToken cancel)
    {
        var result = await RunJobAsync(job, cancel).ConfigureAwait(false);
        // Seen ended (or never made): from here on its script refuses to run again (JobScript.OpenPath), before
        // the outputs are taken or rolled back. A job left running keeps it for the build that collects it.
        if (result.State != ExecState.LeftRunning) Close(job);
        return result;
    }

    private static void Close(StageJob job)
    {
        try { File.Delete(JobScript.OpenPath(job)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // as before the file existed: a requeue could run it again
    }

    private async Task<ExecutionResult> RunJobAsync(StageJob job, CancellationToken cancel)
    {
        // A job an earlier build submitted for this very fingerprint is collected even if the stage now runs locally.
        if (job.Instance.Config.Executor == ExecutorKind.Local && job.AttachTo is not { IsBatchJob: true }) return await _local.Value.RunAsync(job, cancel).ConfigureAwait(false);
        var started = _time.GetUtcNow();
        string id;
        string? marker;
        var script = Path.ChangeExtension(job.StdoutPath, ".sbatch");
        if (job.AttachTo is { IsBatchJob: true } attached)
        {
            id = attached.Id;
            marker = JobScript.MarkerWrittenBy(script, JobScript.MarkerPath(job));
            _attached[id] = job.Instance.Key; // an earlier build's: Ctrl+C leaves it for the next build, as that build did
            job.OnStarted?.Invoke(attached);
        }
        else
        {
            if (cancel.IsCancellationRequested) return Ended(ExecState.Cancelled, null, started, "build cancelled before submission");
            marker = JobScript.MarkerPath(job);
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(job.StdoutPath)!);
                OutputFolders.Create(job.Instance);
                AtomicFile.WriteAllText(JobScript.OpenPath(job), job.AttemptId + "\n");
                AtomicFile.WriteAllText(script, JobScript.Render(job, _options.Extra));
                // Heartbeat lines name a job still being submitted as such, not as "still running".
                job.OnBatchState?.Invoke(Submitting);
                id = await _client.SubmitAsync(script, job.Instance.RunDir, job.AfterOk, JobScript.Comment(job.AttemptId), job.Instance.Key, CancellationToken.None,
                    request: job.Resources.Describe(), stopRetrying: cancel, onRetry: (n, why) => SubmitRetrying(job, n, why)).ConfigureAwait(false);
            }
            catch (KdgException e) when (e.Data[SlurmClient.MayHaveSubmitted] is true)
            {
                // A job may exist that nothing else tracks: the attempt's journal stays (no rollback), so
                // the next build looks the job up by its comment and re-attaches to it or cancels it.
                var said = e.Message.StartsWith(job.Instance.Key + ": ", StringComparison.Ordinal) ? e.Message[(job.Instance.Key.Length + 2)..] : e.Message; // the stage's line names it
                return Ended(ExecState.LeftRunning, null, started, said) with { LostContact = !cancel.IsCancellationRequested };
            }
            catch (KdgException e) when (cancel.IsCancellationRequested)
            {
                // Interrupted by the Ctrl+C (the lookup found no job): a cancel, not a refused request.
                return Ended(ExecState.Cancelled, null, started, $"build cancelled while the job was being submitted; SLURM lists no job of this attempt ({e.Message})");
            }
            catch (KdgException e)
            {
                return Ended(ExecState.NotStarted, null, started, e.Message) with { ExitCode = -1, ErrorCode = e.Code };
            }
            catch (OperationCanceledException)
            {
                return Ended(ExecState.Cancelled, null, started, "build cancelled while the job was being submitted; SLURM lists no job of this attempt, nothing was submitted");
            }
            _submitted[id] = job.Instance.Key;
            job.OnStarted?.Invoke(AttemptHandle.BatchJob(id)); // journalled before anything else can happen
            if (cancel.IsCancellationRequested && CancelsJobs)
            {
                Abort(); // the others; this one may have come after the scancel
                if (!await _client.CancelAsync([id]).ConfigureAwait(false)) return CancelFailed(id, started);
                _ended[id] = 1;
                return Ended(ExecState.Cancelled, id, started, $"job {id} cancelled (scancel)");
            }
        }

        if (!_options.Wait) return Ended(ExecState.LeftRunning, id, started, $"job {id} submitted; not waiting ({_options.NoWaitSetting})");
        using var registration = cancel.Register(Abort);
        JobStatus status;
        try
        {
            status = await _watcher.WaitAsync(id, cancel, marker, job.OnBatchState, job.Instance.Key).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The wait's own cancellation may run first and inline, disposing the registration above
            // before its callback ran: abort here too (it is idempotent).
            Abort();
            if (!CancelsJobs) return Ended(ExecState.LeftRunning, id, started, $"job {id} left running ({WhyLeft}); the next build re-attaches to it");
            if (_attached.ContainsKey(id)) return Ended(ExecState.LeftRunning, id, started, $"job {id} was submitted by an earlier build and is left as it was; the next build collects it");
            bool ok;
            lock (_submitted) ok = _cancelTask is null;
            ok = ok || await _cancelTask!.ConfigureAwait(false);
            if (!ok) return CancelFailed(id, started);
            switch (await CompletedBeforeCancelAsync(id).ConfigureAwait(false))
            {
                case true:
                    _ended[id] = 1;
                    _completedBeforeCancel[id] = 1;
                    return Ended(ExecState.LeftRunning, id, started, $"job {id} had already completed when the build was cancelled; the next build collects its result (checked as any job's) instead of running it again");
                case null:
                    _ended[id] = 1;
                    _undecidedAfterCancel[id] = 1;
                    return Ended(ExecState.LeftRunning, id, started, $"squeue failed after the scancel, so whether job {id} had completed before it is unknown; its attempt stays journalled: the next build collects its result if it completed (checked as any job's) and runs the stage again if not");
            }
            return Ended(ExecState.Cancelled, id, started, $"job {id} cancelled (scancel)");
        }
        _ended[id] = 1;
        if (status.State == JobWatcher.Unreachable) // the job may run on: nothing is rolled back or rerun under it; its journal stays for the next build
            return Ended(ExecState.LeftRunning, id, started, $"{status.Reason}; stopped waiting for job {id}, which is left as it is. " +
                "Check the SLURM client on this machine (`squeue`, or `sacct` for a job squeue no longer lists, by hand shows the error; sacct needs SLURM's accounting, slurmdbd); the next build re-attaches to the job or collects its result") with { LostContact = true };
        if (status.State == JobWatcher.NeverStarts)
        {
            var cancelledIt = await _client.CancelAsync([id]).ConfigureAwait(false);
            return Ended(ExecState.NotStarted, id, started,
                $"{job.Instance.Key}: SLURM job {id} can never start: it is pending with reason {status.Reason} ({NeverStartsMeaning(status.Reason)}). " +
                $"{(cancelledIt ? "It was cancelled." : $"scancel {id} failed: cancel it by hand.")} It asked for {job.Resources.Describe()}. " + (RaisedByRetry(job) is { } raised
                    // The stage's own request fitted: a retry after a time limit or out of memory asked for more (a review: the
                    // error told the user to fix resources it had not written, and named attempt 1's limit nowhere).
                    ? $"That is attempt {job.Attempt}, a retry after the attempt before it hit its limit (the KDG3009 line above), with {raised}, more than the partition lets one job have. " +
                      "The stage needs more than this partition gives: use a partition or qos with higher limits (`scontrol show partition`, `sacctmgr show qos`), or make the stage fit them (save checkpoints, use less memory); lowering retries only ends the build sooner."
                    : "Fix the stage's resources (time, cpus, mem, gpus, partition, account, qos, extra) in kdgat.yaml to fit what the partition allows " +
                      "(`scontrol show partition`, `sacctmgr show qos`), then build again.")) with { ExitCode = -1, ErrorCode = ErrorCodes.SlurmSubmitFailed };
        }
        var state = SlurmState.ToExecState(status.State, status.Reason);
        var late = state == ExecState.Completed ? job.Instance.Outputs.Where(o => !OutputWait.Exists(o)).ToArray() : [];
        if (state == ExecState.Completed)
            await OutputWait.UntilPresentAsync(job.Instance.RequiredOutputs, _options.LatencyWait, OutputWait.Exists, _options.Delay ?? ((d, c) => Time.Clock.Delay(_time, d, c)), cancel).ConfigureAwait(false);
        // This build's own scancel (Ctrl+C) ends the wait above by its cancellation: a cancelled job here was cancelled by someone else.
        var outside = state == ExecState.Cancelled && !cancel.IsCancellationRequested;
        return new ExecutionResult
        {
            State = state,
            CancelledOutside = outside,
            ExitCode = status.ExitCode,
            Started = status.Start ?? started,
            Finished = status.End ?? _time.GetUtcNow(),
            SlurmTimes = status.Start is { } start && status.End is { } end ? (start, end) : null,
            CpuSeconds = status.CpuSeconds,
            PeakRssKb = status.MaxRssKb,
            Granted = new(status.ReqMemMb, status.TimeLimitMinutes),
            EndMarker = marker,
            AppearedAfterEnd = late,
            // The script killed what the command left running before it wrote the marker: KDG3016, kept but not cached, as locally.
            Leftovers = JobScript.MarkerNamesLeftovers(marker) ? LeftoverProcesses.Killed : LeftoverProcesses.None,
            Handle = AttemptHandle.BatchJob(id),
            Host = status.Node ?? "slurm",
            Detail = state == ExecState.Completed ? null
                : outside ? $"job {id} was cancelled outside this build (scancel{(SlurmState.CancelledBy(status.State) is { } by ? $" by uid {by}" : "")}), elapsed {status.ElapsedSeconds:0} s"
                : $"SLURM job {id} {status.State}{(status.Reason is null ? "" : $" ({status.Reason})")}{(status.ExitCode != 0 ? $", exit code {status.ExitCode}" : "")}, elapsed {status.ElapsedSeconds:0} s", // OOM reports 0; TIMEOUT the batch step's signal (143)
        };
    }

    /// <summary>
    /// Whether a job had already completed when this build's scancel reached it. The watcher asks
    /// SLURM only every poll interval (up to slurm.max_poll_seconds), so a Ctrl+C can come after a
    /// job ended and before the build saw it end; such a job's result (hours of GPU time) is left
    /// for the next build to collect, as with -p:CancelOnAbort=false, instead of being run again.
    /// One squeue -t all for every job of the build, after the scancel (the controller keeps ended
    /// jobs for MinJobAge, 300 s by default); anything but COMPLETED there counts as cancelled.
    /// Null when that squeue failed: unknown, so the job is left for the next build (a review: a
    /// completed job's result was thrown away as cancelled).
    /// </summary>
    private async Task<bool?> CompletedBeforeCancelAsync(string id)
    {
        Task<Dictionary<string, JobStatus>?> look;
        lock (_submitted) look = _afterCancel ??= _client.SqueueAsync(_submitted.Keys.ToArray(), CancellationToken.None);
        return await look.ConfigureAwait(false) is not { } jobs ? null : jobs.GetValueOrDefault(id) is { } st && SlurmState.Normalize(st.State) == "COMPLETED";
    }

    /// <summary>
    /// scancel of this build's job failed (the controller restarting): the job may run on, so it is
    /// left journalled, never rolled back and forgotten. A review: the next build's attempt took the
    /// old job's output, written into its run dir, as its own: a stale result committed as current.
    /// The next build re-attaches to it (its result checked as any job's) or cancels it (KDG4009/KDG4010).
    /// </summary>
    private ExecutionResult CancelFailed(string id, DateTimeOffset started)
    {
        _ended[id] = 1;
        _cancelFailed[id] = 1;
        return Ended(ExecState.LeftRunning, id, started, $"scancel of job {id} failed, so the job may still run; its attempt stays journalled: the next build re-attaches to it or cancels it. To drop it now: scancel {id}");
    }

    private readonly ConcurrentDictionary<string, byte> _cancelFailed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _undecidedAfterCancel = new(StringComparer.Ordinal);

    private Task<Dictionary<string, JobStatus>?>? _afterCancel;
    private readonly ConcurrentDictionary<string, byte> _completedBeforeCancel = new(StringComparer.Ordinal);
    /// <summary>Jobs of earlier builds this build collects (id -> stage key): never cancelled by this build's Ctrl+C.</summary>
    private readonly ConcurrentDictionary<string, string> _attached = new(StringComparer.Ordinal);

    private ExecutionResult Ended(ExecState state, string? id, DateTimeOffset started, string detail) =>
        new() { State = state, Handle = id is null ? null : AttemptHandle.BatchJob(id), Started = started, Finished = _time.GetUtcNow(), Detail = detail, Host = "slurm" };

    /// <summary>What a retry raised above the stage's own resources ("time=4min where the stage asks for 2min"), or null.</summary>
    private static string? RaisedByRetry(StageJob job)
    {
        var (own, asked) = (job.Instance.Config.Resources, job.Resources);
        var raised = new List<string>();
        if (asked.MemMb is { } m && m != own.MemMb) raised.Add($"mem={m}M where the stage asks for {(own.MemMb is { } o ? $"{o}M" : "the cluster's default")}");
        if (asked.TimeMinutes is { } t && t != own.TimeMinutes) raised.Add($"time={ResourceSpec.TimeText(t)} where the stage asks for {(own.TimeMinutes is { } o ? ResourceSpec.TimeText(o) : "the partition's default")}");
        return job.Attempt > 1 && raised.Count > 0 ? string.Join(" and ", raised) : null;
    }

    private static string NeverStartsMeaning(string? reason) => reason switch
    {
        "PartitionTimeLimit" => "its time limit is above the partition's",
        "PartitionConfig" => "it asks for more than the partition's configuration allows one job (cpus, tasks, nodes, memory or time)",
        "BadConstraints" => "no node satisfies its constraints",
        "InvalidAccount" => "its account is not one it may use",
        "InvalidQOS" => "its qos is not one it may use",
        _ => "it asks for more than its QOS or account allows one job",
    };

    /// <summary>A cancel sends scancel: not with -p:CancelOnAbort=false, and not when the terminal hung up (<see cref="HangUp"/>).</summary>
    private bool CancelsJobs => _options.CancelOnAbort && !HangUp.Seen;

    private string WhyLeft => _options.CancelOnAbort ? "SIGHUP: the terminal closed, so they are kept for the next build" : "-p:CancelOnAbort=false";

    /// <summary>Idempotent (MSBuild calls Cancel many times): one scancel for every job of this build that has not ended.</summary>
    private void Abort()
    {
        if (!CancelsJobs) return;
        lock (_submitted)
        {
            if (Interlocked.Exchange(ref _aborted, 1) == 1) return;
            var ids = _submitted.Keys.Where(id => !_ended.ContainsKey(id)).ToArray();
            _cancelTask = _client.CancelAsync(ids);
        }
    }

    /// <summary>A job from an earlier build that no longer matches its stage: cancel it before the stage is decided again.</summary>
    public async Task<bool> AbandonAsync(AttemptHandle handle) =>
        !handle.IsBatchJob || await _client.CancelAsync([handle.Id]).ConfigureAwait(false);

    public Task<bool?> IsAttemptsJobAsync(string attemptId, AttemptHandle job, string jobName, string workDir) =>
        _client.IsAttemptsJobAsync(job.Id, attemptId, jobName, workDir, CancellationToken.None);

    public Task<int?> MaxTimeMinutesAsync(ResourceSpec resources) => _client.PartitionMaxTimeAsync(resources.Partition, CancellationToken.None);

    public async Task<AttemptHandle?> FindSubmittedAsync(string attemptId) =>
        await _client.FindAttemptAsync(attemptId, CancellationToken.None).ConfigureAwait(false) is { } id ? AttemptHandle.BatchJob(id) : null;

    /// <summary>
    /// A job of an earlier build that this build will not re-attach to (e.g. the stage now runs with
    /// the local executor) must not write into the run dir while the stage runs again. Found by its
    /// attempt comment, so a recycled job id is never cancelled; without SLURM there is nothing to do.
    /// </summary>
    /// <param name="missingToolsAnswer">
    /// True: no squeue on this machine counts as "no job" (a journalled job id: the build that submitted
    /// it ran here, so this machine's SLURM is the one it used). False: it counts as no answer (a
    /// submission SLURM never confirmed, looked up by a build of any executor: the job may be on a
    /// cluster this machine cannot ask).
    /// </param>
    /// <returns>
    /// Unknown: null when no job of the attempt can still write (none listed, ended, or cancelled; or no
    /// SLURM tools here at all, with <paramref name="missingToolsAnswer"/>); else why that is not known:
    /// squeue or scancel failed, and the job may still run. Cancelled: the job scancel was sent to.
    /// </returns>
    public static async Task<(string? Unknown, string? Cancelled)> CancelAttemptAsync(string attemptId, CancellationToken cancel, ICommandRunner? run = null, bool missingToolsAnswer = true)
    {
        var client = new SlurmClient(run);
        var (answered, id, error) = await client.LookUpAttemptAsync(attemptId, cancel, missingToolsAnswer).ConfigureAwait(false);
        if (!answered) return (error, null);
        if (id is null) return (null, null);
        // squeue -t all lists ended jobs too: only one that may still run is cancelled (and named so).
        if (await client.SqueueAsync([id], cancel).ConfigureAwait(false) is { } jobs && jobs.GetValueOrDefault(id) is { IsActive: false }) return (null, null);
        return await client.CancelAsync([id]).ConfigureAwait(false) ? (null, id) : ($"scancel {id} failed", null);
    }

    /// <summary>
    /// Status: one squeue for all, one sacct for the ones squeue no longer lists or lists as ended
    /// (squeue has no exit code: an ended job read "exit code 0" however it died); null when SLURM
    /// cannot be asked. An ended job sacct does not know yet keeps squeue's row.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, JobStatus>?> QueryAsync(IEnumerable<AttemptHandle> handles, CancellationToken cancel)
    {
        var ids = handles.Where(h => h.IsBatchJob).Select(h => h.Id).Distinct().ToArray();
        if (ids.Length == 0) return new Dictionary<string, JobStatus>();
        var client = new SlurmClient();
        var live = await client.SqueueAsync(ids, cancel).ConfigureAwait(false);
        if (live is null) return null;
        var ended = ids.Where(id => live.GetValueOrDefault(id) is not { IsActive: true }).ToArray();
        var done = ended.Length == 0 ? new Dictionary<string, JobStatus>() : await client.SacctAsync(ended, cancel).ConfigureAwait(false);
        if (done is null) return null;
        foreach (var (id, st) in done)
            if (!live.ContainsKey(id) || !st.IsActive) live[id] = st; // not sacct's lagging "RUNNING" over squeue's end
        return live;
    }

    /// <summary>The state a job has from its sbatch call to its first poll (not a SLURM state).</summary>
    internal const string Submitting = "SUBMITTING";

    private void SubmitRetrying(StageJob job, int nextTry, string why)
    {
        job.OnBatchState?.Invoke($"{Submitting} (sbatch try {nextTry}; the last: {why})");
        if (Interlocked.Exchange(ref _submitRetried, 1) == 0)
            _log.Warn(ErrorCodes.SlurmQueryRetry, $"KdGat: {job.Instance.Key}: sbatch failed ({why}); retrying with backoff, up to 6 rounds a job. A job a failed try created is found by its comment and kept, never submitted twice: before each new sbatch SLURM is asked again, and a round it does not answer submits nothing. The progress lines name the jobs still being submitted.");
    }

    public void Finish(IBuildLog log, bool cancelled)
    {
        var (open, list) = Named(_submitted, id => !_ended.ContainsKey(id));
        if (cancelled && open > 0)
        {
            if (CancelsJobs)
                log.Warn(ErrorCodes.SlurmJobsCancelled, $"KdGat: cancelled: scancel sent to the {open} SLURM job(s) this build submitted ({list}). The stages stay stale and are submitted again by the next build. Use -p:CancelOnAbort=false to leave jobs running instead.");
            else
                log.Warn(ErrorCodes.SlurmJobsLeftRunning, $"KdGat: cancelled: {open} SLURM job(s) were LEFT RUNNING ({WhyLeft}): {list}. Build again to re-attach to them and collect their results; scancel them to drop them.");
        }
        else if (!_options.Wait && open > 0)
            log.Warn(ErrorCodes.SlurmJobsLeftRunning, $"KdGat: submitted {open} SLURM job(s) and did not wait ({_options.NoWaitSetting}): {list}. Build again later to collect their results (it re-attaches instead of resubmitting).");
        var (completed, completedList) = Named(_submitted, _completedBeforeCancel.ContainsKey);
        if (cancelled && completed > 0) // after the if/else above: one more line, never instead of one
            log.Warn(ErrorCodes.SlurmJobsLeftRunning, $"KdGat: cancelled: {completed} SLURM job(s) had already completed before the cancel reached them: {completedList}. Build again to collect their results (they are not run again).");
        var (failed, failedList) = Named(_submitted, _cancelFailed.ContainsKey);
        if (cancelled && failed > 0)
            log.Warn(ErrorCodes.SlurmJobsLeftRunning, $"KdGat: cancelled: scancel FAILED for {failed} SLURM job(s) this build submitted, which may still run: {failedList}. Their attempts stay journalled: the next build re-attaches to them (their results checked as any job's) or cancels them; scancel them by hand to drop them now.");
        var (undecided, undecidedList) = Named(_submitted, _undecidedAfterCancel.ContainsKey);
        if (cancelled && undecided > 0)
            log.Warn(ErrorCodes.SlurmJobsLeftRunning, $"KdGat: cancelled: squeue failed after the scancel, so whether {undecided} SLURM job(s) had completed before it is unknown: {undecidedList}. Build again: it collects the results of those that completed and runs the others again.");
        var (uncollected, uncollectedList) = Named(_attached, id => !_ended.ContainsKey(id));
        if ((cancelled || !_options.Wait) && uncollected > 0)
            log.Warn(ErrorCodes.SlurmJobsLeftRunning, $"KdGat: {(cancelled ? "cancelled" : $"did not wait ({_options.NoWaitSetting})")}: {uncollected} SLURM job(s) of an earlier build this build was collecting are left as they were: {uncollectedList}. Build again to collect them; scancel them to drop them.");
    }

    /// <summary>The jobs of <paramref name="jobs"/> (id -> stage key) that <paramref name="selected"/> takes, as "stage=id, ..." in stage order.</summary>
    private static (int Count, string List) Named(IEnumerable<KeyValuePair<string, string>> jobs, Func<string, bool> selected)
    {
        var named = jobs.Where(kv => selected(kv.Key)).OrderBy(kv => kv.Value, StringComparer.Ordinal).Select(kv => $"{kv.Value}={kv.Key}").ToArray();
        return (named.Length, string.Join(", ", named));
    }
}
