using KdGat.Core.Config;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Engine;

/// <summary>Adopt: take the declared outputs as they are (produced outside KdGat) and write manifests for them; nothing runs.</summary>
public enum BuildMode { Build, Explain, Adopt }

/// <summary>What the MSBuild task (or a test) asks the engine to do.</summary>
public sealed record BuildRequest
{
    public required string Root { get; init; }
    public required string ConfigFile { get; init; }
    public required string ToolsDir { get; init; }
    public string PipelineFile { get; init; } = "pipeline.proj";
    /// <summary>Stage targets in the order MSBuild ran them.</summary>
    public required IReadOnlyList<StageDeclaration> Stages { get; init; }
    /// <summary>-p:Dataset: one name or a ';' list; empty for every configured dataset.</summary>
    public string? Datasets { get; init; }
    /// <summary>-p:Sweep: only the instances at these grid points ("seed=1", "seed=1;lr=0.003") and what they need (<see cref="SweepSelection"/>).</summary>
    public string? Sweep { get; init; }
    /// <summary>Names of the build's other global properties (-p:NAME=...): MSBuild splits -p:Sweep=seed=1,lr=0.003 at ',' into Sweep and lr.</summary>
    public IReadOnlyCollection<string> GlobalPropertyNames { get; init; } = [];
    /// <summary>The KdGat properties whose value came from an environment variable, not -p: (<see cref="EnvironmentProperties"/>).</summary>
    public IReadOnlyList<EnvironmentProperty> FromEnvironment { get; init; } = [];
    /// <summary>How a message names where <paramref name="property"/>'s value came from: "-p:Stage", or the environment variable that set it.</summary>
    public string Given(string property) => EnvironmentProperties.Given(FromEnvironment, property);
    /// <summary>"-p:Wait=false", or the environment variable that set it (<see cref="EnvironmentProperties.Setting"/>).</summary>
    public string Setting(string property, string value) => EnvironmentProperties.Setting(FromEnvironment, property, value);
    /// <summary>-p:Stage for builds and Explain: only this stage and what it needs.</summary>
    public string? OnlyStage { get; init; }
    /// <summary>-p:Stage also selects its downstream (and what that needs): Rebuild builds what Clean cleaned.</summary>
    public bool StageWithDownstream { get; init; }
    /// <summary>Explain only: every instance that would run or restore is an error (KDG3011): -question and -p:FailIfStale=true.</summary>
    public bool FailIfStale { get; init; }
    public BuildMode Mode { get; init; } = BuildMode.Build;
    public bool VerifyHashes { get; init; }
    /// <summary>0: config value, else one per core.</summary>
    public int MaxParallelStages { get; init; }
    public ExecutorKind? Executor { get; init; }
    /// <summary>SLURM: false (-p:Wait=false) submits and returns; a later build collects.</summary>
    public bool Wait { get; init; } = true;
    /// <summary>SLURM: false (-p:CancelOnAbort=false) leaves jobs running on Ctrl+C for a later build to re-attach.</summary>
    public bool CancelOnAbort { get; init; } = true;
    /// <summary>-t:Audit: the selected stages (OnlyStage, else all) run, forced, under strace, and what they read and wrote is checked.</summary>
    public bool Audit { get; init; }
    /// <summary>false: no build report is written (-t:Graph only looks; last-build.json stays the last build's).</summary>
    public bool PublishReport { get; init; } = true;
    /// <summary>false: the hash cache is not saved either (-t:Graph under -question writes nothing).</summary>
    public bool SaveHashCache { get; init; } = true;
    /// <summary>false: Explain and Adopt log no decision table (the plan task: the build task logs the table).</summary>
    public bool DecisionTable { get; init; } = true;
    /// <summary>A build's live HTML report (-p:ReportFile, default .kdgat/report.html; full path), rewritten as instances change state; null: none (-p:LiveReport=false, Explain).</summary>
    public string? LiveReportFile { get; init; }
    /// <summary>-p:LiveReportRefresh: how often the live report reloads itself while something runs (seconds).</summary>
    public int LiveReportRefreshSeconds { get; init; } = Tracking.LiveReport.DefaultRefreshSeconds;
    /// <summary>-t:Adopt with -p:AdoptOverwrite=true: replace an existing manifest that records another result.</summary>
    public bool AdoptOverwrite { get; init; }
}
