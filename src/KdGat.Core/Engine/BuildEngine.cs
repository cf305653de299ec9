using KdGat.Core.Auditing;
using KdGat.Core.Caching;
using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.Execution.Local;
using KdGat.Core.Execution.Slurm;
using KdGat.Core.Hashing;
using KdGat.Core.IO;
using KdGat.Core.NoOp;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;
using KdGat.Core.Tracking;

namespace KdGat.Core.Engine;

/// <summary>
/// Runs one build or Explain over every selected dataset at once: one scheduler sees the whole
/// DAG (13 stages x datasets), so independent branches and datasets run in parallel up to
/// MaxParallelStages, and a failure only stops what depends on it.
/// </summary>
internal sealed class BuildEngine
{
    /// <summary>Instances that may hold their stage lock per attempt slot: enough to decide the next ones while the slots run (<see cref="BuildContext.LockHolders"/>).</summary>
    internal const int LockHoldersPerSlot = 4;

    private readonly Func<PipelineConfig, int, IStageExecutor>? _executorFactory;
    private readonly TimeProvider _time;
    private readonly BuildSession? _session;

    /// <param name="executorFactory">Chooses the executor; default: local processes.</param>
    /// <param name="time">The build's clock; default: the system's.</param>
    /// <param name="session">What the plan and the build of one MSBuild build share (loaded pipeline, hash cache, parsed manifests); null: nothing.</param>
    public BuildEngine(Func<PipelineConfig, int, IStageExecutor>? executorFactory = null, TimeProvider? time = null, BuildSession? session = null)
    {
        _executorFactory = executorFactory;
        _time = time ?? TimeProvider.System;
        _session = session;
    }

    /// <summary>
    /// False only after a run in which every instance was up to date and no run record was written:
    /// then there is nothing new to index or archive (the index step after the build is skipped;
    /// Status, History, Compare and Report ingest and archive on open, so records of other or
    /// killed builds still show). True until a run ends, and after any failure.
    /// </summary>
    public bool WroteState { get; private set; } = true;

    public async Task<BuildReport> RunAsync(BuildRequest request, IBuildLog log, CancellationToken cancel)
    {
        log = new CountingLog(log); // from the first line: an error said anywhere in the build fails its verdict
        if (_session?.Certified is { } certifiedPlan && certifiedPlan.StageWithOtherNeeds(request.Stages) is { } moved)
        {
            // The plan's certificate held, but the graph it was made with is not the one MSBuild ran: a
            // stage target may have been skipped on stale stamps. This build checks everything in full.
            log.Warn(ErrorCodes.StageGraphUnobserved, $"KdGat: the Needs of stage '{moved}' changed since the no-op certificate of this plan was written, through something that certificate does not observe (a condition, a property function, or an imported file that is not a KdGatGraphFile item), so MSBuild may have skipped stage targets in this build. Every instance was checked in full; nothing stale is reported as up to date. Add the file your stage targets come from as <KdGatGraphFile Include=\"...\" />, or ignore this if it was a one-off.");
            NoOpCertificate.Forget(request.Root, certifiedPlan.PlanKey);
            _session.Certified = null;
        }
        if (request.Mode == BuildMode.Build && _session?.Certified is { } planFound && !request.VerifyHashes && !request.Audit
            && NoOpCertificate.Find(request.Root, planFound, NoOpCertificate.KeyOf(request)) is { } cert
            // Only for a build whose warnings stay warnings: one it makes an error (-warnAsError) stops it
            // before the stages, which the full path does as a build from scratch would.
            && !cert.Warnings.Append(SettingWarning(request)).Any(w => w is not null && log.WarningIsError(w.Code)))
        {
            if (!NoOpCertificate.Verifying) return CertifiedNoOp(cert, request, log);
            Observe(request);
            // Tests: the full check too, whose report is published only when it disagrees (and which certifies nothing).
            _verifying = true;
            var (full, _, _) = await RunWithResultsAsync(request with { PublishReport = false }, log, cancel).ConfigureAwait(false);
            if (full.Stages.FirstOrDefault(s => s.Outcome != Outcome.UpToDate) is not { } wrong)
            {
                // What it says must be what the full check said too: its load-time warnings, the same.
                if (cert.Warnings.ToHashSet().SetEquals(_session.Warned)) return CertifiedNoOp(cert, request, log);
                log.Error(ErrorCodes.NoOpCertificateWrong, $"KdGat: the no-op certificate would have said {cert.Warnings.Count} warning(s) ({string.Join(", ", cert.Warnings.Select(w => w.Code))}), but the full check said {_session.Warned.Count} ({string.Join(", ", _session.Warned.Select(w => w.Code))}). This is a bug in KdGat; please report it. Set {NoOpCertificate.Variable}=off to build without certificates.");
                return full with { Succeeded = false };
            }
            log.Error(ErrorCodes.NoOpCertificateWrong, $"KdGat: the no-op certificate said every instance was up to date, but the full check found {wrong.Dataset}/{wrong.Stage} {wrong.Outcome} ({string.Join("; ", wrong.Reasons)}). This is a bug in KdGat; please report it. Set {NoOpCertificate.Variable}=off to build without certificates.");
            if (request.PublishReport) full.Publish(StateDirOf(request));
            return full with { Succeeded = false };
        }
        // Recording starts only now: a certified no-op records nothing, and so does not create and
        // delete the recording's clock probe in .kdgat/noop/ (three round trips on NFS).
        Observe(request);
        return (await RunWithResultsAsync(request, log, cancel).ConfigureAwait(false)).Report;
    }

