using KdGat.Core.Config;
using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.IO;
using KdGat.Core.Pipeline;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KdGat.Tasks;

/// <summary>
/// Runs before the stage targets and gives them their Inputs and Outputs: one KdGatStamp item per
/// planned dataset (Include = its stamp; metadata named after every stage). A stage target
/// declares <c>Inputs="@(KdGatStamp)" Outputs="@(KdGatStamp->'%(STAGE)')"</c>: that metadata is
/// the dataset's up-to-date marker for the stage, or the stamp itself for a stage not planned
/// there (an output that is its own input is never out of date). So MSBuild runs the target for
/// exactly the datasets whose marker is missing (partial build) and skips it when none is.
/// </summary>
public sealed class KdGatPlan : PipelineTask, IIncrementalTask, ICancelableTask
{
    private readonly CancellationTokenSource _cancel = new();

    /// <summary>Set by MSBuild under -question: write nothing and check nothing here (the build task answers the question).</summary>
    public bool FailIfNotIncremental { get; set; }
    /// <summary>Targets that run no stage (Explain, Clean, Graph, KdGatStages): no content check, every stage target is skipped.</summary>
    public bool KeysOnly { get; set; }
    /// <summary>-p:Stage: plan only this stage and what it needs.</summary>
    public string? Stage { get; set; }
    public string? VerifyHashes { get; set; }
    /// <summary>More stage names to give metadata for (KdGatStageDefinition items); part of the plan's certificate key.</summary>
    public ITaskItem[] StageNames { get; set; } = [];
    /// <summary>The project files that hold the stage targets (KdGatGraphFile items): a certificate's plan holds only while they are unchanged.</summary>
    public ITaskItem[] GraphFiles { get; set; } = [];
    /// <summary>The MSBuild files the bootstrap built the tools from in this process (_KdGatToolBuildFile: the tool projects, Directory.*): KDG1229 for them too.</summary>
    public ITaskItem[] ToolBuildFiles { get; set; } = [];
    /// <summary>KdGat's and MSBuild's own target names, '|' between them (_KdGatReservedTargetNames): a stage target must not have one (KDG1215).</summary>
    public string? ReservedTargetNames { get; set; }
    /// <summary>$(AllStagesDependsOn): a stage target listed there without a KdGatStageDefinition is KDG1212 (the collecting would leave its stage out).</summary>
    public string? ListedTargets { get; set; }
    /// <summary>Only look for a no-op certificate of this plan (no Stages needed); <see cref="Certified"/> says whether one answered.</summary>
    public bool CertifiedOnly { get; set; }

    /// <summary>Include = a dataset's stamp; metadata Dataset, Current (stages up to date), Stale (stages that would run), Reasons ("stage: reason; ..."), and one per stage name.</summary>
    [Output] public ITaskItem[] Stamps { get; private set; } = [];
    /// <summary>With <see cref="CertifiedOnly"/>: a certificate gave the stamps, so the stage graph (MSBuild's second evaluation) is not needed.</summary>
    [Output] public bool Certified { get; private set; }

    // Ctrl+C while hashing large inputs; idempotent (MSBuild may call it many times).
    public void Cancel()
    {
        try { _cancel.Cancel(); } catch (ObjectDisposedException) { }
    }

    private protected override bool Run(MSBuildLog log)
    {
        // In every mode, a certified no-op too: MSBuild evaluated this build's stage graph before any check of KdGat's.
        if (EvaluatedProjectFiles.InThisProcess.Check(ProjectFiles(), ToolBuildFiles.Select(f => f.GetMetadata("FullPath")).Distinct(StringComparer.Ordinal), Path.Combine(ToolsDir, "stamp")) is { } oldText) throw oldText;
        var defined = StageNames.Select(i => i.ItemSpec).Distinct(StringComparer.Ordinal).ToArray();
        var names = defined.Concat(Stages.Select(i => i.ItemSpec));
        if (CertifiedOnly)
        {
            // Under -question and in keys-only mode the plan below checks nothing: no certificate either.
            if (KeysOnly || FailIfNotIncremental) return true;
            var found = new BuildEngine(session: Session()).CertifiedPlan(PlanRequest(), Graph(defined));
            if (found is null)
            {
                // Before the stage graph's evaluation, which a stage target named like a public target turns into MSB4006.
                RefuseReservedStageTarget();
                return true;
            }
            Stamps = ItemsOf(found, [.. names.Concat(found.Select(e => e.Stage)).Distinct(StringComparer.Ordinal)]);
            Certified = true;
            return true;
        }
        if (KeysOnly || FailIfNotIncremental)
        {
            RefuseReservedStageTarget(); // before Explain's, Clean's or the stage graph's stage targets
            // No graph yet: every stage with a configuration entry (a stage target without one is KDG1006 later, so its item must arrive).
            var config = LoadConfig();
            RefuseUndefinedListedStage(() => config); // before the collecting, which would leave its stage out
            Stamps = [Item(Path.GetFullPath(PipelineFile), [.. config.Stages.Keys.Concat(names).Distinct(StringComparer.Ordinal)], null)];
            return true;
        }
        // The build task reports warnings and the decision table; here only what stops the build, and
        // what only the plan can tell (it alone has every stage target): a stage without one (KDG1012),
        // a definition naming a target KdGat finds nowhere (KDG1223, a warning; not on a certified no-op).
        if (StageTargets.UndefinedStageTarget(ProjectFiles(), [.. StageNames.Select(StageTargetOf)]) is { } undefined) log.Report(undefined);
        // A build runs such a target and stops with KDG1212 later; said here, the check below does not warn KDG1012 for its stage first.
        RefuseUndefinedListedStage(LoadConfig);
        var errors = new ErrorsOnly(log);
        var plan = new BuildEngine(session: Session()).PlanAsync(PlanRequest(), Graph(defined), errors, _cancel.Token).GetAwaiter().GetResult();
        // A cancel after the check (while the stamps were written) returned false without a word: MSBuild's bare MSB4181, or nothing at all (a crash review).
        // One during the check the engine's KDG3004 has said (it was said twice).
        if (_cancel.IsCancellationRequested)
            return errors.SaidCancel ? false : throw new KdgException(ErrorCodes.StageCancelled, "KdGat: cancelled after checking what is up to date, before the stages' targets were told. Nothing was run or changed; build again to go on.");
        Stamps = ItemsOf(plan, [.. names.Distinct(StringComparer.Ordinal)]);
        return true;
    }

