namespace KdGat.Core.Config;

public enum ExecutorKind { Local, Slurm }

/// <summary>The whole kdgat.yaml, validated. Paths are templates until a stage instance resolves them.</summary>
public sealed record PipelineConfig
{
    public required string File { get; init; }
    /// <summary>Where 'datasets:' and 'stages:' are in <see cref="File"/>: errors about them point there.</summary>
    public (int Line, int Column) DatasetsAt { get; init; }
    public (int Line, int Column) StagesAt { get; init; }
    public required string Root { get; init; }
    public ExecutorKind Executor { get; init; } = ExecutorKind.Local;
    /// <summary>0 means "one per core".</summary>
    public int MaxParallelStages { get; init; }
    public required IReadOnlyList<string> Datasets { get; init; }
    public string RunsDir { get; init; } = "experimentruns";
    public string RawDir { get; init; } = "data/automotive/{dataset}";
    /// <summary>Where KDG1103 points: the 'paths.raw' value, or the 'paths' key when raw is unset (the default); null without 'paths:'.</summary>
    public (int Line, int Column)? RawAt { get; init; }
    /// <summary>'paths.raw' is not set: <see cref="RawDir"/> is the default.</summary>
    public bool RawIsDefault { get; init; } = true;
    public string CacheDir { get; init; } = "data/cache/{dataset}";
    /// <summary>Command that creates a dataset's raw data when it is absent; null means "missing raw data is an error".</summary>
    public string? Generator { get; init; }
    /// <summary>Where the 'generator' value is, for its errors.</summary>
    public (int Line, int Column) GeneratorAt { get; init; }
    public IReadOnlyDictionary<string, string> Vars { get; init; } = new Dictionary<string, string>();
    public required IReadOnlyDictionary<string, StageConfig> Stages { get; init; }
    public SlurmConfig Slurm { get; init; } = new();
    /// <summary>cache_store: the output store's directory (relative to the config), "off", or null for the default.</summary>
    public string? CacheStore { get; init; }
    /// <summary>Where the 'cache_store' value is, for its errors ((0, 0) without one).</summary>
    public (int Line, int Column) CacheStoreAt { get; init; }
    /// <summary>on_success: shell command run in the root after a build that succeeded; not fingerprinted.</summary>
    public string? OnSuccess { get; init; }
    /// <summary>on_failure: shell command run in the root after a build that failed; not fingerprinted.</summary>
    public string? OnFailure { get; init; }
    /// <summary>
    /// trust_ctime (default false): true makes a file whose ctime alone changed while its stage ran
    /// count as changed (KDG3020): an edit undone with its old mtime put back (cp -p over the file)
    /// leaves nothing else. Off by default: a chmod, chown or hard link (a permissions cron job, a
    /// stage's own `chmod +x`) changes ctimes too, and would rerun such stages at every build.
    /// </summary>
    public bool TrustCtime { get; init; }
    /// <summary>Every file this configuration was read from (kdgat.yaml, params files), with a digest of the bytes parsed.</summary>
    internal ConfigSources Sources { get; init; } = new();
}

/// <summary>The <c>slurm:</c> section: how the SLURM executor submits and polls.</summary>
public sealed record SlurmConfig
{
    public double PollSeconds { get; init; } = 5;
    /// <summary>max_poll_seconds: the longest wait between two squeue calls (the safety net for jobs that end without a done-marker).</summary>
    public double MaxPollSeconds { get; init; } = 180;
    /// <summary>max_marker_seconds: the longest wait between two looks for the jobs' done-markers (a stat each, no SLURM call).</summary>
    public double MaxMarkerSeconds { get; init; } = 30;
    public IReadOnlyList<string> Extra { get; init; } = Array.Empty<string>();
    /// <summary>max_jobs: at most this many of the build's jobs in the queue at once (0: no limit).</summary>
    public int MaxJobs { get; init; }
    /// <summary>latency_wait: seconds to wait for a COMPLETED job's outputs to appear (NFS) before they count as missing.</summary>
    public int LatencyWaitSeconds { get; init; } = 5;
}
