using System.Text.Json;
using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.IO;
using KdGat.Core.Hashing;
using KdGat.Core.Locking;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;
using KdGat.Core.Tracking;

namespace KdGat.Core.Engine;

/// <summary>
/// Brings one stage instance up to date once its upstreams have ended: lock, recover a crashed
/// attempt, decide from content, run (with retries) under the output guard, then write the
/// manifest and an immutable run record.
/// </summary>
internal sealed partial class InstanceRunner
{
    private readonly BuildContext _ctx;
    public InstanceRunner(BuildContext ctx)
    {
        _ctx = ctx;
        Finishing = ctx.Planner.Fingerprinter.Rechecking;
    }

    /// <summary>
    /// Hashes a Ctrl+C does not cut short: those of an attempt whose command has ended (its commit) and
    /// after a commit. A cancel there would throw a finished run away, hours of training for seconds of
    /// hashing; the checks before a stage runs hash with the build's cancel (<see cref="Planning.Planner"/>).
    /// They do not trust a hash cache row read in the tick of its file's last change (<see cref="Planning.Fingerprinter.Rechecking"/>).
    /// </summary>
    private Planning.Fingerprinter Finishing { get; }

    /// <param name="ups">The upstreams' progress: a batch executor may submit this instance while they still run.</param>
    /// <param name="self">Where this instance signals its own submission to its downstream.</param>
    public async Task<InstanceResult> RunAsync(StageInstance s, IReadOnlyList<InstanceProgress> ups, InstanceProgress self)
    {
        var chain = await ResolveAsync(ups).ConfigureAwait(false);
        // A stage that runs on this machine (executor: local) in a SLURM build cannot be chained after a job: it waits for its
        // upstreams' jobs to end. It ran at once on their outputs, moved aside for those jobs, and was committed (a review).
        if (chain.Pending.Count > 0 && s.Config.Executor == ExecutorKind.Local && _ctx.Mode != BuildMode.Explain)
        {
            chain = await ResolveAsync(ups, untilEnded: true).ConfigureAwait(false);
            if (chain.Pending.FirstOrDefault() is { } running) // Wait=false: the job is left running
                return new InstanceResult(s, Outcome.Skipped, [new("upstream-submitted",
                    $"upstream {running.Progress.Instance.Name} is still running as SLURM job {running.JobId} ({_ctx.NoWaitSetting}), and {s.Name} runs on this machine (executor: local), so it runs in the build that collects that job")]);
        }
        var upstream = chain.Finals;
        var blocked = upstream.FirstOrDefault(u => u.OutputsDigest is null && !u.WouldChange);
        if (blocked is not null)
            return new InstanceResult(s, Outcome.Skipped, [new("upstream-failed", $"upstream {blocked.Instance.Name} {blocked.Outcome}")]);
        if (_ctx.Cancel.IsCancellationRequested)
            return new InstanceResult(s, Outcome.Cancelled, [new("cancelled", "build cancelled before it started")]);

        try
        {
            if (_ctx.Mode == BuildMode.Explain) return Explain(s, upstream);
            if (UpToDateWithoutLock(s, upstream, chain) is { } current) return current;
        }
        catch (OperationCanceledException)
        {
            return new InstanceResult(s, Outcome.Cancelled, [new("cancelled", "build cancelled")]); // while its inputs were hashed: nothing changed
        }

        StageLock? stageLock = null;
        OutputGuard? guard = null;
        var holder = false;
        try
        {
            if (_ctx.LockHolders is { } holders)
            {
                await holders.AcquireAsync(_ctx.Cancel).ConfigureAwait(false);
                holder = true;
            }
            guard = new OutputGuard(s);
            stageLock = await StageLock.AcquireAsync(guard.LockFile,
                holder => _ctx.Log.Warn(ErrorCodes.LockWait, $"{s.Key}: waiting for the stage lock held by {holder}; this build goes on when that one is done with the stage (and then finds it up to date if it succeeded). Nothing to do (Ctrl+C stops this build as always: what it finished is kept)"), _ctx.Cancel, time: _ctx.Time).ConfigureAwait(false);
            await RecoverFormerPointAttemptsAsync(s).ConfigureAwait(false);
            var attach = await ReattachableAsync(s, guard, chain).ConfigureAwait(false);
            if (attach is null && await guard.RecoverIfNeededAsync().ConfigureAwait(false) is { } recovered)
            {
                _ctx.Log.Warn(ErrorCodes.RecoveredAttempt, recovered);
                _ctx.Progress.Recovered();
            }
            if (_ctx.Mode == BuildMode.Adopt) return Adopt(s, upstream);
            if (chain.Pending.Count == 0 && attach is null) return await DecideAndRunAsync(s, guard, upstream, self).ConfigureAwait(false);
            return await RunAttemptsAsync(s, guard, Provisional(s, chain, attach), chain, attach, self).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return new InstanceResult(s, Outcome.Cancelled, [new("cancelled", "build cancelled")]);
        }
        catch (KdgException e)
        {
            // An attempt this build began goes back now, as after a file error below (else Status calls it interrupted until the next build).
            await RollBackOwnAttemptAsync(guard).ConfigureAwait(false);
            return new InstanceResult(s, Outcome.Failed, []) { Error = e.Message, ErrorCode = e.Code, ErrorAt = e.File == s.Layout.Config.File && e.Line > 0 ? (e.Line, e.Column) : null };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A filesystem problem (disk full, permissions, a stale NFS handle) fails this stage only.
            // Nothing was committed: the stage stays stale, and the previous result goes back now (else
            // its journal makes the next build put it back first).
            await RollBackOwnAttemptAsync(guard).ConfigureAwait(false);
            return new InstanceResult(s, Outcome.Failed, [])
            {
                Error = $"{s.Key}: file operation failed: {e.Message.TrimEnd('.')}. Check free space and permissions where it names (the run dir is {PathText.ToStored(s.Layout.Root, s.RunDir)}), then build again.{GroupAccess.Advice(e, s.Layout.Root)}",
                ErrorCode = ErrorCodes.StageIoError,
            };
        }
        finally
        {
            stageLock?.Dispose();
            if (holder) _ctx.LockHolders!.Release();
        }
    }

    /// <summary>
    /// After a file operation failed (params.json, a job script or the manifest not written on a full
    /// disk): an attempt this build began is rolled back here, as a failed one is, so the run dir holds
    /// the previous result again and Status does not call it interrupted (a crash-injection review:
    /// only the next build put it back). A local attempt is stopped and rolled back. A SLURM submission
    /// with no job id journalled (the script could not be written, or sbatch's answer was lost) has its
    /// job looked up by comment and cancelled first (a SLURM review: every SLURM attempt had kept its
    /// journal). Both are what the next build's recovery does, so recovery does it now. A job with an
    /// id may still write, or has completed: its journal stays for the next build to re-attach to or collect.
    /// </summary>
    private async Task RollBackOwnAttemptAsync(OutputGuard? guard)
    {
        try
        {
            if (guard?.ReadJournal() is not { BuildId: var own } e || own != _ctx.BuildId || e.StartedAs is { IsBatchJob: true }) return;
            await guard.RecoverIfNeededAsync().ConfigureAwait(false);
        }
        // The journal stays and the next build recovers: a second file error, or SLURM that cannot answer for the submission (KDG4010).
        catch (Exception again) when (again is IOException or UnauthorizedAccessException or KdgException) { }
    }