    /// <summary>Records what the tasks of this build look at, for a certificate (only with a session: the plan and the build task of one MSBuild build).</summary>
    private void Observe(BuildRequest request)
    {
        if (_session is not null && !NoOpCertificate.Disabled) _session.Observe(request.Root);
    }

    /// <summary>The pipeline's .kdgat/ without loading it (a certified build loads nothing): always under the root.</summary>
    private static string StateDirOf(BuildRequest request) => Path.Combine(Path.GetFullPath(request.Root), Pipeline.PipelineLayout.StateDirName);

    /// <summary>The build a certificate vouches for: every instance up to date, reported and summarized as the full check would.</summary>
    private BuildReport CertifiedNoOp(NoOpCertificate cert, BuildRequest request, IBuildLog log)
    {
        var started = _time.GetUtcNow();
        var report = new BuildReport
        {
            BuildId = BuildContext.NewId(_time),
            Mode = "build",
            Executor = cert.Executor,
            StartedUtc = started,
            FinishedUtc = _time.GetUtcNow(),
            Datasets = cert.Datasets,
            Stages = cert.Rows.Select(r => new InstanceReport { Dataset = r.Dataset, Stage = r.Stage, Variant = r.Variant, Outcome = Outcome.UpToDate }).ToArray(),
            Succeeded = true,
            NoOpCertificate = true,
        };
        if (request.PublishReport) BestEffort(() => report.Publish(StateDirOf(request)), "the build report (.kdgat/last-build.json)", log);
        SaySettingWarning(request, log);
        SayLoadWarnings(cert.Warnings, log); // what the full check would say of the configuration: it looked at nothing that changed
        log.Info(SummaryLine(report, cert.Rows.Count, 0, 0) + " (no-op certificate: nothing it looked at has changed)");
        WroteState = false;
        return report;
    }

    /// <summary>
    /// Before MSBuild runs the stage targets: the content check (Explain, nothing runs, no report)
    /// of the selected instances, turned into their stamps and up-to-date markers (see <see cref="StageStamps"/>).
    /// With a session, first the stamps a no-op certificate of this plan request recorded, when
    /// everything it observed is unchanged (MSBuild then skips every stage target, and the build
    /// task checks a certificate again); not again when <see cref="CertifiedPlan"/> just missed.
    /// </summary>
    /// <param name="graph">What the stage graph is made from (<see cref="GraphSources"/>): part of the plan's certificate key, its files observed.</param>
    public async Task<IReadOnlyList<StageStamps.Entry>> PlanAsync(BuildRequest request, GraphSources graph, IBuildLog log, CancellationToken cancel)
    {
        var key = PlanKey(request, graph);
        if (key is not null && key != _session!.PlanMissed && CertifiedPlan(request, graph) is { } certified) return certified;
        if (_session is not null) _session.Certified = null; // this plan is checked in full: no certificate answered it
        Observe(request);
        // MSBuild read these files' bytes for the graph: observed as any file whose bytes were read
        // (FileIdentity.Of: racy rule included), not as KdGat's own files.
        foreach (var file in graph.Files) _ = FileIdentity.Of(file);
        // Load-time warnings are the build task's to say (it loads too; a certified build says them from its certificate).
        var (_, results, loaded) = await RunWithResultsAsync(request with { Mode = BuildMode.Explain, FailIfStale = false, PublishReport = false, DecisionTable = false }, log, cancel, sayLoadWarnings: false).ConfigureAwait(false);
        // Only the plan has every stage target of the pipeline (a build's own request has those of its -t:).
        foreach (var warning in loaded.Graph.WithoutTargetWarnings(loaded.Config, request.PipelineFile)) log.Report(warning);
        var stamps = results.Count == 0 ? [] : StageStamps.Refresh(results[0].Instance.Layout.StateDir, results, _time);
        if (_session?.Observations is not null)
        {
            // As MSBuild will compare them: a certificate holds only while they stay as they are now.
            foreach (var e in stamps) { FileObservations.SawOwn(e.Stamp); FileObservations.SawOwn(e.Marker); }
            _session.Plan = (key ?? KeyOfPlan(request, graph), stamps, request.Stages, []);
        }
        return stamps;
    }

