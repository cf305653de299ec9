using KdGat.Core.Engine;
using Microsoft.Build.Framework;

namespace KdGat.Tasks;

/// <summary>
/// Brings the requested stage instances up to date (or, with Explain, says what would run and
/// why). Ctrl+C cancels: running local stages are killed and stay stale.
/// </summary>
public sealed class KdGatBuild : PipelineTask, ICancelableTask, IIncrementalTask
{
    private readonly CancellationTokenSource _cancel = new();

    public bool Explain { get; set; }
    /// <summary>Set by MSBuild under -question: run nothing, and every stale stage instance is an error.</summary>
    public bool FailIfNotIncremental { get; set; }
    /// <summary>-p:FailIfStale=true: a CI gate, with Explain or a target that runs stages: nothing runs, and every stage instance that would run is an error (KDG3011).</summary>
    public string? FailIfStale { get; set; }
    /// <summary>Rebuild: -p:Stage selects the stage and its downstream (what Clean cleaned), plus what they need.</summary>
    public bool StageWithDownstream { get; set; }
    /// <summary>-p:Stage: only this stage and what it needs.</summary>
    public string? Stage { get; set; }
    // Strings, not bool/int: a bad -p: value gets KDG1205 naming the property instead of MSB4030.
    public string? VerifyHashes { get; set; }
    public string? MaxParallelStages { get; set; }
    public string? Executor { get; set; }
    /// <summary>-p:Wait=false (SLURM): submit and return; a later build collects the jobs.</summary>
    public string? Wait { get; set; }
    /// <summary>-p:CancelOnAbort=false (SLURM): Ctrl+C leaves submitted jobs running for a later build to re-attach.</summary>
    public string? CancelOnAbort { get; set; }
    /// <summary>-t:Audit: run the selected stages, forced, under strace and check what they read and wrote.</summary>
    public string? Audit { get; set; }
    /// <summary>-t:Adopt: write manifests for the selected instances whose outputs all exist, running nothing.</summary>
    public string? Adopt { get; set; }
    /// <summary>-p:AdoptOverwrite=true: Adopt may replace a manifest that records another result.</summary>
    public string? AdoptOverwrite { get; set; }

    /// <summary>-p:ReportFile: the live report a build rewrites while it runs (default .kdgat/report.html, relative to the pipeline root).</summary>
    public string? ReportFile { get; set; }
    /// <summary>-p:LiveReport=false: no live report.</summary>
    public string? LiveReport { get; set; }
    /// <summary>-p:LiveReportRefresh: seconds between the live report's self-reloads while stages run (1-3600, default 5).</summary>
    public string? LiveReportRefresh { get; set; }

    /// <summary>One item per stage instance: Include = dataset/stage, metadata Dataset, Stage, Outcome, Reasons, ReasonKinds, Log, Seconds, Attempts, JobId, ExitCode.</summary>
    [Output] public ITaskItem[] Results { get; private set; } = [];

    /// <summary>
    /// False when every instance was up to date and no run record was written: the index step
    /// after the build (_KdGatIndexAfterRun) then has nothing to do and is skipped. True otherwise,
    /// and empty when the task failed (the index step runs).
    /// </summary>
    [Output] public bool WroteState { get; private set; } = true;

    // MSBuild may call Cancel many times (thousands under a task host): keep it idempotent.
    public void Cancel()
    {
        try { _cancel.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>Where the live report goes: -p:ReportFile relative to the root, else .kdgat/report.html (where -t:Report writes too).</summary>
    /// <param name="source">Where the value came from: -p:ReportFile, or an environment variable (KDG1225, <see cref="PipelineTask"/>.Given).</param>
    internal static string LiveReportPath(string root, string? reportFile, string source) =>
        ReportPath(root, reportFile, KdGat.Core.Diagnostics.ErrorCodes.LiveReportBadProperty, ", or -p:LiveReport=false for no live report", source);

    /// <param name="given">Where the value came from: -p:LiveReportRefresh, or an environment variable (KDG1225, <see cref="PipelineTask"/>.Given).</param>
    internal static int ParseRefresh(string? value, string given)
    {
        if (string.IsNullOrWhiteSpace(value)) return KdGat.Core.Tracking.LiveReport.DefaultRefreshSeconds;
        return int.TryParse(value.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 3600
            ? n
            : throw new KdGat.Core.Diagnostics.KdgException(KdGat.Core.Diagnostics.ErrorCodes.LiveReportBadProperty,
                $"{given} must be a whole number of seconds from 1 to 3600, not '{value}'.");
    }

    private protected override bool Run(MSBuildLog log)
    {
        // -p:FailIfStale=true on a target that runs stages is the CI gate -question is: run nothing, fail on
        // what would run (it was read by Explain alone, and such a "gate" ran the stages; a review).
        var gate = GateAsked(FailIfNotIncremental, FailIfStale) is not null;
        var mode = Explain || gate ? BuildMode.Explain : ParseBool(nameof(Adopt), Adopt, false) ? BuildMode.Adopt : BuildMode.Build;
        var request = Request(mode) with
        {
            OnlyStage = Stage,
            StageWithDownstream = StageWithDownstream,
            FailIfStale = gate,
            // -question writes nothing: not the hash cache either (as -t:Graph -question, 06d6a95); -p:FailIfStale=true may.
            SaveHashCache = !FailIfNotIncremental,
            VerifyHashes = ParseBool(nameof(VerifyHashes), VerifyHashes, false),
            MaxParallelStages = ParseCount(nameof(MaxParallelStages), MaxParallelStages),
            Executor = ParseExecutor(Executor),
            Wait = ParseBool(nameof(Wait), Wait, true),
            CancelOnAbort = ParseBool(nameof(CancelOnAbort), CancelOnAbort, true),
            Audit = ParseBool(nameof(Audit), Audit, false),
            AdoptOverwrite = ParseBool(nameof(AdoptOverwrite), AdoptOverwrite, false),
        };
        if (mode == BuildMode.Build && ParseBool(nameof(LiveReport), LiveReport, true))
            request = request with
            {
                LiveReportFile = LiveReportPath(Root, ReportFile, Given(nameof(ReportFile))),
                LiveReportRefreshSeconds = ParseRefresh(LiveReportRefresh, Given(nameof(LiveReportRefresh))),
            };
        var engine = new BuildEngine(session: Session());
        var report = engine.RunAsync(request, log, _cancel.Token).GetAwaiter().GetResult();
        WroteState = engine.WroteState;
        Results = report.Stages.Select(s =>
        {
            var item = new Microsoft.Build.Utilities.TaskItem(s.Variant is null ? $"{s.Dataset}/{s.Stage}" : $"{s.Dataset}/{s.Stage}/{s.Variant}");
            item.SetMetadata("Dataset", s.Dataset);
            item.SetMetadata("Stage", s.Stage);
            item.SetMetadata("Variant", s.Variant ?? "");
            item.SetMetadata("Outcome", s.Outcome);
            item.SetMetadata("Reasons", string.Join("; ", s.Reasons));
            item.SetMetadata("Log", s.Log ?? "");
            // Structured in the binlog (task output items): duration, attempts, job, exit code.
            item.SetMetadata("Seconds", s.Seconds?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "");
            item.SetMetadata("Attempts", s.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture));
            item.SetMetadata("JobId", s.JobId ?? "");
            item.SetMetadata("ExitCode", s.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "");
            item.SetMetadata("ReasonKinds", string.Join(";", s.ReasonKinds));
            return (ITaskItem)item;
        }).ToArray();
        return report.Succeeded; // a cancel is summarized by the engine (KDG3004)
    }
}