    private GraphSources Graph(IReadOnlyList<string> defined) => new(
        defined,
        BuildEngine is IBuildEngine6 e6 ? [.. e6.GetGlobalProperties()] : [],
        [.. GraphFiles.Select(f => f.GetMetadata("FullPath")).Distinct(StringComparer.Ordinal)]);

    /// <summary>The files the stage targets are in: the project file first, then the KdGatGraphFile items.</summary>
    private string[] ProjectFiles() =>
        [.. GraphFiles.Select(f => f.GetMetadata("FullPath")).Prepend(Path.GetFullPath(PipelineFile)).Distinct(StringComparer.Ordinal)];

    private void RefuseReservedStageTarget()
    {
        if (StageTargets.ReservedStageTarget(ProjectFiles(), (ReservedTargetNames ?? "").Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) is { } reserved)
            throw reserved;
    }

    private PipelineConfig LoadConfig() => ConfigLoader.Load(Path.GetFullPath(Path.Combine(Root, ConfigFile)), Path.GetFullPath(Root));

    /// <summary>KDG1212 for a stage target $(AllStagesDependsOn) lists without a KdGatStageDefinition (<see cref="StageTargets.UndefinedListedStage"/>).</summary>
    private void RefuseUndefinedListedStage(Func<PipelineConfig> config)
    {
        if (StageTargets.UndefinedListedStage(ProjectFiles(), (ListedTargets ?? "").Split(';'), [.. StageNames.Select(StageTargetOf)], config, PipelineFile) is { } withoutDefinition)
            throw withoutDefinition;
    }

    /// <summary>A definition's stage and the target it names (<see cref="StageTargets.TargetOf"/>).</summary>
    private static (string Stage, string Target) StageTargetOf(ITaskItem definition) =>
        (definition.ItemSpec, StageTargets.TargetOf(definition.ItemSpec, definition.GetMetadata("StageTarget")));

    private BuildRequest PlanRequest() =>
        Request(BuildMode.Explain) with { OnlyStage = Stage, VerifyHashes = ParseBool(nameof(VerifyHashes), VerifyHashes, false) };

    private ITaskItem[] ItemsOf(IReadOnlyList<StageStamps.Entry> plan, IReadOnlyList<string> stageNames) => plan.Count == 0
        ? [Item(Path.GetFullPath(PipelineFile), stageNames, null)]
        : plan.GroupBy(e => e.Dataset).Select(d => Item(d.First().Stamp, stageNames, d.ToArray())).ToArray();

    private static ITaskItem Item(string stamp, IReadOnlyList<string> names, IReadOnlyList<StageStamps.Entry>? dataset)
    {
        var item = new TaskItem(stamp);
        var markers = dataset?.ToDictionary(e => e.Stage, e => e.Marker, StringComparer.Ordinal);
        foreach (var name in names)
        {
            try { item.SetMetadata(name, markers is not null && markers.TryGetValue(name, out var marker) ? marker : stamp); }
            catch (ArgumentException) { } // a reserved or invalid metadata name (Filename, ...): that stage's target cannot be incremental
        }
        if (dataset is null) return item;
        item.SetMetadata("Dataset", dataset[0].Dataset);
        item.SetMetadata("Current", string.Join(";", dataset.Where(e => e.Current).Select(e => e.Stage)));
        item.SetMetadata("Stale", string.Join(";", dataset.Where(e => !e.Current).Select(e => e.Stage)));
        item.SetMetadata("Reasons", string.Join("; ", dataset.Where(e => !e.Current).SelectMany(e => e.Reasons.Select(r => $"{e.Stage}: {r}"))));
        return item;
    }

    private sealed class ErrorsOnly(IBuildLog inner) : IBuildLog
    {
        /// <summary>The engine said its KDG3004 (a cancel during the check).</summary>
        public bool SaidCancel { get; private set; }

        public void Report(Diagnostic d)
        {
            if (d.Code == ErrorCodes.StageCancelled) SaidCancel = true;
            if (d.Severity == Severity.Error || d.Code == ErrorCodes.StageWithoutTarget) inner.Report(d);
        }

        // A warning it does not pass on is no error of the build.
        public bool WarningIsError(string? code) => code == ErrorCodes.StageWithoutTarget && inner.WarningIsError(code);
    }
}