    /// <summary>
    /// The no-op fast path: an instance that is up to date is reported so without taking its stage
    /// lock (a lock file opened and flocked, an owner file written and deleted, per instance). Anything
    /// else returns null and is decided again from scratch under the lock.
    /// Sound because the lock only orders builds that change the instance, and every change goes
    /// through the journalled attempt protocol (<see cref="OutputGuard"/>): with no journal and no
    /// aside dir before and after the check, the check read a committed manifest and outputs, and it
    /// finds "up to date" only when the fingerprint (inputs, code, params, env, upstream digests of
    /// this build) equals the manifest's and every output hashes to what the manifest recorded. A
    /// concurrent attempt that begins or commits while we read makes the outputs or the manifest
    /// differ (stale: decided under the lock) or is visible as a journal afterwards (decided under
    /// the lock); an attempt whose committed result equals what we read leaves the verdict true. So
    /// "up to date" here is what a check under the lock at the moment of the first read would say,
    /// the same guarantee as the locked check (a file edited after the check is the next build's).
    /// Only a plain build: Adopt, Audit and batch chains (upstream jobs pending) take the lock.
    /// </summary>
    private InstanceResult? UpToDateWithoutLock(StageInstance s, IReadOnlyList<InstanceResult> upstream, Chain chain)
    {
        if (_ctx.Mode != BuildMode.Build || chain.Pending.Count > 0 || _ctx.Audit?.Selects(s) == true) return null;
        var guard = new OutputGuard(s);
        if (!guard.NothingToRecover) return null;
        Verdict v;
        try
        {
            // No warning for a damaged manifest here: stale, so the locked path checks again and warns once.
            v = _ctx.Planner.Check(s, upstream.ToDictionary(u => u.Instance.Name, u => u.OutputsDigest!));
        }
        catch (Exception e) when (e is KdgException or IOException or UnauthorizedAccessException)
        {
            return null; // e.g. a missing input: the locked path reports it
        }
        if (!v.UpToDate || !guard.NothingToRecover || HasUnsweptResult(s)) return null; // the locked path retires it
        return new InstanceResult(s, Outcome.UpToDate, []) { OutputsDigest = v.Previous!.OutputsDigest };
    }

    /// <summary>Every upstream has ended: up to date, restore from the cache, or run.</summary>
    /// <param name="attemptsBefore">Attempts this build already made (a job SLURM cancelled for its upstream): numbering goes on, the retry budget does not shrink.</param>
    private async Task<InstanceResult> DecideAndRunAsync(StageInstance s, OutputGuard guard, IReadOnlyList<InstanceResult> upstream, InstanceProgress self, int attemptsBefore = 0)
    {
        var verdict = Check(s, upstream);
        if (_ctx.Audit?.Selects(s) == true) // an audit must see the stage run: not up to date, not restored
            return await RunAttemptsAsync(s, guard, verdict with { Reasons = [.. verdict.Reasons, new("audit", "audited: run under strace")] }, Chain.None, null, self, attemptsBefore).ConfigureAwait(false);
        if (verdict.UpToDate)
        {
            // A point up to date without a commit of this build (its result put back by recovery) retires the unswept
            // result above it too: left there, its metrics.json sat above the points as the stage's (a review).
            RetireUnsweptResult(s);
            return new InstanceResult(s, Outcome.UpToDate, []) { OutputsDigest = verdict.Previous!.OutputsDigest };
        }
        return TryRestore(s, guard, verdict) ?? await RunAttemptsAsync(s, guard, verdict, Chain.None, null, self, attemptsBefore).ConfigureAwait(false);
    }

    private Verdict Check(StageInstance s, IReadOnlyList<InstanceResult> upstream) =>
        _ctx.Planner.Check(s, upstream.ToDictionary(u => u.Instance.Name, u => u.OutputsDigest!),
            problem => _ctx.Log.Warn(ErrorCodes.CorruptManifest, $"{s.Key}: manifest is damaged ({problem}); it is ignored and the stage is brought up to date again (run, or restored from the output cache).", s.ManifestPath));

