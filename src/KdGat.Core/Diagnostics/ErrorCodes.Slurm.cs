namespace KdGat.Core.Diagnostics;

internal static partial class ErrorCodes
{
    // 4xxx: the SLURM executor.
    /// <summary>Error: a value that would go on an #SBATCH line is unsafe (newline, quote, control character).</summary>
    public const string SlurmUnsafeValue = "KDG4001";
    /// <summary>Error: sbatch rejected the job (bad partition/account, limits) or kept failing.</summary>
    public const string SlurmSubmitFailed = "KDG4002";
    /// <summary>Error: sbatch/squeue/sacct are not installed or the controller does not answer.</summary>
    public const string SlurmUnavailable = "KDG4003";
    /// <summary>Warning: a status query or an sbatch call failed for a passing reason (sacct lag, socket timeout, restarting or full slurmctld); it is retried, no job is marked failed or submitted twice.</summary>
    public const string SlurmQueryRetry = "KDG4004";
    /// <summary>Warning: a job was cancelled by SLURM because an upstream job failed (--kill-on-invalid-dep).</summary>
    public const string SlurmDependencyCancelled = "KDG4005";
    /// <summary>Warning: a build re-attached to (or collected) a job an earlier build submitted (-p:Wait=false, or stopped before collecting it).</summary>
    public const string SlurmReattached = "KDG4006";
    /// <summary>Warning: -p:Wait=false or Ctrl+C with -p:CancelOnAbort=false left jobs in the cluster, Ctrl+C came after jobs had completed unseen, or left an earlier build's jobs this build was collecting; a later build collects them.</summary>
    public const string SlurmJobsLeftRunning = "KDG4007";
    /// <summary>Warning: Ctrl+C cancelled (scancel) the jobs this build submitted.</summary>
    public const string SlurmJobsCancelled = "KDG4008";
    /// <summary>Warning: a journalled job no longer matches the stage (config changed) and was cancelled; the stage is submitted again.</summary>
    public const string SlurmStaleJob = "KDG4009";
    /// <summary>Error: an interrupted attempt ran (or may have been submitted: sbatch unconfirmed, KDG4003) as a SLURM job and squeue or scancel failed (or squeue is not installed, for an unconfirmed one), so KdGat cannot tell that the job no longer writes into the run dir; nothing was recovered or run for the stage.</summary>
    public const string SlurmOrphanUnknown = "KDG4010";
    /// <summary>A job KdGat had already collected ran again (scontrol requeue of an ended job): its script refused to run (said in the job's .err log).</summary>
    public const string SlurmJobRanAfterCollected = "KDG4022";

    // 1025-1027: configuration for real SLURM sites.
    /// <summary>Error: a resource value uses $NAME or ${NAME}, or a path in kdgat.yaml $NAME, ${NAME} or a leading ~ ($HOME), and the environment variable is not set (or empty) when the configuration loads.</summary>
    public const string ResourceVariableUnset = "KDG1025";
}