    /// <summary>
    /// The stamps of a no-op certificate of this plan request whose observations all hold now; null
    /// when there is none. Needs no stage graph (the plan task asks before MSBuild evaluates the
    /// project a second time for it): the plan key has what the graph is made from instead
    /// (<see cref="GraphSources"/>), the build task's key has the graph, and that task decides.
    /// </summary>
    public IReadOnlyList<StageStamps.Entry>? CertifiedPlan(BuildRequest request, GraphSources graph)
    {
        if (PlanKey(request, graph) is not { } key) return null;
        if ((_session!.Certified = NoOpCertificate.Find(request.Root, key)) is not { } cert)
        {
            _session.PlanMissed = key;
            return null;
        }
        _session.Plan = (key, cert.Stamps, cert.PlanGraph, cert.Observations);
        BuildReport.WarmUpWriter(); // the build task's certified report is next
        return cert.Stamps;
    }

    /// <summary>The plan's certificate key; null when no certificate is used (no session, -p:VerifyHashes, switched off).</summary>
    private string? PlanKey(BuildRequest request, GraphSources graph) =>
        _session is null || request.VerifyHashes || NoOpCertificate.Disabled ? null : KeyOfPlan(request, graph);

    private static string KeyOfPlan(BuildRequest request, GraphSources graph) =>
        NoOpCertificate.KeyOf(request with { Stages = [] }, graph.KeyParts());

