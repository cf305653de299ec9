using System.Globalization;
using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Execution;
using KdGat.Core.Execution.Slurm;
using KdGat.Core.Hashing;
using KdGat.Core.IO;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;

namespace KdGat.Core.Tracking;

/// <summary>Status of one stage instance: up-to-date, stale, running, queued (a SLURM job waiting), ended (a SLURM job not collected yet), interrupted or failed.</summary>
internal sealed record StatusRow(string Dataset, string Stage, string State, string Detail, string? JobId = null, string? Log = null, IndexedRun? Last = null)
{
    public const string UpToDate = "up-to-date", Stale = "stale", Running = "running", Queued = "queued", Ended = "ended", Interrupted = "interrupted", Failed = "failed";
    /// <summary>Its job or process is still on its way: running, or a SLURM job waiting in the queue.</summary>
    public bool Active => State is Running or Queued;
    /// <summary>A swept instance's grid point ("seed=1"); null for an unswept one.</summary>
    public string? Variant { get; init; }
    /// <summary>For an up-to-date instance: the build and attempt its manifest names, i.e. the run that made its current result.</summary>
    public (string BuildId, int Attempt)? Result { get; init; }
    public string Key => Variant is null ? $"{Dataset}/{Stage}" : $"{Dataset}/{Stage}/{Variant}";
}

/// <summary>A comparison variant: a column name and the stages whose metrics fill it (e.g. large = eval_large_evaluation).</summary>
internal sealed record Variant(string Name, IReadOnlyList<string> Stages);

/// <summary>
/// Compare's answer. A column is a comparison variant, or for a swept stage a variant at one point
/// of the grid's other dimensions ("large [lr=0.003]"); seeds are aggregated within it.
/// <see cref="Sources"/>: the latest run behind each cell; <see cref="Groups"/>: every run behind it (one per seed).
/// </summary>
internal sealed record CompareTable(IReadOnlyList<string> Variants, IReadOnlyList<CompareRow> Rows, IReadOnlyDictionary<(string Dataset, string Variant), IndexedRun> Sources)
{
    public IReadOnlyDictionary<(string Dataset, string Variant), IReadOnlyList<IndexedRun>> Groups { get; init; } =
        new Dictionary<(string Dataset, string Variant), IReadOnlyList<IndexedRun>>();
    /// <summary>
    /// Cells whose values are not (all) from the current result of their instances, and why: "stale",
    /// "failed", "2 of 3 seeds not current (...)". A from-scratch build of today's tree could give
    /// other values there; Compare and the report say so next to each such value.
    /// </summary>
    public IReadOnlyDictionary<(string Dataset, string Variant), string> NotCurrent { get; init; } =
        new Dictionary<(string Dataset, string Variant), string>();

    /// <summary>Cells whose seeds -p:Sweep narrowed: how many of the grid's seeds they hold.</summary>
    public IReadOnlyDictionary<(string Dataset, string Variant), SweepShare> Narrowed { get; init; } =
        new Dictionary<(string Dataset, string Variant), SweepShare>();

    /// <summary>" (NOT CURRENT: stale)" after the source of a cell that is not current; "" otherwise.</summary>
    public string Mark(string dataset, string variant) => NotCurrent.TryGetValue((dataset, variant), out var why) ? $" (NOT CURRENT: {why})" : "";

    /// <summary>Every metric the cells hold, before -p:Metrics chose among them: what a name there can match.</summary>
    public IReadOnlyList<string> Metrics { get; init; } = [];

    /// <summary>
    /// A KDG5026 text per name of <paramref name="filter"/> that matches no metric here (-p:Metrics="f1 acc" showed f1
    /// and said nothing of acc), with a guess and the names there are; none while nothing recorded metrics (KDG5020 says so).
    /// </summary>
    /// <param name="given">Where the names came from: -p:Metrics, or an environment variable METRICS (BuildRequest.Given).</param>
    public IEnumerable<string> UnknownMetrics(IReadOnlyCollection<string> filter, IEnumerable<string> datasets, string given = "-p:Metrics")
    {
        if (Metrics.Count == 0) yield break;
        foreach (var name in filter.Distinct(StringComparer.Ordinal).Where(m => !Metrics.Contains(m, StringComparer.Ordinal)))
        {
            // 'acc' for 'accuracy' is too many edits away: a name it begins is a guess too.
            var near = Spelling.Nearest(name, Metrics, 2) ?? Metrics.FirstOrDefault(m => m.StartsWith(name, StringComparison.OrdinalIgnoreCase));
            yield return $"KdGat: {given} names '{name}', which no run shown recorded in {string.Join(", ", datasets)}, so Compare leaves it out.{Spelling.Offer(name, near)} " +
                         $"Metrics recorded: {string.Join(", ", Metrics.Take(30))}{(Metrics.Count > 30 ? $", ... ({Metrics.Count} in all)" : "")}.";
        }
    }

