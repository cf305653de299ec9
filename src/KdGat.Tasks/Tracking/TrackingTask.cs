using System.Globalization;
using KdGat.Core.Diagnostics;
using KdGat.Core.Tracking;
using Microsoft.Build.Framework;

namespace KdGat.Tasks.Tracking;

/// <summary>Shared by the tracking tasks: opens the tracker (ingesting new records) and prints lines.</summary>
public abstract class TrackingTask : PipelineTask, ICancelableTask, IIncrementalTask
{
    /// <summary>
    /// Set by MSBuild under -question: write nothing (no index update, no report, no manifest archived); what a run
    /// without it would write that differs from what is there fails it (KDG1218), as MSBuild's own tasks do.
    /// </summary>
    public bool FailIfNotIncremental { get; set; }

    /// <summary>-question: what this task would have written (files that differ, the index's update).</summary>
    private readonly List<string> _wouldWrite = [];

    /// <summary>-question: <paramref name="what"/> ("the report PATH") would be written by a run without it.</summary>
    private protected void WouldWrite(string what) => _wouldWrite.Add(what);

    /// <summary>The target's name, for the -question error ("Status").</summary>
    private protected virtual string Target => GetType().Name["KdGat".Length..];

    private readonly CancellationTokenSource _cancel = new();

    /// <summary>
    /// Ctrl+C while the index takes in a large history (seconds for 100,000 records): MSBuild waited for
    /// it to end and the build then failed without a KdGat line (a review). Stops between manifests and
    /// record files; idempotent (MSBuild may call it many times).
    /// </summary>
    public void Cancel()
    {
        try { _cancel.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>Ctrl+C, for what a task does after <see cref="OpenTracker"/> (Status's check of every instance).</summary>
    private protected CancellationToken Cancelled => _cancel.Token;

    /// <summary>-p:KdGatIndex: where the SQLite index lives (default: see IndexLocation).</summary>
    [FromProperty("KdGatIndex")] public string? IndexPath { get; set; }

    /// <summary>Variant items: Include = column name, metadata Stages = ';' list of stages; the defaults' FromProperty = the *DependsOn their Stages (targets) come from.</summary>
    public ITaskItem[] Variants { get; set; } = [];

    /// <summary>KdGatStageDefinition items (metadata StageTarget): a *DependsOn list names targets, the variants stages.</summary>
    public ITaskItem[] StageDefinitions { get; set; } = [];

    /// <summary>Status writes the report beside its table, which no variant changes: a variant error is a warning there.</summary>
    private protected virtual bool VariantErrorsWarn => false;

    private IReadOnlyList<string> _stageNames = [];

    /// <summary>What the task does; a failing index or record store becomes a KDG error that says what to do (see IndexFailure).</summary>
    private protected abstract bool RunTracking(MSBuildLog log);

    /// <summary>After a build (KdGatIndex Quiet): tracking problems are warnings, the build's result stands.</summary>
    private protected virtual bool WarnOnly => false;

    /// <summary>The step before a target that loads the pipeline itself (Clean): a refused configuration or selection is that target's error.</summary>
    private protected virtual bool LoadErrorsSaidLater => false;

    private protected sealed override bool Run(MSBuildLog log)
    {
        try
        {
            var done = RunTracking(log);
            return _wouldWrite.Count == 0 || !done ? done : NotUpToDate(log, "-question", Target, $"write {string.Join("; and ", _wouldWrite)}", "written");
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            log.Report(new KdgException(ErrorCodes.StageCancelled,
                $"KdGat: {GetType().Name} was cancelled (Ctrl+C) while it read the run records and manifests or checked what is up to date; nothing a build made is lost: the records stay, and the run index takes in the rest at the next build, Status, Compare or History."));
            return false;
        }
        catch (KdgException e) when (LoadErrorsSaidLater && e.Code.StartsWith("KDG1", StringComparison.Ordinal))
        {
            // The configuration or -p: selection is refused before Clean: Clean says so as its error, once
            // (it was said twice, as a warning first). After a build it stays a warning: nothing says it later.
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, $"KdGat: run index not updated: {e.Code}, said by the next step");
            return true;
        }
        catch (Exception e) when (Translate(e) is { } failure)
        {
            if (!WarnOnly) throw failure;
            log.Report(new Diagnostic(Severity.Warning, failure.Code, failure.Message, failure.File));
            return true;
        }
    }

    private KdgException? Translate(Exception e)
    {
        var location = ChosenLocation();
        return IndexFailure.From(e, WarnOnly ? ErrorCodes.IndexUpdateFailed : ErrorCodes.IndexReadFailed,
            location?.DbPath ?? (string.IsNullOrWhiteSpace(IndexPath) ? null : IndexPath), location?.IndexDirApplies ?? false);
    }

    /// <summary>Where the index is, for the message to name it and advise only what applies there; null when it cannot be told.</summary>
    private IndexLocation? ChosenLocation()
    {
        try { return IndexLocation.Choose(Root, string.IsNullOrWhiteSpace(IndexPath) ? null : IndexPath); }
        catch (Exception e) when (e is KdgException or IOException or UnauthorizedAccessException) { return null; }
    }

    private protected Tracker OpenTracker(MSBuildLog log)
    {
        var tracker = Tracker.Open(Request(), log, string.IsNullOrWhiteSpace(IndexPath) ? null : IndexPath, _cancel.Token, lookOnly: FailIfNotIncremental, sayEnvironment: !WarnOnly);
        if (tracker.IndexWouldChange is { } index) WouldWrite(index);
        _stageNames = tracker.StageNames(); // what VariantList checks the variants' stages against
        return tracker;
    }

    /// <summary>The variants, their stages checked against the pipeline's (KDG5027; after <see cref="OpenTracker"/>).</summary>
    private protected IReadOnlyList<Variant> VariantList()
    {
        var items = Variants.Select(i => new VariantItem(i.ItemSpec, SplitList(i.GetMetadata("Stages")),
            NullIfBlank(i.GetMetadata("FromProperty")), NullIfBlank(i.GetMetadata("DefiningProjectFullPath")))).ToArray();
        var definitions = StageDefinitions.Select(d => (d.ItemSpec, d.GetMetadata("StageTarget"))).ToArray();
        var commandLine = BuildEngine is IBuildEngine6 e6 ? e6.GetGlobalProperties().Keys.ToArray() : [];
        var (variants, error) = VariantStages.Resolve(items, definitions, _stageNames, NullIfBlank(PipelineFile), commandLine);
        if (error is null) return variants;
        if (!VariantErrorsWarn) throw error;
        new MSBuildLog(Log, BuildEngine, PipelineFile).Report(new Diagnostic(Severity.Warning, error.Code,
            $"{error.Message} The report shows that column empty until then.", error.File, error.Line, error.Column));
        return variants;
    }

    private static string[] SplitList(string list) => list.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? NullIfBlank(string value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private protected void Print(string line) => new MSBuildLog(Log, BuildEngine).Message(line);
}