    /// <param name="sayLoadWarnings">
    /// Whether to say the load-time warnings (<see cref="Fingerprinter.CodePatternsMatchingNothing"/>;
    /// once per session). They are said before anything is counted as said: a pure function of what the
    /// certificate observes (kdgat.yaml, the globs' directory listings), they are recorded in it and said
    /// again when it answers, so they do not keep a no-op from being certified.
    /// </param>
    private async Task<(BuildReport Report, IReadOnlyList<InstanceResult> Results, LoadedPipeline Pipeline)> RunWithResultsAsync(BuildRequest request, IBuildLog log, CancellationToken cancel, bool sayLoadWarnings = true)
    {
        var started = _time.GetUtcNow();
        var said = log as CountingLog ?? new CountingLog(log); // RunAsync's, or the plan's own
        log = said;
        var loaded = _session?.Load(request) ?? LoadedPipeline.Load(request);
        var (config, datasets, _, layout, instances) = loaded;
        if (sayLoadWarnings) SaySettingWarning(request, log);
        if (sayLoadWarnings) SayLoadWarnings([.. EnvironmentProperties.Warnings(request), .. PropertySpelling.Warnings(request), .. Fingerprinter.CodePatternsMatchingNothing(instances), .. Pipeline.DependencyCheck.UncoveredNamedFiles(instances)], log);
        // -t:Explain's stages are every stage target AllStagesDependsOn reaches, as the plan's: it says KDG1012
        // too (a stage only in kdgat.yaml was missing from what Explain listed, without a word; a first-contact review).
        if (sayLoadWarnings && request.Mode == BuildMode.Explain)
            foreach (var warning in loaded.Graph.WithoutTargetWarnings(config, request.PipelineFile)) log.Report(warning);
        // Not counted for quiet below: a certificate says them again.
        var saidBefore = said.Count;
        // A load-time warning this build makes an error (-warnAsError) stops it here, before anything is
        // checked or run, as an error in the configuration does; the report and hook still say it failed.
        var stopped = said.Errors > 0;
        if (stopped)
            log.Info($"KdGat: nothing was checked or run: {string.Join(", ", said.ErrorCodes)} above {(said.ErrorCodes.Count == 1 ? "is an error" : "are errors")} in this build (-warnAsError), " +
                "and a warning about the configuration stops a build before its stages as its errors do. Fix what it says, or keep it a warning with -warnNotAsError:CODE.");

        var parallel = request.MaxParallelStages > 0 ? request.MaxParallelStages
            : config.MaxParallelStages > 0 ? config.MaxParallelStages : Environment.ProcessorCount;
        // Adopt runs nothing, so it never needs (or talks to) SLURM.
        var kind = request.Mode == BuildMode.Adopt ? ExecutorKind.Local : request.Executor ?? config.Executor;
        var audit = request.Audit ? AuditFor(request, kind) : null;
        var executor = _executorFactory?.Invoke(config with { Executor = kind }, parallel)
            ?? (kind == ExecutorKind.Slurm
                ? new SlurmExecutor(SlurmOptions.From(config.Slurm, request.Wait, request.CancelOnAbort, request.Setting("Wait", "false")), log, time: _time)
                : new LocalExecutor(parallel, time: _time));

        Directory.CreateDirectory(layout.StateDir);
        var planner = Planner.Open(layout, request.VerifyHashes, _session?.HashCache(layout, request.VerifyHashes), _session?.Manifests, cancel);
        var hashCache = planner.Cache!;
        using var progress = new StageProgress(log, heartbeat: request.Mode == BuildMode.Build, time: _time);
        var ctx = new BuildContext
        {
            BuildId = BuildContext.NewId(_time),
            Mode = request.Mode,
            Layout = layout,
            Planner = planner,
            Executor = executor,
            Store = CheckedStore(config, layout),
            Records = new RecordStore(layout.StateDir),
            Archive = new ManifestArchive(layout.StateDir),
            Log = log,
            Progress = progress,
            Slots = new AttemptSlots(executor.MaxParallel),
            LockHolders = executor.SubmitsAhead ? null : new AttemptSlots(LockHoldersPerSlot * executor.MaxParallel),
            Cancel = cancel,
            Time = _time,
            Audit = audit,
            AdoptOverwrite = request.AdoptOverwrite,
            NoWaitSetting = request.Setting("Wait", "false"),
            Planned = new(() => UnsweptLeftovers.Planned(instances)),
        };

        // Opened on the first instance that is not up to date (a no-op writes no page); disposed with progress.
        if (request.Mode == BuildMode.Build && request.LiveReportFile is { } liveFile)
            progress.OpenLive = () => new LiveReport(liveFile, ctx.BuildId, layout.Root, instances, log, request.LiveReportRefreshSeconds, time: _time);

        // Stopped (above): nothing is generated, locked, recovered or checked.
        if (request.Mode == BuildMode.Build && !stopped)
            foreach (var d in datasets) await RawData.EnsureAsync(layout, d, mayGenerate: true, log, _time, cancel).ConfigureAwait(false);
        else if (!stopped)
            foreach (var d in datasets.Where(d => !RawData.IsUsable(layout, d)))
                if (request.Mode == BuildMode.Explain)
                    // Explain describes, it does not fail: the dataset's stages say would-run (input missing).
                    log.Info(RawData.IsPresent(layout.Resolve(config.RawDir, d))
                        ? $"KdGat: the raw data of dataset '{d}' at '{PathText.ToStored(layout.Root, layout.Resolve(config.RawDir, d))}' is {RawData.Unfinished(layout.Resolve(config.RawDir, d))}."
                        : $"KdGat: raw data for dataset '{d}' is not at '{PathText.ToStored(layout.Root, layout.Resolve(config.RawDir, d))}'" +
                          (config.Generator is null ? "; a build would stop with KDG1103 until it is there." : "; a build generates it first."));
                else if (config.Generator is null) await RawData.EnsureAsync(layout, d, mayGenerate: false, log, _time, cancel).ConfigureAwait(false);

        // Held shared for the whole build: Clean (exclusive) refuses rather than delete what this build reads.
        var datasetLocks = new List<Locking.StageLock>();
        IReadOnlyList<InstanceResult> results;
        try
        {
            if (request.Mode != BuildMode.Explain && !stopped)
                foreach (var d in datasets)
                {
                    // A certified no-op takes no lock: it holds only while the lock could be taken.
                    var lockFile = Locking.StageLock.DatasetLockFile(layout, d);
                    FileObservations.DirectoryExists(Path.GetDirectoryName(lockFile)!);
                    FileObservations.Observe(FileObservations.Probe.Kind, lockFile);
                    datasetLocks.Add(await Locking.StageLock.AcquireAsync(lockFile,
                        _ => log.Warn(ErrorCodes.LockWait, $"{d}: waiting for a Clean of this dataset to finish; this build goes on after it. Nothing to do; Ctrl+C stops waiting and changes nothing"), cancel, shared: true, time: _time).ConfigureAwait(false));
                }
            var runner = new InstanceRunner(ctx);
            // Not with -p:Sweep: the points it leaves out are still in the grid (their attempts their own builds' to recover or
            // re-attach to; a review: a -p:Sweep=seed=1 build stopped seed=0's running job), as Clean leaves them.
            if (loaded.Sweep is null && !stopped && request.Mode == BuildMode.Explain) ExplainDroppedPointAttempts(instances, log);
            else if (loaded.Sweep is null && !stopped) await runner.RecoverDroppedPointAttemptsAsync(instances).ConfigureAwait(false);
            results = stopped ? [] : await ScheduleAsync(instances, runner, progress).ConfigureAwait(false);
        }
        finally
        {
            foreach (var l in datasetLocks) l.Dispose();
        }
        WroteState = ctx.Records.Written > 0 || results.Any(r => r.Outcome != Outcome.UpToDate);
        if (request.Mode == BuildMode.Build && WroteState) SayConfigChanged(config, layout, log);
        if (sayLoadWarnings && OperatingSystem.IsLinux() && Hashing.Statx.Unavailable) SayLoadWarnings([NoFileIdentity], log); // the build task's to say, as the load-time warnings
        if (request.SaveHashCache) BestEffort(() => hashCache.Save(dropDeleted: !cancel.IsCancellationRequested), "the hash cache", log);
        executor.Finish(log, cancel.IsCancellationRequested);
        progress.Live?.Complete();
        audit?.Summarize(log);

        var report = new BuildReport
        {
            BuildId = ctx.BuildId,
            Mode = request.Mode switch { BuildMode.Explain => "explain", BuildMode.Adopt => "adopt", _ => "build" },
            Executor = executor.Name,
            StartedUtc = started,
            FinishedUtc = _time.GetUtcNow(),
            Datasets = datasets,
            Stages = results.Select(r => r.ToReport()).ToArray(),
            // An error said by now fails it too: MSBuild fails its build on one, a warning -warnAsError made one included
            // (a stage's KDG3016, SLURM's KDG4006, ...; the stages that ran keep their results). Said later (the report's or
            // the hook's own warning) it fails MSBuild's build only: the report and the hook were decided by then.
            Succeeded = said.Errors == 0 && results.All(r => r.Outcome is Outcome.Ran or Outcome.UpToDate or Outcome.Restored or Outcome.Submitted or Outcome.Adopted
                || (r.Outcome is Outcome.WouldRun or Outcome.WouldRestore && !request.FailIfStale)),
        };
        if (request.PublishReport) BestEffort(() => report.Publish(layout.StateDir), "the build report (.kdgat/last-build.json)", log);
        var quiet = said.Count == saidBefore; // nothing but the load-time warnings and the summary: what a certified no-op prints
        Summarize(report, results, log, hashCache, request.DecisionTable && !stopped, cancel.IsCancellationRequested);
        // Where this build's page is: nothing said it, so first users never found it (a first-contact review).
        // Not a page that could not be written (KDG4020 said so): the line named a file that does not exist.
        if (progress.Live is { Written: true } live) log.Info($"KdGat: report: {live.Path} (stage graph, metrics, logs: open it in a browser)");
        if (request.Mode == BuildMode.Build && quiet && !WroteState && report.Succeeded && config.OnSuccess is null && config.OnFailure is null)
            BestEffort(() => Certify(request, report), "the no-op certificate (.kdgat/noop/)", log);
        if (request.FailIfStale) ReportStale(results, request, log);
        if (request.Mode == BuildMode.Build) await BuildHooks.RunAsync(config, report, layout.StateDir, log, cancel).ConfigureAwait(false);
        return (report, results, loaded);
    }

