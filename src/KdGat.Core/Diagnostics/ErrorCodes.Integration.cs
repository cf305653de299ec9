namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    // IDE and CI integration.
    /// <summary>Error: KDGAT_CACHE_READONLY is set to something other than 1/0/true/false.</summary>
    public const string CacheReadOnlyValue = "KDG1210";
    /// <summary>Error: CacheGc was asked to trim a store opened read-only (KDGAT_CACHE_READONLY=1).</summary>
    public const string CacheReadOnlyGc = "KDG1211";
    /// <summary>Error, raised by targets/KdGat.DesignTime.targets: a stage target runs whose stage has no KdGatStageDefinition item; and by the plan (StageTargets.UndefinedListedStage): one AllStagesDependsOn lists without a definition, which collecting would leave out.</summary>
    public const string StageNotDefined = "KDG1212";
    /// <summary>Error, raised by targets/KdGat.Pipeline.targets: a stage target was reached after the build had run its stages (two public targets that run stages in -t:, or a stage target depending on one), or a target that runs stages was reached while they were only being collected.</summary>
    public const string StagesAfterRun = "KDG1213";
    /// <summary>Error: a KdGatStage item carries metadata KdGat does not read (a misspelt Needs would silently drop the dependency).</summary>
    public const string UnknownStageMetadata = "KDG1214";
    /// <summary>Error, raised by targets/KdGat.Pipeline.targets where a *DependsOn list or a KdGatStageDefinition names it, and by the plan (StageTargets.ReservedStageTarget) for one only DependsOnTargets reaches: a stage target called like one of KdGat's or MSBuild's own.</summary>
    public const string ReservedStageTargetName = "KDG1215";
    /// <summary>Raised by targets/KdGat.Pipeline.targets, not C#: a stage target was reached before any KdGat target planned the stages (-t: names a stage target), so nothing would run.</summary>
    public const string StageTargetAlone = "KDG1216";
    /// <summary>Warning: a -p: name KdGat does not read, a letter or two from one it does (-p:Datset): the build went on without it.</summary>
    public const string PropertyMisspelt = "KDG1217";
    /// <summary>Error: Clean refused, deleting nothing: a -p: name a letter or two from Dataset, Stage or Sweep would have made it clean what that selection leaves out.</summary>
    public const string CleanSelectionMisspelt = "KDG1222";
    /// <summary>-question (or -p:FailIfStale=true) asked a target that deletes or changes what it keeps (Clean, Rebuild, CacheGc): nothing was changed, and the answer is "not up to date".</summary>
    public const string QuestionWouldChange = "KDG1218";
    /// <summary>Error, raised by targets/KdGat.Tasks.targets, not C#: the pipeline's path holds '@(' or '%(', which MSBuild expands wherever the path is used.</summary>
    public const string PipelinePathExpands = "KDG1219";
    /// <summary>Warning: KDGAT_NOOP_CERTIFICATE holds a value that is none of off, verify, on (and their spellings): certificates are used as without it.</summary>
    public const string NoOpSettingUnknown = "KDG1220";
    /// <summary>Error, raised by targets/KdGat.Pipeline.targets, not C#: a public target but Evaluate (Train, Preprocess, ...) whose *DependsOn list names no stage target, so it would run nothing.</summary>
    public const string PublicTargetSelectsNoStage = "KDG1221";
    /// <summary>Error, raised by targets/KdGat.Tasks.targets, not C#: -isolate while KdGat's tools are to be built, which builds projects pipeline.proj does not reference.</summary>
    public const string IsolateBeforeTools = "KDG1224";
    /// <summary>Warning: a KdGatStageDefinition names a stage target (its StageTarget, or its own name) that no file KdGat reads has, while its stage is declared in a target of another name.</summary>
    public const string UndefinedStageTarget = "KDG1223";
    /// <summary>Warning: a KdGat property (Stage, Dataset, Executor, ...) has an environment variable's value, not a -p: one: MSBuild makes every environment variable a property.</summary>
    public const string PropertyFromEnvironment = "KDG1225";
    /// <summary>Error: a file the stage graph is evaluated from (the project file, a KdGatGraphFile item) has other content under the last-write time this long-lived MSBuild process (the MSBuild server, a reused node, an IDE) last read it with: MSBuild may have evaluated its old text (IO/EvaluatedProjectFiles).</summary>
    public const string ProjectReloadNeeded = "KDG1229";
}