    /// <summary>Selected datasets with no metrics at all (never built, or every stage failed): a line each, not a silently missing row.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary><see cref="Values"/>: the value, or the mean over seeds; <see cref="Stats"/>: mean, sample standard deviation and n per cell.</summary>
internal sealed record CompareRow(string Dataset, string Metric, IReadOnlyList<double?> Values)
{
    public IReadOnlyList<MetricStats?> Stats { get; init; } = [];
    /// <summary>Per column: "1 of 3 seeds has no value for f1 (seed=2)" when seeds that count have no number for this metric; null otherwise.</summary>
    public IReadOnlyList<string?> Gaps { get; init; } = [];
    public string? Gap(int column) => column < Gaps.Count ? Gaps[column] : null;
}

/// <summary>A cell -p:Sweep narrowed: <paramref name="Seeds"/> of the grid's <paramref name="Of"/> seeds selected, by <paramref name="Selection"/> ("seed=1").</summary>
internal sealed record SweepShare(int Seeds, int Of, string Selection)
{
    /// <summary>"1 of 3 seeds (-p:Sweep=seed=1)".</summary>
    public override string ToString() => $"{Seeds} of {Of} seeds (-p:Sweep={Selection})";
}

/// <summary>One metric over the seeds of one cell: mean, sample standard deviation (0 for n = 1), n.</summary>
internal sealed record MetricStats(double Mean, double Std, int N)
{
    /// <summary>Set when -p:Sweep left out seeds of the cell's grid: the value is not the grid's, and it says so even for n=1.</summary>
    public SweepShare? Share { get; init; }

    /// <summary>The seeds whose value is NaN or infinite, with it ("seed=1: NaN"): a diverged seed makes the mean NaN or inf, and the cell says which.</summary>
    public IReadOnlyList<string> NonFinite { get; init; } = [];

    /// <param name="points">Each value's grid point ("seed=1"), to name a diverged one.</param>
    public static MetricStats Of(IReadOnlyList<double> xs, IReadOnlyList<string>? points = null)
    {
        var mean = xs.Average();
        var std = xs.Count > 1 ? Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1)) : 0;
        return new(mean, std, xs.Count)
        {
            NonFinite = xs.Select((x, i) => (x, i)).Where(v => !double.IsFinite(v.x))
                .Select(v => $"{(points is not null && v.i < points.Count ? points[v.i] : $"value {v.i + 1}")}: {Tracker.Number(v.x)}").ToArray(),
        };
    }

    /// <summary>
    /// "0.5" for one run, "0.91 ± 0.004 (n=3)" over seeds; "NaN (n=3; seed=1: NaN)" with a diverged seed (no ± of it);
    /// with seeds -p:Sweep left out, n says of how many and why: "0.5 (n=1 of 3 seeds, -p:Sweep)".
    /// </summary>
    public override string ToString()
    {
        // The selection's text is on the cell's source line and under the table: in every cell it made the table twice as wide.
        var n = Share is { } s ? $"n={N} of {s.Of} seeds, -p:Sweep" : $"n={N}";
        return N <= 1 && Share is null ? Tracker.Number(Mean)
            : NonFinite.Count > 0 ? $"{Tracker.Number(Mean)} ({n}; {string.Join(", ", NonFinite)})"
            : N <= 1 ? $"{Tracker.Number(Mean)} ({n})"
            : $"{Tracker.Number(Mean)} ± {Tracker.Number(Std)} ({n})";
    }
}

/// <summary>
/// The tracking front end the MSBuild targets call: loads the pipeline, archives manifests, opens
/// (and brings up to date) the index, and answers Status, History, Compare and Report.
/// </summary>
internal sealed class Tracker : IDisposable
{
    private Tracker(LoadedPipeline pipeline, RecordStore records, ManifestArchive archive, RunIndex index, IBuildLog log, string pipelineFile)
    {
        _pipelineFile = pipelineFile;
        Pipeline = pipeline;
        Records = records;
        Archive = archive;
        Index = index;
        Log = log;
    }