    /// <summary>
    /// KDG3024 for each configuration file edited while the build ran (a parameter changed in a second terminal, a
    /// `git checkout` while a stage trained): the build used what it read at its start, and its manifests say so, so the
    /// next build reruns what the edit changes; but it ended "succeeded" without a word, and users took the edit as
    /// built (a review of edits during a build). Only after a build that ran or restored something: a no-op reads nothing more.
    /// </summary>
    private static void SayConfigChanged(Config.PipelineConfig config, Pipeline.PipelineLayout layout, IBuildLog log)
    {
        using var _ = FileObservations.Pause(); // a check of this build, not part of any decision a certificate replays
        foreach (var file in config.Sources.ChangedFiles())
            log.Warn(ErrorCodes.ConfigChangedDuringBuild,
                $"{PathText.ToStored(layout.Root, file)} changed while this build ran: its stages ran with the configuration as this build read it at its start " +
                "(their manifests record that, so nothing is taken as built from the edit). Build again to apply the change; edit the configuration between builds.", file);
    }

    /// <summary>Checked before anything runs: strace works here, and the stages run on this machine.</summary>
    private static Auditor AuditFor(BuildRequest request, ExecutorKind kind)
    {
        if (kind == ExecutorKind.Slurm)
            throw new KdgException(ErrorCodes.AuditNeedsLocalExecutor,
                "-t:Audit traces stages with strace on this machine, so it needs the local executor, but the executor is slurm. Run it with -p:Executor=local where the stages can run (an interactive job, e.g. `srun --pty bash`), on one small dataset (-p:Dataset=NAME).");
        Strace.EnsureUsable();
        // Ownership is judged against the whole pipeline (every stage, every dataset), not only what this build selected.
        var full = LoadedPipeline.Load(request with { OnlyStage = null, Datasets = null });
        return new Auditor(new AccessClassifier(new AuditScope(full.Layout, full.Instances), request.PipelineFile), request.OnlyStage);
    }