    /// <summary>
    /// Explain, for an instance whose upstreams run first: what makes it stale besides them (a code file,
    /// a parameter, no manifest): its check without the upstream reasons. Explain said
    /// only "upstream X is not up to date" where the build then said "code file changed", so a user read
    /// that it runs only if X's outputs change (a first-contact review). Nothing where that cannot be told
    /// now (an input an upstream writes is missing).
    /// </summary>
    private IReadOnlyList<StaleReason> OwnReasons(StageInstance s, IReadOnlyList<InstanceResult> upstream)
    {
        try
        {
            // A rerunning upstream's digest is not known yet: any placeholder only adds an "upstream" reason, left out.
            var digests = upstream.ToDictionary(u => u.Instance.Name, u => !u.WouldChange && u.OutputsDigest is { } now ? now : "");
            return _ctx.Planner.Check(s, digests).Reasons.Where(r => r.Kind != "upstream").ToArray();
        }
        catch (Exception e) when (e is KdgException or IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private InstanceResult Explain(StageInstance s, IReadOnlyList<InstanceResult> upstream)
    {
        var rerunning = upstream.Where(u => u.WouldChange).ToArray();
        if (rerunning.Length > 0)
            return new InstanceResult(s, Outcome.WouldRun, [.. OwnReasons(s, upstream), .. Planner.UpstreamsNotUpToDate(rerunning.Select(u => u.Instance.Name))]);
        if (RawData.Missing(s) is { } missing) // a missing dataset is an outcome here, not a failed Explain
            return new InstanceResult(s, Outcome.WouldRun, [missing]);
        try
        {
            var pending = new OutputGuard(s).PendingRecoveryView();
            var v = pending is { } view ? AfterRecovery(s, upstream, view) : Check(s, upstream);
            // Its previous result goes to unrecovered/, which is no "never run" (Status names the folder; a review).
            if (pending?.KeptAt is { } kept) v = v with { Reasons = [StaleReason.Unrecovered(kept)] };
            if (v.UpToDate) return new InstanceResult(s, Outcome.UpToDate, []) { OutputsDigest = v.Previous!.OutputsDigest, Fingerprint = v.Fingerprint };
            return CachedEntry(s, v) is { } hit
                ? new InstanceResult(s, Outcome.WouldRestore, [.. v.Reasons, RestoredReason(hit, wouldBe: true)]) { OutputsDigest = OutputsDigest(s, RestoredOutputs(s, hit, EntryTargets(s, hit)!)), Fingerprint = v.Fingerprint }
                : new InstanceResult(s, Outcome.WouldRun, v.Reasons) { Fingerprint = v.Fingerprint };
        }
        catch (KdgException e) when (e.Code == ErrorCodes.InputMissing)
        {
            return new InstanceResult(s, Outcome.WouldRun, [new("input-missing", e.Message)]);
        }
        catch (KdgException e) when (e.Code == ErrorCodes.FileAccess)
        {
            // A declared file this user may not read: not up to date for all Explain can tell; the build
            // fails this instance (and what needs it) with the error, not the whole plan (a review).
            return new InstanceResult(s, Outcome.WouldRun, [new("unreadable", e.Message)]);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
        {
            // Another build's attempt committed or rolled back while this looked (its aside/ went away
            // mid-walk): a plan then failed the whole build with KDG1207 (found by review). Explain has
            // no lock; the build decides again under it.
            return new InstanceResult(s, Outcome.WouldRun, [new("changing", $"another build changed it while it was checked ({e.Message})")]);
        }
    }

    /// <summary>
    /// Explain with an interrupted attempt's journal: the verdict for what recovery will leave
    /// (the previous manifest and outputs, wherever they now are), not for the half-moved run dir.
    /// </summary>
    private Verdict AfterRecovery(StageInstance s, IReadOnlyList<InstanceResult> upstream, (string ManifestPath, IReadOnlyList<string> Outputs, string ParamsPath, string? KeptAt) view) =>
        _ctx.Planner.Against(s, upstream.ToDictionary(u => u.Instance.Name, u => u.OutputsDigest!), view.ManifestPath, view.Outputs, view.ParamsPath);

    /// <summary>One attempt as it ended: what ran, how, and where its log is.</summary>
    /// <param name="Seen">The identities of what it reads as the attempt started or was submitted (<see cref="Planning.Fingerprinter.Snapshot"/>): asked again when it ends (KDG3020).</param>
    /// <param name="ChainedOn">A collected job of an earlier build: each upstream as it was submitted against (its journal's <c>Upstream</c>).</param>
    private sealed record AttemptRun(int Number, bool Attaching, ResourceSpec Resources, StageJob Job, ExecutionResult Result, string Log, IReadOnlyDictionary<string, string> Seen,
        IReadOnlyDictionary<string, string>? ChainedOn = null);

    /// <param name="chain">Upstreams still running as batch jobs: this attempt is chained after them (afterok).</param>
    /// <param name="attach">A job of an interrupted build to collect as the first attempt instead of submitting one.</param>
    private async Task<InstanceResult> RunAttemptsAsync(StageInstance s, OutputGuard guard, Verdict verdict, Chain chain, OutputGuard.BatchAttempt? attach, InstanceProgress self, int attemptsBefore = 0)
    {
        var attempt = attach is not null ? attach.Attempt - 1 : attemptsBefore;
        var resources = s.Config.Resources;
        var totalSeconds = 0.0;
        var ownFingerprint = _ctx.Executor.SubmitsAhead ? OwnFingerprint(s) : null;
        while (true)
        {
            attempt++;
            var run = await RunAttemptAsync(s, guard, verdict, chain, attach, self, attempt, resources, ownFingerprint).ConfigureAwait(false);
            totalSeconds += run.Result.WallSeconds;
            var (result, settled, retryWith) = await DecideAsync(s, guard, verdict, chain, self, run, totalSeconds, attemptsBefore).ConfigureAwait(false);
            if (result is not null) return result;
            verdict = settled;
            resources = retryWith!;
            if (chain.Pending.Count > 0)
            {
                // The upstream jobs this attempt was chained on may be retried too, as new jobs: a retry chained on the
                // old ones (ended) started at once, read the upstream's run dir while its retry had the outputs aside, and
                // failed, blamed on the stage (a review). The retry waits for the upstreams' final results instead.
                var finals = await chain.AllFinalsAsync().ConfigureAwait(false);
                if (finals.FirstOrDefault(f => f.OutputsDigest is null) is { } failed)
                    return new InstanceResult(s, Outcome.Skipped, [new("upstream-failed", $"attempt {attempt} ended {run.Result.State} and upstream {failed.Instance.Name} {failed.Outcome}, so it was not retried")])
                        { Log = run.Log, Handle = run.Result.Handle, Attempts = attempt };
                verdict = Check(s, finals);
                if (verdict.UpToDate) return new InstanceResult(s, Outcome.UpToDate, []) { OutputsDigest = verdict.Previous!.OutputsDigest };
                chain = Chain.None;
            }
        }
    }

    /// <summary>Starts (or re-attaches to) one attempt under the output guard and waits for its end.</summary>
    private async Task<AttemptRun> RunAttemptAsync(StageInstance s, OutputGuard guard, Verdict verdict, Chain chain, OutputGuard.BatchAttempt? attach, InstanceProgress self,
        int attempt, ResourceSpec resources, string? ownFingerprint)
    {
        var attaching = attach is not null && attempt == attach.Attempt;
        // Unique per instance, not only per build: recovery and Abort stop every process carrying it.
        var attemptId = attaching ? attach!.AttemptId : RecordId(s, attempt);
        var logStem = (attaching ? ExistingLogStem(s, attemptId) : null) ?? Path.Combine(s.LogDir, $"{Time.Clock.Stamp(_ctx.Time)}-{attemptId}");
        var job = new StageJob
        {
            Instance = s,
            Command = StageSetup.Prefix(s.Config.Setup, s.RenderCommand()),
            StdoutPath = logStem + ".out",
            StderrPath = logStem + ".err",
            AttemptId = attemptId,
            Attempt = attempt,
            Resources = resources,
            Environment = StageEnvironment.WithPythonBytecodeRule(new Dictionary<string, string>
            {
                ["KDGAT_ATTEMPT_ID"] = attemptId,
                ["KDGAT_DATASET"] = s.Dataset,
                ["KDGAT_STAGE"] = s.Name,
                ["KDGAT_VARIANT"] = s.Variant,
                ["KDGAT_RUN_DIR"] = s.RunDir,
            }, System.Environment.GetEnvironmentVariable),
            OnStarted = handle =>
            {
                guard.Started(handle, RecordId(s, attempt), _ctx.BuildId);
                _ctx.Progress.JobStarted(s, handle);
                if (_ctx.Executor.SubmitsAhead && handle.IsBatchJob) self.Submitted(handle.Id, fresh: !attaching);
            },
            OnBatchState = state => _ctx.Progress.JobState(s, state),
            AfterOk = chain.JobIds,
            AttachTo = attaching ? attach!.Handle : null,
            TraceFile = _ctx.Audit?.Selects(s) == true ? Auditing.Auditor.TraceFileFor(logStem) : null,
        };

        ExecutionResult result;
        IReadOnlyDictionary<string, string> seen;
        await _ctx.Slots.AcquireAsync(_ctx.Cancel).ConfigureAwait(false);
        try
        {
            // A job an earlier build submitted is judged by what it saw then (its journal), else by what is there now.
            seen = attaching && attach!.Seen is { } noted ? noted : WithUpstreamMarks(s, chain, _ctx.Planner.Fingerprinter.Snapshot(s, verdict.Current));
            // A stage with executor: local in a SLURM build runs here: it is running, not submitted.
            var submits = _ctx.Executor.SubmitsAhead && s.Config.Executor != ExecutorKind.Local;
            // An upstream another build is rerunning or restoring right now has its outputs aside: the stage would read
            // none of them and be discarded when it ends (KDG3017), after hours of training. Not started instead.
            if (!attaching && UpstreamInAnotherBuildsAttempt(s, seen) is { } busy)
                return new AttemptRun(attempt, attaching, resources, job, new ExecutionResult
                {
                    State = ExecState.NotStarted, ErrorCode = ErrorCodes.UpstreamChangedDuringRun,
                    Detail = $"{s.Key}: its upstream {busy.Name} is being rerun or restored by another build of this pipeline now ({busy.Mark}), so its outputs are not there to read; the stage was not started and its previous result, if any, is kept. Build again when that build has finished; run one build of a dataset at a time.",
                }, PathText.ToStored(s.Layout.Root, job.StderrPath), seen);
            if (!attaching)
            {
                _ctx.Archive.Capture([s]); // the manifest about to be replaced stays queryable (History)
                // The upstream digests the verdict was decided with: job:ID for an upstream still running as a job (Provisional).
                // Submits: a journal left without a job id (sbatch killed, SLURM unsure) is looked up by any later build.
                guard.Begin(attemptId, RecordId(s, attempt), _ctx.BuildId, ownFingerprint, attempt, ownFingerprint is null ? null : verdict.Current.Upstream, ownFingerprint is null ? null : seen, submits, _ctx.Cancel);
                WriteParams(s);
            }
            _ctx.Progress.Started(s, attaching ? "collecting" : submits ? "submitting" : "running", attempt, verdict.Reasons.Select(r => r.Text));
            result = await _ctx.Executor.RunAsync(job, _ctx.Cancel).ConfigureAwait(false);
        }
        finally
        {
            _ctx.Progress.Stopped(s);
            _ctx.Slots.Release();
        }
        if (job.TraceFile is not null && result.State != ExecState.NotStarted) _ctx.Audit!.Inspect(s, job.TraceFile, _ctx.Log);
        return new AttemptRun(attempt, attaching, resources, job, result, PathText.ToStored(s.Layout.Root, job.StderrPath), seen, attaching ? attach!.Upstream : null);
    }

    /// <summary>
    /// What an ended attempt means: ran (committed), failed, cancelled, skipped or left running
    /// (a result), or retry with more resources (null result, <c>RetryWith</c>). <c>Settled</c> is
    /// the verdict from here on (the real fingerprint once chained upstream jobs have ended).
    /// </summary>
    private async Task<(InstanceResult? Result, Verdict Settled, ResourceSpec? RetryWith)> DecideAsync(StageInstance s, OutputGuard guard, Verdict verdict, Chain chain,
        InstanceProgress self, AttemptRun run, double totalSeconds, int attemptsBefore)
    {
        var (attempt, result, log) = (run.Number, run.Result, run.Log);
        var memMb = run.Resources.MemMb;
        // The end-of-run check reads again what was hashed in the tick of its last change (Finishing): files read from here
        // on, the margin after they changed, are settled for the rest of the build.
        if (result.State == ExecState.Completed) _ctx.Planner.Cache?.Reprobe();
        if (result.Leftovers == LeftoverProcesses.Killed)
            _ctx.Log.Report(StageDiagnostic.At(s, Severity.Warning, ErrorCodes.LeftoversKilled,
                $"{s.Key}: the command exited but left processes running; they were killed (as SLURM ends a job's processes with its script), so nothing writes an output after it was hashed. If the command starts work in the background (`&`), end it with `wait`. Log: {log}"));
        if (result.State == ExecState.LeftRunning && result.LostContact) // a failure of the build, not of the stage: no record, the journal stays
            return (new InstanceResult(s, Outcome.Failed, verdict.Reasons) { Log = log, Attempts = attempt, Handle = result.Handle, Error = $"{s.Key}: {result.Detail}", ErrorCode = ErrorCodes.SlurmUnavailable }, verdict, null);
        if (result.State == ExecState.LeftRunning)
            return (_ctx.Cancel.IsCancellationRequested
                ? new InstanceResult(s, Outcome.Cancelled, verdict.Reasons) { Log = log, Attempts = attempt, Handle = result.Handle, Error = $"{s.Key}: {result.Detail}", ErrorCode = ErrorCodes.StageCancelled, JobLeftRunning = true }
                : new InstanceResult(s, Outcome.Submitted, verdict.Reasons) { Log = log, Attempts = attempt, Handle = result.Handle }, verdict, null);
        if (result.State == ExecState.UpstreamFailed)
        {
            guard.Abort();
            Record(s, verdict, result, attempt, Outcome.Cancelled, log, [], memMb, result.Detail);
            return (await AfterDependencyCancelAsync(s, guard, chain, result, self, attempt).ConfigureAwait(false), verdict, null);
        }
        if (result.State == ExecState.Completed && chain.Pending.Count > 0)
        {
            var (settled, failedUpstream) = await SettleAsync(s, verdict, chain, run.Seen).ConfigureAwait(false);
            if (settled is null)
            {
                guard.Abort();
                var why = $"upstream {failedUpstream!.Instance.Name} {failedUpstream.Outcome} after job {result.JobId} had started on its outputs";
                Record(s, verdict, result, attempt, Outcome.Cancelled, log, [], memMb, why);
                return (new InstanceResult(s, Outcome.Skipped, [new("upstream-failed", why)]) { Log = log, Handle = result.Handle, Attempts = attempt }, verdict, null);
            }
            verdict = settled;
        }

        // A command that exited 0 whose result is not taken: the previous result is put back, the attempt recorded as failed.
        (InstanceResult?, Verdict, ResourceSpec?) Rejected(string why, string code, (int, int)? at = null)
        {
            guard.Abort();
            Record(s, verdict, result, attempt, Outcome.Failed, log, [], memMb, why);
            return (new InstanceResult(s, Outcome.Failed, verdict.Reasons) { Log = log, Seconds = totalSeconds, ExitCode = 0, Attempts = attempt, Error = why, ErrorCode = code, ErrorAt = at, Handle = result.Handle }, verdict, null);
        }

        if (result.State == ExecState.Completed && (UpstreamJobRanAgainAfter(chain, result) ?? (run.Attaching ? UpstreamCollectedEarlierRanAgainAfter(s, run.ChainedOn, result) : null)) is { } again)
            return Rejected($"{s.Key}: job {result.JobId} started ({result.SlurmTimes!.Value.Start:yyyy-MM-dd HH:mm:ss}) before its upstream {again.Stage}'s job {again.JobId} last ended ({again.Ended:yyyy-MM-dd HH:mm:ss}): " +
                            $"that job ran again after this one had read its outputs (requeued), so it read outputs that are gone; its result was discarded and the previous one, if any, kept. Build again. Log: {log}", ErrorCodes.UpstreamChangedDuringRun);

        if (result.State == ExecState.Completed && UpstreamChangedDuringRun(s, verdict, run.Seen) is { } changed)
            return Rejected($"{s.Key}: the outputs of its upstream {changed} (or its params.json) changed while it ran, or after {changed} ended and before it started (another build of this pipeline restored or reran {changed}, or something rewrote them, even if their bytes are back), so it may have read other bytes than its fingerprint records; " +
                            $"its result was discarded and the previous one, if any, kept. Build again; run one build of a dataset at a time. Log: {log}", ErrorCodes.UpstreamChangedDuringRun);

        if (result.State == ExecState.Completed && result.EndMarker is { } marker && OutputWrittenAfter.Marker(s, marker, result.AppearedAfterEnd) is { } late)
            return Rejected($"{s.Key}: output {late} was changed after job {result.JobId} ended (its done-marker {PathText.ToStored(s.Layout.Root, marker)} is older), " +
                            $"so it is not what the job wrote; the attempt was discarded and the previous result, if any, kept. Leave outputs alone until a build has collected them, then build again. Log: {log}", ErrorCodes.OutputChangedAfterJob);

        if (result.State == ExecState.Completed)
        {
            var jobEnded = _ctx.Planner.Cache?.Mark() ?? 0;
            if (!ParamsFileAsWritten(s))
                return Rejected($"{s.Key}: its command changed or removed {PathText.ToStored(s.Layout.Root, s.ParamsFilePath)}, which KdGat writes from the configuration before each run and checks afterwards; " +
                                $"the attempt was discarded and the previous result, if any, kept. Write what the stage derives from its parameters to another file in its run dir. Log: {log}", ErrorCodes.ParamsFileChangedByStage);
            List<OutputRecord> present;
            List<string> missing;
            try { (present, missing) = Finishing.HashOutputs(s); }
            catch (KdgException e)
            {
                // What it wrote cannot be hashed (a symlink cycle, a FIFO or a name that is not UTF-8 in an output
                // folder): not taken, like a missing output; it was not rolled back, and Status called it interrupted (a review).
                return Rejected($"{s.Key} exited 0, but its outputs cannot be taken: {e.Message.TrimEnd('.')}. The attempt was discarded and the previous result, if any, kept. Log: {log}", e.Code);
            }
            if (missing.Count == 0)
            {
                // An input, code file or the tools changed after the fingerprint was taken (an edit, a checkout, another build's
                // bootstrap): the outputs serve this build, but the manifest says so and nothing is cached (Fingerprinter.ChangedSince).
                var changedDuringRun = Finishing.ChangedSince(s, verdict.Current, run.Seen);
                if (changedDuringRun is { } during) verdict = verdict with { Current = during.Marked, Fingerprint = during.Marked.Digest() };
                Settled([.. PresentOutputs(s, present), s.ParamsFilePath], jobEnded);
                var digest = OutputsDigest(s, present);
                ManifestStore.Write(s.ManifestPath, Manifest(s, verdict, present, digest, result, attempt));
                if (CommitWithRecord(s, guard, () => Record(s, verdict, result, attempt, Outcome.Ran, log, present, memMb, null)) is { } undone)
                    return (undone with { Log = log, Attempts = attempt, Handle = result.Handle }, verdict, null);
                if (changedDuringRun is not null)
                    _ctx.Log.Report(StageDiagnostic.At(s, Severity.Warning, ErrorCodes.InputChangedDuringRun,
                        $"{s.Key}: {changedDuringRun.Value.What} changed after its fingerprint was taken (while it ran, or waited to start or to be collected), so it may have read either version. " +
                        "Its outputs are kept for this build but recorded as stale and not cached: the next build runs it again. Leave a stage's inputs alone while it runs; " +
                        $"if the stage, or stages running beside it, write where it reads (a cache or lock file beside its data, SQLite's -wal and -shm files, __pycache__ under a code pattern that names it), declare inputs and code that leave that out. Log: {log}"));
                // An output a killed leftover was writing may be cut short: kept (as SLURM would), not spread through the cache.
                if (result.Leftovers == LeftoverProcesses.None && changedDuringRun is null) Insert(s, verdict, present, digest);
                return (new InstanceResult(s, Outcome.Ran, verdict.Reasons) { OutputsDigest = digest, Log = log, Seconds = totalSeconds, ExitCode = 0, Handle = result.Handle, Attempts = attempt, Fresh = !run.Attaching, JobEnded = result.SlurmTimes?.End }, verdict, null);
            }
            return Rejected($"{s.Key} exited 0 but did not write declared output(s): {string.Join(", ", missing)}. Fix the command or the stage's 'outputs'. Log: {log}" + LogTail.Describe(run.Job.StderrPath, log),
                ErrorCodes.OutputMissing, s.PlaceOf(s.RequiredOutputs.First(o => PathText.ToStored(s.Layout.Root, o) == missing[0])));
        }

        guard.Abort();
        var cancelled = result.State == ExecState.Cancelled;
        var detail = result.Detail ?? $"exit code {result.ExitCode}";
        // Failed while another build moved its upstream's outputs aside or replaced them: that is the likely cause, not the
        // stage (it was KDG3001 with the stage's own "model not found", and retried; a crash review). Said as KDG3017, not retried.
        // Not for a job chained after upstream jobs (this build's or an earlier one's): their outputs were meant to change meanwhile.
        if (!cancelled && result.State != ExecState.NotStarted && chain.Pending.Count == 0 && run.ChainedOn is null
            && UpstreamChangedDuringRun(s, verdict, run.Seen) is { } moved)
        {
            var why = $"{s.Key} failed ({result.State}, {detail}) while the outputs of its upstream {moved} changed (another build of this pipeline restored or reran {moved}, or something rewrote them), which is the likely cause; " +
                      $"the previous result, if any, is kept. Build again; run one build of a dataset at a time. Log: {log}" + LogTail.Describe(run.Job.StderrPath, log);
            Record(s, verdict, result, attempt, Outcome.Failed, log, [], memMb, why);
            return (new InstanceResult(s, Outcome.Failed, verdict.Reasons) { Log = log, Seconds = totalSeconds, ExitCode = result.ExitCode, Handle = result.Handle, Attempts = attempt, Error = why, ErrorCode = ErrorCodes.UpstreamChangedDuringRun }, verdict, null);
        }
        Record(s, verdict, result, attempt, cancelled ? Outcome.Cancelled : Outcome.Failed, log, [], memMb, detail);
        if (cancelled)
            return (new InstanceResult(s, Outcome.Cancelled, verdict.Reasons) { Log = log, Attempts = attempt, Handle = result.Handle, Error = result.CancelledOutside ? $"cancelled: {detail}; the stage stays stale and reruns next build" : "cancelled; the stage stays stale and reruns next build", ErrorCode = ErrorCodes.StageCancelled }, verdict, null);
        if (RetryPolicy.NextAttempt(result.State, attempt - attemptsBefore, s.Config.Retries, s.Config.Resources, run.Resources, result.Granted) is { } raised)
        {
            var retry = result.State == ExecState.Timeout && raised.Resources.TimeMinutes is not (null or ResourceParser.UnlimitedMinutes)
                ? RetryPolicy.WithinPartition(raised, await _ctx.Executor.MaxTimeMinutesAsync(raised.Resources).ConfigureAwait(false),
                    run.Resources.TimeMinutes ?? result.Granted?.TimeMinutes, raised.Resources.Partition is { } p ? $"partition {p}" : "the default partition")
                : raised;
            var next = retry.Resources;
            _ctx.Log.Report(StageDiagnostic.At(s, Severity.Warning, ErrorCodes.AttemptRetried, $"{s.Key}: attempt {attempt} ended {result.State} ({detail}); retrying with mem={next.MemMb}M time={(next.TimeMinutes is { } t ? ResourceSpec.TimeText(t) : "-")}{(retry.Note is { } n ? $" ({n})" : "")}"));
            return (null, verdict, next);
        }
        var code = result.State == ExecState.NotStarted ? result.ErrorCode ?? ErrorCodes.CommandNotStarted : ErrorCodes.StageFailed;
        var error = result.State == ExecState.NotStarted
            ? result.ErrorCode is not null ? detail : $"{s.Key}: the command could not be started ({detail})."
            : $"{s.Key} failed ({result.State}, {detail}) after {attempt} attempt(s). The previous result, if any, is kept.{Remedy(result.State, run.Resources, s.Config.Retries)} Log: {log}" + LogTail.Describe(run.Job.StderrPath, log);
        return (new InstanceResult(s, Outcome.Failed, verdict.Reasons) { Log = log, Seconds = totalSeconds, ExitCode = result.ExitCode, Handle = result.Handle, Attempts = attempt, Error = error, ErrorCode = code }, verdict, null);
    }

    /// <summary>What to change when the retries that raise memory or time ran out (a SLURM pass: the message said neither).</summary>
    private static string Remedy(ExecState state, ResourceSpec last, int retries) => state switch
    {
        ExecState.OutOfMemory => $" It ran out of memory at mem={last.MemMb?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "the cluster's default "}M: raise the stage's resources.mem, or its retries ({retries}), which raise it each time.",
        ExecState.Timeout => $" It hit its time limit ({(last.TimeMinutes is { } t ? ResourceSpec.TimeText(t) + (t == ResourceParser.UnlimitedMinutes ? ": the partition's own" : "") : "the partition's default")}): raise the stage's resources.time, or its retries ({retries}), which raise it each time.",
        _ => "",
    };

    /// <summary>
    /// An upstream job this one was chained after (afterok) that ended after this job started: SLURM
    /// ran it again (an admin's `scontrol requeue` of the ended job before any build collected it), so
    /// this job read the outputs of its earlier run, gone since. Its outputs digest is the new run's, so
    /// nothing else tells; a SLURM user review found the result collected as current. Only SLURM's own
    /// times are compared (sacct Start and End in UTC: one clock, whole seconds, and an upstream ends no
    /// later than the second its dependant starts); without them nothing is concluded.
    /// </summary>
    private static (string Stage, string JobId, DateTimeOffset Ended)? UpstreamJobRanAgainAfter(Chain chain, ExecutionResult result)
    {
        if (result.SlurmTimes is not { Start: var started }) return null;
        foreach (var p in chain.Pending)
            if (p.Progress.Final is { IsCompletedSuccessfully: true, Result: { JobEnded: { } ended } u } && u.JobId == p.JobId && ended > started)
                return (u.Instance.Name, p.JobId, ended);
        return null;
    }

    /// <summary>
    /// <see cref="UpstreamJobRanAgainAfter"/> for an upstream job an earlier build collected: a job chained on it (journalled
    /// as job:ID) and collected by a later build read the outputs of its first run; requeued after that, its last run ended
    /// after this job started, and that is what its manifest records. Not caught before: the upstream was no longer pending
    /// here, and a requeued job keeps its id (a SLURM review). A manifest without the end (older KdGat) is taken as before.
    /// </summary>
    private static (string Stage, string JobId, DateTimeOffset Ended)? UpstreamCollectedEarlierRanAgainAfter(StageInstance s, IReadOnlyDictionary<string, string>? chainedOn, ExecutionResult result)
    {
        if (chainedOn is null || result.SlurmTimes is not { Start: var started }) return null;
        foreach (var u in s.Upstreams)
        {
            if (chainedOn.GetValueOrDefault(u.Name) is not { } was || !was.StartsWith(JobPrefix, StringComparison.Ordinal)) continue;
            var jobId = was[JobPrefix.Length..];
            if (ManifestStore.Read(u.ManifestPath) is (ManifestStore.ReadStatus.Ok, { JobEnded: { } ended } m, _) && m.JobId == jobId && ended > started) return (u.Name, jobId, ended);
        }
        return null;
    }

    /// <summary>
    /// The upstream whose outputs are no longer those the fingerprint was computed from, or null.
    /// Nothing stops another build from restoring or rerunning an upstream while this stage runs
    /// (locks are per instance); committing then would record output made from one version under
    /// the digest of the other: a stale result reported as current, and spread by the cache.
    /// </summary>
    private string? UpstreamChangedDuringRun(StageInstance s, Verdict verdict, IReadOnlyDictionary<string, string> seen)
    {
        foreach (var u in s.Upstreams)
        {
            // Rerun or restored meanwhile, whatever bytes that left (the same, or the old ones put back by a rollback):
            // the stage may have read the outputs while they were aside or half-written.
            if (seen.TryGetValue(UpstreamMarkKind + u.Name, out var mark) && new OutputGuard(u).Mark(_ctx.BuildId) != mark) return u.Name;
            // Rewritten by something else meanwhile (by hand, another program), even with its bytes back by the end.
            if (seen.TryGetValue(UpstreamFilesKind + u.Name, out var files) && Fingerprinter.OutputsRewritten(files, Fingerprinter.OutputIdentities(u), u.Layout.Config.TrustCtime)) return u.Name;
            // With its ctime under trust_ctime (KdGat writes it anew, the store never links it); noted without one (trust_ctime
            // off then, or an older KdGat's batch journal): without.
            if (seen.TryGetValue(UpstreamParamsKind + u.Name, out var paramsFile) && !ParamsFileAsNoted(u, paramsFile)) return u.Name;
            if (!verdict.Current.Upstream.TryGetValue(u.Name, out var used)) continue;
            var (present, missing) = Finishing.HashOutputs(u);
            var asRecorded = AsRecorded(u, present);
            // The params.json there now, not the one KdGat writes: edited by hand after its stage ended, the stage read the
            // edit, and was committed under the digest of the file KdGat wrote, up to date for good (a review).
            var paramsNow = Finishing.Hasher.Hash(u.ParamsFilePath) is { IsDirectory: false } p ? p.Hash : null;
            // The digest the upstream's manifest recorded: with its params.json, or (written before that counted) without.
            if (missing.Count > 0 || ((paramsNow is null || Fingerprinter.OutputsDigest(asRecorded, paramsNow) != used) && Fingerprinter.OutputsDigest(asRecorded, null) != used)) return u.Name;
        }
        return null;
    }

    private const string UpstreamMarkKind = "upstream\t";
    private const string UpstreamFilesKind = "upstream-files\t";
    /// <summary>An upstream's params.json (in its outputs digest): a key of its own, so a batch job's journal from before it was noted still compares.</summary>
    private const string UpstreamParamsKind = "upstream-params\t";

    /// <summary>
    /// An upstream's params.json by identity, with its ctime under trust_ctime (as <see cref="Fingerprinter.OutputsRewritten"/>
    /// compares its outputs): rewritten by hand while a downstream ran and put back before its end (with `cp -p`: only the
    /// ctime tells), it read the other bytes.
    /// </summary>
    private static string ParamsFileIdentity(StageInstance u) => Noted(ParamsFileNow(u), u.Layout.Config.TrustCtime);

    /// <summary>Whether the params.json is as <see cref="ParamsFileIdentity"/> noted it: one statx, compared with and without its ctime.</summary>
    private static bool ParamsFileAsNoted(StageInstance u, string noted)
    {
        var now = ParamsFileNow(u);
        return Noted(now, u.Layout.Config.TrustCtime) == noted || Noted(now, withCtime: false) == noted;
    }

    private static FileIdentity? ParamsFileNow(StageInstance u)
    {
        using var _ = NoOp.FileObservations.Pause(); // a check of a run, not part of any decision a certificate replays
        return FileIdentity.Of(u.ParamsFilePath);
    }

    private static string Noted(FileIdentity? id, bool withCtime) => id is { } i ? (withCtime ? i : i with { CtimeNs = 0 }).ToString() : "-";

    /// <summary>An upstream whose mark says another build's attempt on it is in progress, or null.</summary>
    private static (string Name, string Mark)? UpstreamInAnotherBuildsAttempt(StageInstance s, IReadOnlyDictionary<string, string> seen) =>
        s.Upstreams.Select(u => (u.Name, Mark: seen.GetValueOrDefault(UpstreamMarkKind + u.Name)))
            .Where(m => m.Mark?.StartsWith(OutputGuard.InAttemptOf, StringComparison.Ordinal) == true).Select(m => ((string, string)?)(m.Name, m.Mark![..m.Mark!.IndexOf(',', StringComparison.Ordinal)])).FirstOrDefault();

    /// <summary>
    /// The snapshot with each upstream's <see cref="OutputGuard.Mark"/> as the attempt starts, for
    /// <see cref="UpstreamChangedDuringRun"/> to ask again when it ends (kept in a batch job's journal with the rest).
    /// Not for an upstream still running as a job this one is chained after: its attempt ends after this one starts,
    /// and the chain's own checks (its job, its requeue) judge it.
    /// </summary>
    private IReadOnlyDictionary<string, string> WithUpstreamMarks(StageInstance s, Chain chain, IReadOnlyDictionary<string, string> seen)
    {
        var chained = chain.Pending.Select(p => p.Progress.Instance).ToHashSet();
        var marked = new SortedDictionary<string, string>(seen.ToDictionary(), StringComparer.Ordinal);
        foreach (var u in s.Upstreams.Where(u => !chained.Contains(u)))
        {
            marked[UpstreamMarkKind + u.Name] = new OutputGuard(u).Mark(_ctx.BuildId);
            marked[UpstreamFilesKind + u.Name] = Fingerprinter.OutputIdentities(u);
            marked[UpstreamParamsKind + u.Name] = ParamsFileIdentity(u);
        }
        return marked;
    }

    /// <summary>
    /// The outputs as they are now, listed as the upstream's manifest lists them (its order, its
    /// optional flags): an `outputs:` list reordered, or an output moved to `optional_outputs:`, since
    /// the upstream last ran leaves it up to date (the check compares outputs by path), so its digest
    /// is still of the old list; recomputed from the new one it differed, a false KDG3017 on every
    /// rerun of a downstream (found by review). Any output added, gone or changed still differs.
    /// </summary>
    private static List<OutputRecord> AsRecorded(StageInstance u, List<OutputRecord> present)
    {
        if (ManifestStore.Read(u.ManifestPath) is not (ManifestStore.ReadStatus.Ok, { } manifest, _)) return present;
        var now = present.ToDictionary(o => o.Path, StringComparer.Ordinal);
        // Keyed as it records them too: a manifest written before Within was still has the digest of file names.
        var listed = manifest.Outputs.Where(o => now.ContainsKey(o.Path)).Select(o => now[o.Path] with { Optional = o.Optional, Within = o.Within }).ToList();
        var recorded = manifest.Outputs.Select(o => o.Path).ToHashSet(StringComparer.Ordinal);
        return [.. listed, .. present.Where(o => !recorded.Contains(o.Path))];
    }

    /// <summary>
    /// Steps 6 and 7 of the attempt protocol (see OutputGuard): the run record, then the commit. A
    /// record that cannot be written undoes the attempt (the previous result is put back), so a
    /// committed stage always has its record. Null when committed; else the failed result.
    /// </summary>
    private InstanceResult? CommitWithRecord(StageInstance s, OutputGuard guard, Action writeRecord)
    {
        try
        {
            writeRecord();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            guard.Abort();
            return new InstanceResult(s, Outcome.Failed, [])
            {
                Error = $"{s.Key}: its run record could not be written under {PathText.ToStored(s.Layout.Root, _ctx.Records.Dir)} ({e.Message}), so the attempt was undone and the previous result, if any, put back. Check free space and permissions there, then build again.{GroupAccess.Advice(e, s.Layout.Root)}",
                ErrorCode = ErrorCodes.RecordWriteFailed,
            };
        }
        guard.Commit();
        // The committed manifest is archived now, not only by the index step after the build (skipped
        // when the build fails, is killed, or runs with -p:KdGatTracking=false): it is the evidence
        // Adopt's KDG2017 reads once the live one is deleted (a review: a run with another parameter,
        // the parameter put back, its manifest deleted by hand, and Adopt made its outputs current).
        try { _ctx.Archive.Capture([s]); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // the index step archives it later
        RetireUnsweptResult(s);
        return null;
    }

    private string RecordId(StageInstance s, int attempt) => $"{_ctx.BuildId}-{s.Id}-{attempt}";

    /// <summary>The log stem an earlier build gave this attempt (a re-attached job writes there).</summary>
    private static string? ExistingLogStem(StageInstance s, string attemptId) =>
        Directory.Exists(s.LogDir) && Directory.GetFiles(s.LogDir, $"*-{attemptId}.sbatch") is [var script] ? Path.ChangeExtension(script, null) : null;

    /// <summary>params.json in the run dir: the stage's merged parameters, keys sorted, for {params_file}.</summary>
    private static void WriteParams(StageInstance s) => AtomicFile.WriteAllBytes(s.ParamsFilePath, ParamsFileBytes(s));

    /// <summary>The params.json KdGat writes into the run dir (<c>{params_file}</c>).</summary>
    private static byte[] ParamsFileBytes(StageInstance s)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            foreach (var (k, v) in s.Config.Params) { w.WritePropertyName(k); v.WriteTo(w); }
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private static string ParamsFileHash(StageInstance s) => ContentHash.OfBytes(ParamsFileBytes(s));

    /// <summary>
    /// Whether the run dir's params.json is still what KdGat wrote, read through the hash cache (whose
    /// row <see cref="Settled(IEnumerable{string}, long)"/> can then keep, so the next no-op reads nothing).
    /// The up-to-date check compares it with the manifest as it does outputs (Planner).
    /// </summary>
    private bool ParamsFileAsWritten(StageInstance s) =>
        Finishing.Hasher.Hash(s.ParamsFilePath) is { IsDirectory: false } h && h.Hash == ParamsFileHash(s);

    /// <summary>The digest downstream fingerprints use: the declared outputs and the params.json beside them.</summary>
    private static string OutputsDigest(StageInstance s, IEnumerable<OutputRecord> present) => Fingerprinter.OutputsDigest(present, ParamsFileHash(s));

    private StageManifest Manifest(StageInstance s, Verdict v, List<OutputRecord> outputs, string digest, ExecutionResult r, int attempt) =>
        WithFacts(new StageManifest { Stage = s.Name, Dataset = s.Dataset, Fingerprint = v.Fingerprint, Components = v.Current, Outputs = outputs, OutputsDigest = digest, ParamsFile = ParamsFileHash(s), DigestRules = FingerprintComponents.DigestRules, JobEnded = r.SlurmTimes?.End }, r, attempt);

    /// <summary>The one place the facts of an attempt are filled in, for its manifest and its run record alike.</summary>
    private T WithFacts<T>(T shell, ExecutionResult r, int attempt) where T : AttemptFacts =>
        (T)(((AttemptFacts)shell) with
        {
            BuildId = _ctx.BuildId,
            Executor = _ctx.Executor.Name,
            JobId = r.JobId,
            Attempt = attempt,
            StartedUtc = r.Started,
            FinishedUtc = r.Finished,
            WallSeconds = Math.Round(r.WallSeconds, 3),
            CpuSeconds = Math.Round(r.CpuSeconds, 3),
            PeakRssKb = r.PeakRssKb,
            ExitCode = r.ExitCode,
            Host = r.Host,
        });

    private void Record(StageInstance s, Verdict v, ExecutionResult r, int attempt, string state, string log, List<OutputRecord> outputs, long? memMb, string? detail) =>
        _ctx.Records.Write(NewRecord(s, v, r, attempt, state, log, outputs, memMb, detail));

    private RunRecord NewRecord(StageInstance s, Verdict v, ExecutionResult r, int attempt, string state, string log, List<OutputRecord> outputs, long? memMb, string? detail)
    {
        SortedDictionary<string, double>? metrics = null;
        IReadOnlyList<string> several = [];
        var metricsFile = state is Outcome.Ran or Outcome.Restored or Outcome.Adopted ? MetricsFile.Of(s, out several) : null;
        if (several.Count > 0)
            _ctx.Log.Report(StageDiagnostic.At(s, Severity.Warning, ErrorCodes.MetricsInSeveralFolders,
                $"no output is named {MetricsFile.Name}, and {several.Count} of its output folders have one at their top ({string.Join(", ", several.Select(f => PathText.ToStored(s.Layout.Root, f)))}), " +
                "so none was read and no metrics were recorded for this run (Compare and the report show none): KdGat does not pick one by the order of outputs:. " +
                $"Declare the stage's metrics as an output of their own named {MetricsFile.Name} (outputs: [..., {MetricsFile.Name}]), which is read instead, or keep a {MetricsFile.Name} in one folder only (name the others differently).",
                s.PlaceOf(s.Outputs.First(o => Path.Combine(o, MetricsFile.Name) == several[0]))));
        if (metricsFile is not null)
        {
            metrics = RecordStore.ReadMetrics(metricsFile, out var overLimit, out var unreadable);
            if (unreadable is not null)
                _ctx.Log.Warn(ErrorCodes.MetricsUnreadable,
                    $"{s.Key}: {PathText.ToStored(s.Layout.Root, metricsFile)}: {unreadable}, so no metrics were recorded for this run (Compare and the report show none). Write a JSON object of numbers, e.g. {{\"f1\": 0.93, \"loss\": 0.12}} (json.dump in Python).",
                    metricsFile);
            // Bounded so that the record stays readable (a ~70 MiB one was KDG5002 in every tracking target).
            if (overLimit is not null)
                _ctx.Log.Warn(ErrorCodes.MetricsOverLimit,
                    $"{s.Key}: {PathText.ToStored(s.Layout.Root, metricsFile)}: {overLimit} (at most {RecordStore.MaxMetrics} metrics with names of at most {RecordStore.MaxMetricName} characters). Keep metrics.json to scalar summaries (f1, accuracy, loss, ...) and put per-sample or per-class values in another output.",
                    metricsFile);
        }
        return WithFacts(new RunRecord
        {
            RecordId = RecordId(s, attempt),
            Dataset = s.Dataset,
            Stage = s.Name,
            Variant = s.Sweep.IsEmpty ? null : s.Variant,
            Fingerprint = v.Fingerprint,
            Params = new SortedDictionary<string, string>(s.Config.Params.ToDictionary(p => p.Key, p => p.Value.Text), StringComparer.Ordinal), // as written, not the fingerprint's tagged text
            State = state,
            ExecState = r.State.ToString(),
            MemRequestMb = memMb,
            Why = v.Reasons.Select(x => x.Text).ToArray(),
            OutputHashes = new SortedDictionary<string, string>(outputs.ToDictionary(o => o.Path, o => o.Hash), StringComparer.Ordinal),
            Metrics = metrics,
            Log = log,
            Detail = detail,
        }, r, attempt);
    }
}