    private readonly string _pipelineFile;
    /// <summary>For errors about a property's value: the environment variable that gave it, not a -p: (KDG1225).</summary>
    private IReadOnlyList<EnvironmentProperty> _fromEnvironment = [];
    public LoadedPipeline Pipeline { get; }
    public RecordStore Records { get; }
    public ManifestArchive Archive { get; }
    public RunIndex Index { get; }
    public IBuildLog Log { get; }
    /// <summary>-question: nothing is written (<see cref="Open"/>'s lookOnly).</summary>
    public bool LookOnly { get; private init; }
    /// <summary>-question: what bringing the run index up to date would change ("the run index PATH (3 run record(s) to add...)"), or null.</summary>
    public string? IndexWouldChange { get; private init; }

    /// <param name="cancel">Ctrl+C: an OperationCanceledException between manifests or record files (a large history takes seconds).</param>
    /// <param name="lookOnly">-question: write nothing (no manifest archived, the index brought up to date in a copy, <see cref="IndexWouldChange"/>; no hash cache saved).</param>
    /// <param name="sayEnvironment">False after a build (its index step): the build has said its KDG1225 warnings once already.</param>
    public static Tracker Open(BuildRequest request, IBuildLog log, string? indexPath = null, CancellationToken cancel = default, bool lookOnly = false, bool sayEnvironment = true)
    {
        var pipeline = LoadedPipeline.Load(request);
        if (sayEnvironment) foreach (var warning in EnvironmentProperties.Warnings(request)) log.Report(warning);
        var layout = pipeline.Layout;
        var records = new RecordStore(layout.StateDir);
        var archive = new ManifestArchive(layout.StateDir);
        if (!lookOnly) archive.CaptureOrWarn(pipeline.Instances.TakeWhile(_ => !cancel.IsCancellationRequested), log);
        cancel.ThrowIfCancellationRequested();
        var location = IndexLocation.Choose(layout.Root, indexPath);
        var (index, wouldChange) = lookOnly ? RunIndex.OpenCopy(location, records, log, cancel) : (RunIndex.Open(location, records, log, cancel), null);
        if (!lookOnly && index.RebuiltBecause is { } why && why == "no index yet")
            log.Info($"KdGat: run index created at {location.DbPath} from {index.Count()} run record(s) ({location.Why})");
        return new Tracker(pipeline, records, archive, index, log, request.PipelineFile)
            { _fromEnvironment = request.FromEnvironment, LookOnly = lookOnly, IndexWouldChange = wouldChange is null ? null : $"the run index {location.DbPath} ({wouldChange})" };
    }

    /// <summary>Indexes new records (after every build). Open has already archived the current manifests and ingested once.</summary>
    public IngestResult Sync() => Index.LastIngest ?? Index.Ingest();

    // ---------------------------------------------------------------- Status