    private Caching.OutputStore? CheckedStore(Config.PipelineConfig config, Pipeline.PipelineLayout layout)
    {
        var store = OutputStoreLocation.Open(config, time: _time);
        var fromEnvironment = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(OutputStoreLocation.EnvironmentVariable));
        if (store is not null && layout.OutputRules.StoreProblem(store.Root) is { } problem)
            throw new KdgException(ErrorCodes.UnsafeOutputPath,
                $"the output cache '{PathText.ToStored(layout.Root, store.Root)}' (cache_store, or $KDGAT_CACHE) {problem}. It is written whenever a stage succeeds, so there it would change what stages read or be deleted by Clean. Leave cache_store out (.kdgat/store), or give a directory of its own.",
                // At the cache_store value, unless $KDGAT_CACHE chose the place.
                config.File, fromEnvironment ? 0 : config.CacheStoreAt.Line, fromEnvironment ? 0 : config.CacheStoreAt.Column);
        return store;
    }

    /// <summary>State that only speeds up or reports a build: failing to write it changes no result.</summary>
    private static void BestEffort(Action write, string what, IBuildLog log)
    {
        using var _ = FileObservations.Pause(); // what KdGat writes for itself is not what the build decided from
        try { write(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.Warn(ErrorCodes.StateWriteFailed, $"could not write {what} ({e.Message}); the stage results are not affected. Check free space and permissions under .kdgat/.");
        }
    }

    /// <summary>
    /// One task per instance that awaits its upstreams (their end, or with a batch executor their
    /// submission); the semaphore in the context bounds running attempts.
    /// </summary>
    private static async Task<IReadOnlyList<InstanceResult>> ScheduleAsync(IReadOnlyList<StageInstance> instances, InstanceRunner runner, StageProgress lines)
    {
        var progress = new Dictionary<StageInstance, InstanceProgress>();
        foreach (var s in instances) // dependency order: upstream entries exist already
        {
            var self = new InstanceProgress(s);
            var ups = s.Upstreams.Select(u => progress[u]).ToArray();
            self.Final = Task.Run(async () =>
            {
                try
                {
                    var result = await runner.RunAsync(s, ups, self).ConfigureAwait(false);
                    lines.Ended(result);
                    return result;
                }
                finally { self.Ended(); }
            });
            progress[s] = self;
        }
        return await Task.WhenAll(instances.Select(s => progress[s].Final)).ConfigureAwait(false);
    }

    /// <summary>Explain recovers nothing: it says which interrupted attempts of points no longer in a sweep the next build stops.</summary>
    private static void ExplainDroppedPointAttempts(IReadOnlyList<StageInstance> instances, IBuildLog log)
    {
        foreach (var (sibling, today) in Planner.SweptStages(instances))
            foreach (var variant in Planner.FormerPointAttempts(sibling, today))
                log.Info($"KdGat: {sibling.Dataset}/{sibling.Name}/{variant}: an attempt a crash interrupted on this point, which is no longer in the sweep; " +
                    "the next build recovers it as the point's own build would (what it left running in this tree stopped, its partial outputs kept under its failed/; today's points are not affected).");
    }

    /// <summary>The CI gate (-question, -p:FailIfStale=true): each instance that is not up to date is an error at its stage entry.</summary>
    private static void ReportStale(IReadOnlyList<InstanceResult> results, BuildRequest request, IBuildLog log)
    {
        foreach (var r in results.Where(r => r.Outcome is Outcome.WouldRun or Outcome.WouldRestore))
            log.Report(StageDiagnostic.At(r.Instance, Severity.Error, ErrorCodes.StaleUnderGate,
                $"{r.Instance.Key} is not up to date ({r.Outcome}: {string.Join("; ", r.Reasons)}). Nothing was run (-question or {request.Setting("FailIfStale", "true")}); build it to bring it up to date."));
    }

    private static void Summarize(BuildReport report, IReadOnlyList<InstanceResult> results, IBuildLog log, HashCache cache, bool table, bool cancelled)
    {
        if (table && report.Mode is "explain" or "adopt")
            foreach (var line in TextTable.Format(["stage instance", "decision", "why"],
                         results.Select(r => (IReadOnlyList<string>)[r.Instance.Key, r.Outcome, string.Join("; ", r.Reasons)])))
                log.Info(line);
        // What a cancel (Ctrl+C, SIGTERM) kept from starting, or from being checked, is not a failure:
        // no line of its own, counted in the cancel's line below. Attempts it stopped are errors (KDG3004).
        static bool NotStarted(InstanceResult r) => r.Outcome == Outcome.Cancelled && r.Attempts == 0;
        var failures = results.Where(r => r.Outcome == Outcome.Failed || (r.Outcome == Outcome.Cancelled && !NotStarted(r))).ToArray();
        var isFailure = new HashSet<InstanceResult>(failures, ReferenceEqualityComparer.Instance); // records compare by value: Contains was O(n) deep compares
        foreach (var r in results)
        {
            if (r.Outcome == Outcome.Skipped && !cancelled)
                log.Report(StageDiagnostic.At(r.Instance, Severity.Warning, ErrorCodes.StageSkipped, $"{r.Instance.Key} skipped: {string.Join("; ", r.Reasons)}"));
            else if (isFailure.Contains(r) || (NotStarted(r) && !cancelled))
                log.Report(StageDiagnostic.At(r.Instance, Severity.Error, r.ErrorCode ?? ErrorCodes.StageFailed, r.Error ?? $"{r.Instance.Key} {r.Outcome}", r.ErrorAt));
        }
        log.Info(SummaryLine(report, results.Count, cache.FilesHashed, cache.BytesHashed));
        if (cancelled) SummarizeCancel(report, results, log, failures.Where(r => r.Outcome == Outcome.Cancelled).ToArray());
        if (results.Any(r => r.Outcome is Outcome.Failed or Outcome.Cancelled or Outcome.Skipped) && (!cancelled || results.Any(r => r.Outcome == Outcome.Failed)))
        {
            var failed = (cancelled ? failures.Where(r => r.Outcome == Outcome.Failed) : results.Where(r => r.Outcome is Outcome.Failed or Outcome.Cancelled))
                // A cancelled attempt's log says little (slurmstepd's "CANCELLED AT" line): its error says who cancelled it.
                .Select(r => ((r.Outcome == Outcome.Cancelled ? r.Error : null) ?? WrittenLog(r) ?? r.Error) is { } detail ? $"{r.Instance.Key} ({detail})" : r.Instance.Key);
            var skipped = results.Where(r => r.Outcome == Outcome.Skipped).Select(r => r.Instance.Key).ToArray();
            var failedList = failed.ToArray();
            var message = (failedList.Length == 0 // only skipped ones: each line above says why (an upstream still running as a job, -p:Wait=false)
                    ? $"{(report.Mode == "adopt" ? "adopt incomplete" : "build incomplete")}: not run: {string.Join(", ", skipped)} (the lines above say why)."
                    : $"{(report.Mode == "adopt" ? "adopt refused" : "build failed")}: {string.Join(", ", failedList)}." +
                      (skipped.Length > 0 ? $" Skipped (or cancelled) because of it: {string.Join(", ", skipped)}." : "")) +
                (report.Mode == "adopt" ? " The other selected instances were adopted or are up to date; fix these (or build them) and Adopt again."
                    : failedList.Length == 0 ? " Build again once what they wait for has ended."
                    : results.Any(r => r.Outcome == Outcome.Failed) ? " Independent stages were completed; fix the failures and build again."
                    : " Independent stages were completed; the cancelled stages run again at the next build.");
            // At the first failed stage's entry in the configuration, where the fix usually starts.
            log.Report((results.FirstOrDefault(r => r.Outcome == Outcome.Failed) ?? results.FirstOrDefault(r => r.Outcome == Outcome.Cancelled)) is { } first
                ? StageDiagnostic.At(first.Instance, Severity.Error, ErrorCodes.BuildFailed, message) with { Message = message }
                : new Diagnostic(Severity.Error, ErrorCodes.BuildFailed, message));
        }
    }

    private static string SummaryLine(BuildReport report, int instances, int filesHashed, long bytesHashed) =>
        $"KdGat: {report.Mode} {report.BuildId}: {instances} stage instance(s){(report.Counts.Count == 0 ? "" : ": " + string.Join(", ", report.Counts.Select(c => $"{c.Value} {c.Key}")))} in {(report.FinishedUtc - report.StartedUtc).TotalSeconds:0.0} s " +
        $"(hashed {filesHashed} file(s), {bytesHashed / 1048576.0:0.#} MiB)";

    /// <summary>
    /// After a build that found everything up to date, said nothing and wrote nothing: what it
    /// observed becomes the certificate of its request, if every observation still holds now and
    /// none is of a file changed since the build began (less the racy margin: such an identity
    /// cannot vouch for the bytes read). Only with the plan task's observations of this very build.
    /// </summary>
    private bool _verifying;

    private void Certify(BuildRequest request, BuildReport report)
    {
        if (_verifying) return;
        if (_session is not { Observations: { Usable: true } seen, Plan: { } plan, LoadedHere: true } || request.VerifyHashes || request.Audit) return;
        if (plan.Stamps.Any(e => !e.Current)) return; // the plan saw something stale (then settled by another build): the stamps say so, not a no-op
        if (seen.Count > NoOpCertificate.MaxObservations || seen.LatestChangeNs >= _session.ObservedSinceNs - HashCache.RacyMarginNs || _session.ObservedSinceNs == long.MinValue) return;
        var cert = new NoOpCertificate
        {
            PlanKey = plan.Key,
            BuildKey = NoOpCertificate.KeyOf(request),
            Executor = report.Executor,
            Datasets = report.Datasets,
            Stamps = plan.Stamps,
            PlanGraph = plan.Graph,
            Rows = report.Stages.Select(s => (s.Dataset, s.Stage, s.Variant)).ToArray(),
            Observations = seen.All.Concat(plan.Observed).DistinctBy(o => (o.Probe, o.Path, o.Answer)).ToArray(),
            Warnings = _session.Warned,
        };
        // The same question answered two ways (the plan's certificate, then this build): something changed between them.
        if (cert.Observations.CountBy(o => (o.Probe, o.Path)).Any(c => c.Value > 1)) return;
        if (!NoOpCertificate.Writable(cert.Observations.Select(o => o.Path).Concat(cert.Datasets).Concat(cert.Rows.SelectMany(r => new[] { r.Dataset, r.Stage, r.Variant ?? "" }))
                .Concat(cert.Stamps.SelectMany(s => new[] { s.Stamp, s.Marker })).Concat(cert.PlanGraph.SelectMany(s => s.Needs.Prepend(s.Name)))
                .Concat(cert.Warnings.SelectMany(w => new[] { w.Code ?? "", w.File ?? "", w.Message })))) return;
        if (!seen.Usable || !cert.StillHolds()) return; // changed while the build ran
        NoOpCertificate.Write(request.Root, cert);
    }

    /// <summary>Says each warning not said yet in this build (the session's; without one, each).</summary>
    /// <summary>KDG1019: said once per build (the plan's check and the build task's alike) while this process has no statx.</summary>
    private static readonly Diagnostic NoFileIdentity = new(Severity.Warning, ErrorCodes.NoFileIdentity,
        "KdGat: the statx system call is refused here (a container's seccomp filter that does not know it, as older runtimes' default profiles; or a C library without it), " +
        "so files have no inode or ctime that could vouch for an earlier hash: every input, code file and output was hashed in this build, and no-op certificates are not used. " +
        "Results are correct, only slower. Allow statx in the container's seccomp profile (or run KdGat outside the container) to get the hash cache back.");

    /// <summary>
    /// KDG1220, said by every build, certified or not, and never recorded in a certificate: the
    /// certificate key leaves KDGAT_NOOP_CERTIFICATE out (a verify build's certificate answers
    /// the same build without it), so a certificate written with the typo would say it after the fix.
    /// </summary>
    private static void SaySettingWarning(BuildRequest request, IBuildLog log)
    {
        if (SettingWarning(request) is { } w) log.Report(w);
    }

    private static Diagnostic? SettingWarning(BuildRequest request) =>
        NoOpCertificate.SettingWarning(Environment.GetEnvironmentVariable(NoOpCertificate.Variable), request.PipelineFile);

    private void SayLoadWarnings(IEnumerable<Diagnostic> warnings, IBuildLog log)
    {
        foreach (var w in warnings)
            if (_session is null || _session.FirstTime(w)) log.Report(w);
    }

    /// <summary>Counts what a build says, and its errors: KdGat's own and the warnings the build makes errors (<see cref="IBuildLog.WarningIsError"/>).</summary>
    private sealed class CountingLog(IBuildLog inner) : IBuildLog
    {
        private int _count;
        private readonly List<string> _errorCodes = [];
        public int Count => Volatile.Read(ref _count);
        public int Errors { get { lock (_errorCodes) return _errorCodes.Count; } }
        /// <summary>The code of each error said, in order, each once.</summary>
        public IReadOnlyList<string> ErrorCodes { get { lock (_errorCodes) return [.. _errorCodes.Distinct()]; } }

        public void Report(Diagnostic d)
        {
            Interlocked.Increment(ref _count);
            if (d.Severity == Severity.Error || d.Severity == Severity.Warning && inner.WarningIsError(d.Code))
                lock (_errorCodes) _errorCodes.Add(d.Code ?? "an error");
            inner.Report(d);
        }

        public bool WarningIsError(string? code) => inner.WarningIsError(code);
    }

    /// <summary>The stage's log when it exists: a job sbatch refused, or that SLURM could not launch, wrote none (the summary named it anyway).</summary>
    private static string? WrittenLog(InstanceResult r) =>
        r.Log is { } log && File.Exists(Path.Combine(r.Instance.Layout.Root, log)) ? log : null;

    /// <summary>One line for what a cancel did: the attempts it stopped, what had finished, what it kept from starting.</summary>
    private static void SummarizeCancel(BuildReport report, IReadOnlyList<InstanceResult> results, IBuildLog log, IReadOnlyList<InstanceResult> stopped)
    {
        var done = results.Count(r => r.Outcome is not (Outcome.Cancelled or Outcome.Skipped or Outcome.Failed));
        var notStarted = results.Count(r => r.Outcome is Outcome.Cancelled or Outcome.Skipped) - stopped.Count;
        var slurm = report.Executor == "slurm";
        var what = slurm ? "submitted or being submitted (what became of their jobs is said above)" : "running and were stopped";
        var next = slurm ? "the next build runs them again, or collects the jobs said above to be left running or completed" : "they rerun in the next build";
        log.Report(new Diagnostic(Severity.Error, ErrorCodes.StageCancelled, report.Mode == "explain"
            // The plan task's check (and -t:Explain) runs nothing: only what it looked at.
            ? $"KdGat: cancelled while checking what is up to date: {done} stage instance(s) checked, {notStarted} not. Nothing was run or changed; build again to go on."
            : $"KdGat: {report.Mode} cancelled. " +
              (stopped.Count > 0 ? $"{stopped.Count} stage instance(s) were {what}: {string.Join(", ", stopped.Select(r => r.Instance.Key))}; they stay stale ({next}). " : "") +
              $"{done} ended before the cancel and keep their results; {notStarted} were not started. Build again to go on."));
    }
}