    /// <param name="cancel">Ctrl+C: an OperationCanceledException between instances, files and 1 MiB reads; the hashes finished by then are saved.</param>
    /// <param name="checkedOne">Told each row as its instance is checked (tests: a Ctrl+C between two instances).</param>
    public async Task<IReadOnlyList<StatusRow>> StatusAsync(string? onlyStage = null, CancellationToken cancel = default, Action<StatusRow>? checkedOne = null)
    {
        var layout = Pipeline.Layout;
        var latest = Index.Latest();
        // Ctrl+C stops the check between files and 1 MiB reads, and between instances (whose hash cache hits look at no cancel):
        // a Status of 7,800 instances went on to its end.
        var planner = Planner.Open(layout, cancel: cancel);
        var digests = new Dictionary<StageInstance, string?>();
        var rows = new List<StatusRow>();
        var unreadable = new Dictionary<StageInstance, string>();
        var journals = Pipeline.Instances.ToDictionary(i => i, i =>
        {
            var g = new OutputGuard(i);
            var (j, why) = g.LookAtJournal();
            if (why is not null) unreadable[i] = UnreadableJournal(g, why, layout.Root);
            return j is null ? ((OutputGuard.JournalEntry Journal, bool Copied, string? KeptAt, bool Committed)?)null
                : (Journal: j, Copied: g.CameWithACopy(j), KeptAt: g.KeepsUnrecoveredAt(j) is { } kept ? PathText.ToStored(layout.Root, kept) : null, Committed: g.Committed(j));
        });
        // Not a job of a journal that came with a copy of the tree: it is the other tree's.
        var jobs = await SlurmExecutor.QueryAsync(journals.Values.Where(a => a is { Copied: false }).Select(a => a!.Value.Journal.StartedAs).OfType<AttemptHandle>(), cancel).ConfigureAwait(false);
        try
        {
            foreach (var s in Pipeline.Instances) // dependency order
                rows.Add(StatusOf(s));
        }
        catch (OperationCanceledException)
        {
            // What was hashed before the Ctrl+C is saved (atomically, as always): the next Status hashed it all again, tens of GB
            // of real data. Rows of files deleted since are left to the next save, as after a build's Ctrl+C (a stat per row).
            if (!LookOnly) try { planner.Cache!.Save(dropDeleted: false); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // a lost save only costs hashing again
            throw;
        }
        if (!LookOnly) SaveHashCache(planner.Cache!); // -question writes nothing
        return onlyStage is null ? rows : rows.Where(r => r.Stage == onlyStage).ToArray();

        StatusRow StatusOf(StageInstance s)
        {
            cancel.ThrowIfCancellationRequested();
            latest.TryGetValue((s.Dataset, s.Slot), out var last);
            string? digest = null, fingerprint = null;
            Manifests.StageManifest? current = null;
            IReadOnlyList<string> reasons;
            var rerunning = s.Upstreams.Where(u => digests[u] is null).ToArray();
            if (rerunning.Length > 0)
                reasons = Planner.UpstreamsNotUpToDate(rerunning.Select(u => u.Name)).Select(r => r.Text).ToArray();
            else if (RawData.Missing(s) is { } missing) // as Explain says it: not a missing input to create by hand
                reasons = [missing.Text];
            else
            {
                try
                {
                    var v = planner.Check(s, s.Upstreams.ToDictionary(u => u.Name, u => digests[u]!), _ => { });
                    reasons = v.Reasons.Select(r => r.Text).ToArray();
                    fingerprint = v.Fingerprint;
                    if (v.UpToDate) (digest, current) = (v.Previous!.OutputsDigest, v.Previous);
                }
                catch (KdgException e)
                {
                    reasons = [e.Message];
                }
            }
            digests[s] = digest;
            // The run behind the current result, which a later failed or cancelled attempt (rolled back) is not.
            var made = current is not null && last is not null && (last.Record.BuildId != current.BuildId || last.Record.Attempt != current.Attempt)
                ? RunOf(s, current.BuildId, current.Attempt) : last;
            var row = (unreadable.TryGetValue(s, out var damaged) ? new StatusRow(s.Dataset, s.Name, StatusRow.Interrupted, damaged, Last: last)
                : Classify(s, reasons, fingerprint, last, journals[s], jobs, made, current is null ? null : (current.BuildId, current.Attempt)))
                with { Variant = s.Sweep.IsEmpty ? null : s.Variant, Result = current is null ? null : (current.BuildId, current.Attempt) };
            checkedOne?.Invoke(row);
            return row;
        }
    }

    /// <summary>
    /// The hash cache only speeds up the next check: where it cannot be written (a full disk or quota, a read-only
    /// .kdgat) Status and Compare warn as a build does (KDG2008) and answer; the whole check was lost, blamed on the
    /// run index (KDG5005).
    /// </summary>
    private void SaveHashCache(HashCache cache)
    {
        try { cache.Save(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Warn(ErrorCodes.StateWriteFailed, $"could not write the hash cache ({e.Message}); what is shown is not affected, the next check hashes again what it would have kept. Check free space and permissions under .kdgat/.");
        }
    }

    /// <summary>An instance whose attempt journal cannot be read: what the next build does with it (<see cref="OutputGuard.RecoverIfNeededAsync"/>).</summary>
    private static string UnreadableJournal(OutputGuard g, string why, string root) => why == OutputGuard.PermissionDenied
        ? $"an attempt was interrupted, and its journal {g.JournalStored} cannot be read ({why}): the next build fails this stage ({ErrorCodes.StageIoError}) until this user may read and write {PathText.ToStored(root, g.StateDir)}/; then it recovers the attempt and decides the stage again"
        : $"an attempt was interrupted, and its journal {g.JournalStored} is damaged ({why}), so which attempt it was cannot be told: the next build puts back what of the previous result was moved aside (by its place in today's outputs list) and decides the stage again (Explain shows which); " +
          "a process or SLURM job of that attempt still running is not stopped by it (the journal would name it): check `ps` or `squeue` first";

    /// <summary>The indexed run of one attempt; asked only when a current result is not its instance's latest run.</summary>
    private IndexedRun? RunOf(StageInstance s, string buildId, int attempt) =>
        Index.RunOf(s.Dataset, s.Name, s.Sweep.IsEmpty ? null : s.Variant, buildId, attempt);

    /// <param name="fingerprint">The fingerprint a build would run the stage with now; null while an upstream is not up to date (it is not known yet).</param>
    /// <param name="made">For an up-to-date instance, the run that made its current result (not a later attempt that failed and changed nothing); null when the index has none.</param>
    /// <param name="result">For an up-to-date instance, the build and attempt its manifest names.</param>
    /// <param name="attempt">
    /// The instance's attempt journal, whether it came with a copy of the tree (its attempt runs, or ran, in the other one), and where
    /// recovery keeps the previous result instead of putting it back (<see cref="OutputGuard.KeepsUnrecoveredAt"/>, stored), if it does,
    /// and whether the attempt committed (<see cref="OutputGuard.Committed"/>).
    /// </param>
    private static StatusRow Classify(StageInstance s, IReadOnlyList<string> reasons, string? fingerprint, IndexedRun? last, (OutputGuard.JournalEntry Journal, bool Copied, string? KeptAt, bool Committed)? attempt,
        IReadOnlyDictionary<string, JobStatus>? jobs, IndexedRun? made, (string BuildId, int Attempt)? result = null)
    {
        // Committed, and its build died before the journal went: the next build keeps this result (it only drops aside/),
        // so the instance is what its manifest says. "Interrupted ... puts the previous result back" was untrue (a review).
        // A SLURM job's journal here still goes to SubmittedJobRow: that build looks at the job first.
        if (attempt is { Committed: true, Journal: var done }
            && (attempt.Value.Copied || done.StartedAs is not { IsBatchJob: true } && !BuildIsAlive(done.Host, done.BuildPid, done.BuildStartTicks)))
            attempt = null;
        // An older KdGat's journal after the outputs list changed: recovery keeps the previous result under unrecovered/ (a review: Status promised it back).
        var recovery = attempt?.KeptAt is { } kept
            ? OutputGuard.KeepsUnrecoveredText(kept)
            : "puts the previous result back and decides the stage again";
        if (attempt is ({ } copiedJournal, true, _, _))
            return new StatusRow(s.Dataset, s.Name, StatusRow.Interrupted,
                $"attempt {copiedJournal.AttemptId} came with a copy of the tree it ran in (its journal was copied too); the next build here {recovery}, and leaves what runs in the other tree alone",
                copiedJournal.StartedAs?.RecordedId, Last: last);
        if (attempt?.Journal is { } journal)
        {
            var alive = BuildIsAlive(journal.Host, journal.BuildPid, journal.BuildStartTicks);
            if (journal.StartedAs is { IsBatchJob: true } job && !alive)
                return SubmittedJobRow(s, journal, job.Id, jobs, last);
            if (alive)
                return new StatusRow(s.Dataset, s.Name, StatusRow.Running,
                    $"{(journal.StartedAs is { } h ? h.Describe() : "starting")} (attempt {journal.AttemptId}, build pid {journal.BuildPid} on {journal.Host})",
                    journal.StartedAs?.RecordedId, Last: last);
            return new StatusRow(s.Dataset, s.Name, StatusRow.Interrupted,
                $"attempt {journal.AttemptId} was interrupted (its build, pid {journal.BuildPid}, is gone); the next build {recovery}{(attempt.Value.KeptAt is null ? ": it reruns if that result is not up to date" : ", or is restored from the cache")} (Explain shows which)",
                journal.StartedAs?.RecordedId, Last: last);
        }
        if (reasons.Count == 0)
        {
            var detail = made is null ? "up to date"
                : made.Record.State == Engine.Outcome.Adopted ? $"adopted {Local(made.Record.FinishedUtc)} (build {made.Record.BuildId}; produced outside KdGat)"
                : made.Record.State == Engine.Outcome.Restored ? $"restored from the cache {Local(made.Record.FinishedUtc)} (build {made.Record.BuildId})"
                : $"last ran {Local(made.Record.FinishedUtc)} ({Duration(made.Record.WallSeconds)}, build {made.Record.BuildId})";
            if (made is null && last is not null && result is { } m)
                // Not indexed: its record was deleted or could not be read. The indexed runs are not later attempts (they may be older).
                detail += $"; the run record of its current result (build {m.BuildId}, attempt {m.Attempt}) is missing or unreadable (a KDG5002 warning names an unreadable one), so History and Compare do not have it";
            else if (last is not null && last != made)
                detail += $"; a later attempt ({last.Record.State}, {Local(last.Record.FinishedUtc)}, build {last.Record.BuildId}) left this result as it was";
            return new StatusRow(s.Dataset, s.Name, StatusRow.UpToDate, detail, Last: last);
        }
        if (last is not null && last.Record.State == Engine.Outcome.Cancelled)
        {
            // A Ctrl+C (or scancel) is not the stage failing: stale, and no KDG5021 "fix what its log says".
            var r = last.Record;
            return new StatusRow(s.Dataset, s.Name, StatusRow.Stale,
                $"{string.Join("; ", reasons)}; its last attempt was cancelled at {Local(r.FinishedUtc)} (attempt {r.Attempt}{(r.JobId is null ? "" : ", job " + r.JobId)})",
                r.JobId, r.Log, last);
        }
        if (last is not null && last.Record.State == Engine.Outcome.Failed)
        {
            var r = last.Record;
            // "Completed" is the process's end, not the attempt's (its outputs were missing): not said beside "failed".
            var what = r.ExecState is null or "Failed" or "Completed" ? $"exit code {r.ExitCode}" : $"{r.ExecState}, exit code {r.ExitCode}";
            var failure = $"{what} at {Local(r.FinishedUtc)} (attempt {r.Attempt}{(r.JobId is null ? "" : ", job " + r.JobId)}){(r.Detail is null ? "" : ": " + r.Detail)}";
            // Failed: a build would run it as it failed (the same fingerprint). After a change (its configuration, an upstream that
            // reruns first) the old failure is history, not what to fix: stale, saying so (a first-contact review).
            if (fingerprint is not null && fingerprint == r.Fingerprint)
                return new StatusRow(s.Dataset, s.Name, StatusRow.Failed, failure + LogUnlessSaid(r), r.JobId, r.Log, last);
            return new StatusRow(s.Dataset, s.Name, StatusRow.Stale,
                $"{string.Join("; ", reasons)}; its last attempt failed with what has changed since ({failure}{LogUnlessSaid(r)})", r.JobId, r.Log, last);
        }
        return new StatusRow(s.Dataset, s.Name, StatusRow.Stale, string.Join("; ", reasons), Last: last);
    }

    /// <summary>
    /// Whether the build that journalled an attempt still runs: on another host it is taken to; here
    /// its process must exist, not be a zombie (a killed build its parent had not reaped kept its
    /// SLURM jobs "running" in Status; a SLURM review), and have started when the build did (a
    /// process that took the pid since is not it; journals of an older KdGat do not say).
    /// </summary>
    internal static bool BuildIsAlive(string host, int pid, long? startTicks = null) =>
        host != Environment.MachineName
        || Execution.Local.AttemptProcesses.StartTicksOf(pid) is { } started && (startTicks is null || started == startTicks);

    /// <summary>"; log: PATH", unless the failure's own detail names that log already (it was said twice).</summary>
    private static string LogUnlessSaid(RunRecord r) =>
        r.Log is null || (r.Detail?.Contains(r.Log, StringComparison.Ordinal) ?? false) ? "" : "; log: " + r.Log;

    /// <summary>
    /// A SLURM job whose build is gone (-p:Wait=false, or the build was killed): the job lives on
    /// and the next build re-attaches to it or collects its result, so it is never "rerun".
    /// </summary>
    private static StatusRow SubmittedJobRow(StageInstance s, OutputGuard.JournalEntry journal, string jobId, IReadOnlyDictionary<string, JobStatus>? jobs, IndexedRun? last)
    {
        if (jobs is null)
            return new StatusRow(s.Dataset, s.Name, StatusRow.Running,
                $"SLURM job {jobId} (attempt {journal.AttemptId}); SLURM did not answer, so its state is unknown; the next build re-attaches to it", jobId, Last: last);
        if (!jobs.TryGetValue(jobId, out var job))
            return new StatusRow(s.Dataset, s.Name, StatusRow.Interrupted,
                $"SLURM job {jobId} (attempt {journal.AttemptId}) is unknown to SLURM; the next build decides the stage again", jobId, Last: last);
        if (job.IsActive)
            // Waiting in the queue (PENDING on its dependency, held) is not running: 12 of 13 chained jobs were counted "running" (a SLURM user review).
            return new StatusRow(s.Dataset, s.Name, Execution.Slurm.SlurmState.IsRunning(job.State) ? StatusRow.Running : StatusRow.Queued,
                $"SLURM job {jobId} {job.State}{(string.IsNullOrEmpty(job.Reason) || job.Reason == "None" ? "" : $" ({job.Reason})")}; the next build re-attaches to it (nothing is submitted twice){AsSubmitted}", jobId, Last: last);
        // Ended, not "interrupted": a COMPLETED job of a -p:Wait=false build was interrupted by nothing (a first-contact review).
        // Only a COMPLETED job has a result to collect: a cancelled, failed or timed-out one was promised as one (a SLURM review).
        return new StatusRow(s.Dataset, s.Name, StatusRow.Ended,
            Execution.Slurm.SlurmState.Normalize(job.State) == "COMPLETED"
                ? $"SLURM job {jobId} ended COMPLETED; the next build collects its result without resubmitting{AsSubmitted}"
                : $"SLURM job {jobId} ended {job.State} (exit code {job.ExitCode}); it left no result: the next build records how it ended, and the stage stays stale until it runs again", jobId, Last: last);
    }

    // What InstanceRunner.Chain checks before it re-attaches or collects.
    private const string AsSubmitted = " if the stage and its upstreams are still what the job was submitted against (else the job is dropped, cancelled if it still runs, and the stage decided again)";

    // ---------------------------------------------------------------- History

    /// <summary>Past runs of <paramref name="stage"/> in the selected datasets, newest first.</summary>
    public IReadOnlyList<IndexedRun> History(string? stage, int limit = 0)
    {
        if (string.IsNullOrWhiteSpace(stage))
            throw new KdgException(ErrorCodes.HistoryNeedsStage,
                $"History needs a stage: dotnet msbuild -t:History -p:Stage=<stage>. Stages: {string.Join(", ", StageNames())}.");
        return Index.Newest(RequireStage(stage), Shows, limit);
    }

    /// <summary>How many runs <see cref="History"/> without a limit lists.</summary>
    public int HistoryCount(string stage) => Index.Count(RequireStage(stage), Shows);

    /// <summary>A run of the selected datasets and, with -p:Sweep, grid points.</summary>
    private bool Shows(string dataset, string? variant) => Pipeline.Datasets.Contains(dataset) && (Pipeline.Sweep is null || Pipeline.Sweep.Matches(variant));

    /// <summary>One recorded run by record id, build id or a unique prefix of either.</summary>
    public IndexedRun FindRun(string runId, string? stage = null)
    {
        var all = Index.Matching(runId, stage);
        var exact = all.Where(r => r.Record.RecordId == runId).ToArray();
        var matches = exact.Length > 0 ? exact
            : all.Where(r => r.Record.RecordId.StartsWith(runId, StringComparison.Ordinal) || r.Record.BuildId == runId).ToArray();
        if (matches.Length == 1) return matches[0];
        if (matches.Length == 0)
            throw new KdgException(ErrorCodes.UnknownRunId,
                $"no recorded run '{(runId.Length > 120 ? runId[..120] + "..." : runId)}'{(stage is null ? "" : $" of stage {stage}")}. Run ids are in the last column of History (-t:History -p:Stage=<stage>).");
        throw new KdgException(ErrorCodes.UnknownRunId,
            $"run id '{runId}' matches {matches.Length} runs ({string.Join(", ", matches.Take(5).Select(m => m.Record.RecordId))}{(matches.Length > 5 ? ", ..." : "")}). Give the full run id, or add -p:Stage and -p:Dataset.");
    }

    public string RequireStage(string stage)
    {
        stage = stage.Trim();
        if (StageNames().Contains(stage)) return stage;
        throw Pipeline.Graph.Unknown(stage, _pipelineFile, EnvironmentProperties.Given(_fromEnvironment, "Stage"));
    }

    public IReadOnlyList<string> StageNames() => Pipeline.Graph.Stages.Select(s => s.Name).ToArray();

    // ---------------------------------------------------------------- Compare

    /// <summary>
    /// The question asked most: large vs small_kd vs small_nokd metrics per dataset. Each instance
    /// counts with the run that made its current result (the run record of the build and attempt
    /// its manifest names, <see cref="StatusRow.Result"/>: ran, restored or adopted) when
    /// <paramref name="status"/> says it is up to date; otherwise with its latest run that has metrics, and the cell is marked
    /// (<see cref="CompareTable.NotCurrent"/>): stale, failed, running, never built. A current run
    /// without readable metrics gives no value, never an older run's. With no variants, every stage
    /// of the current pipeline that recorded metrics is a column (a renamed or removed stage's runs
    /// stay in History, not here). A swept stage's instances that differ only by seed are one cell:
    /// mean, standard deviation and n; other swept dimensions make a column each ("large
    /// [lr=0.003]"). Runs count only when their instance is in the current grid (and -p:Sweep).
    /// </summary>
    /// <param name="status">Status rows (<see cref="StatusAsync"/>); an instance without one is marked as of unknown state.</param>
    public CompareTable Compare(IReadOnlyList<StatusRow> status, IReadOnlyList<Variant>? variants = null, IReadOnlyCollection<string>? metricFilter = null) =>
        new CompareBuilder(Pipeline, ShownRuns(status), status).Build(variants, metricFilter);

    private (IReadOnlyList<StatusRow> Status, IReadOnlyList<IndexedRun> Runs)? _shown;

    /// <summary>Compare and the report from every indexed run, as before <see cref="RunIndex.Shown"/>: what the tests hold its answers to.</summary>
    internal bool WholeHistory { get; set; }

    /// <summary>The runs Compare and the report can show for <paramref name="status"/> (<see cref="RunIndex.Shown"/>), read once per status.</summary>
    public IReadOnlyList<IndexedRun> ShownRuns(IReadOnlyList<StatusRow> status)
    {
        if (_shown is { } s && ReferenceEquals(s.Status, status)) return s.Runs;
        var runs = WholeHistory ? Index.Runs() : Index.Shown(status.Where(r => r.Result is not null).Select(r => (r.Dataset, r.Stage, r.Variant, r.Result!.Value.BuildId, r.Result.Value.Attempt)));
        _shown = (status, runs);
        return runs;
    }

    public void Dispose() => Index.Dispose();

    // ---------------------------------------------------------------- formatting

    public static string Local(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Duration(double seconds) => seconds switch
    {
        < 60 => $"{seconds.ToString("0.0", CultureInfo.InvariantCulture)} s",
        < 3600 => $"{(int)(seconds / 60)} min {(int)(seconds % 60):00} s",
        _ => $"{(int)(seconds / 3600)} h {(int)(seconds % 3600 / 60):00} min",
    };

    public static string Memory(long kb) => kb switch
    {
        <= 0 => "-",
        < 1024 * 1024 => $"{(kb / 1024.0).ToString("0", CultureInfo.InvariantCulture)} MiB",
        _ => $"{(kb / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture)} GiB",
    };

    /// <summary>
    /// A metric or a spread as every view shows it (Compare, History, the report): an integer as one,
    /// at least 4 significant digits otherwise, scientific below 0.001 ("3.21e-05"; "0.####" showed a
    /// loss of 3.21e-5 as "0" and a spread as "± 0"), never "-0"; a diverged run's NaN and infinities as
    /// Python prints them ("Infinity" was .NET's word, "∞" that of other cultures).
    /// </summary>
    public static string Number(double? v) => v switch
    {
        null => "-",
        { } x when (NonFinite(x) ?? Integer(x)) is { } word => word,
        { } x when Math.Abs(x) < 0.001 || Math.Abs(x) >= 1e15 => x.ToString("0.###e+00", CultureInfo.InvariantCulture),
        // G4, but never rounded up to a whole 1 (0.99996 is no perfect score): then as many digits as it takes.
        { } x when Math.Abs(x) < 1 => x.ToString("G4", CultureInfo.InvariantCulture) is var g && Math.Abs(double.Parse(g, CultureInfo.InvariantCulture)) < 1 ? g : x.ToString("R", CultureInfo.InvariantCulture),
        { } x => x.ToString("0.####", CultureInfo.InvariantCulture),
    };

    /// <summary>A metric in full, as stored (round-trip "R"; an integer as one), for the one-run view a value is copied from; NaN and infinities as <see cref="Number"/> says them.</summary>
    public static string Exact(double x) => NonFinite(x) ?? Integer(x) ?? x.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// An integer below 2^53 as one, whole, and -0.0 as "0": a count is exact up to there ("0.####" kept 15
    /// digits: 1234567890123457 showed as ...460); null otherwise.
    /// </summary>
    private static string? Integer(double x) =>
        Math.Abs(x) < 9007199254740992 && x == Math.Floor(x) ? ((long)x).ToString(CultureInfo.InvariantCulture) : null;

    private static string? NonFinite(double x) => x switch
    {
        double.NaN => "NaN",
        double.PositiveInfinity => "inf",
        double.NegativeInfinity => "-inf",
        _ => null,
    };

    /// <summary>
    /// The archived manifest of a run, or under -question the live one a plain History would archive first (it
    /// said "none" for a manifest not archived yet: <see cref="Open"/>'s lookOnly archives nothing); null when none.
    /// </summary>
    public (string Path, bool Archived)? ManifestOf(RunRecord r)
    {
        if (Archive.Find(r.Dataset, r.Slot, r.BuildId) is { } archived) return (archived, true);
        if (!LookOnly) return null;
        var live = Pipeline.Instances.FirstOrDefault(i => i.Dataset == r.Dataset && i.Slot == r.Slot);
        return live is not null && Archive.Uncaptured(live.Dataset, live.Slot, live.ManifestPath) is { } would && would.BuildId == r.BuildId
            ? (live.ManifestPath, false) : null;
    }

    public string Stored(string fullPath) => PathText.ToStored(Pipeline.Layout.Root, fullPath);
}
