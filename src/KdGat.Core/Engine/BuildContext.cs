using KdGat.Core.Caching;
using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;
using KdGat.Core.Tracking;

namespace KdGat.Core.Engine;

/// <summary>What every stage instance of one build shares.</summary>
internal sealed class BuildContext
{
    public required string BuildId { get; init; }
    public required BuildMode Mode { get; init; }
    public required PipelineLayout Layout { get; init; }
    /// <summary>Decides, from content, whether each instance is up to date and why not.</summary>
    public required Planner Planner { get; init; }
    public required IStageExecutor Executor { get; init; }
    /// <summary>Content-addressed output store; null when caching is off.</summary>
    public OutputStore? Store { get; init; }
    public required RecordStore Records { get; init; }
    /// <summary>Where a manifest is copied before an attempt replaces it, so History keeps it.</summary>
    public required ManifestArchive Archive { get; init; }
    public required IBuildLog Log { get; init; }
    /// <summary>Per-stage start/end lines and the "still running" heartbeat.</summary>
    public required StageProgress Progress { get; init; }
    public required AttemptSlots Slots { get; init; }
    /// <summary>
    /// Bounds the instances that hold their stage lock at once (local executor): every ready instance took its
    /// lock and then waited for an attempt slot, so a 60-dataset build held 180 lock files open with 4 stages
    /// running and ran out of `ulimit -n 256` (a login node review). Null where an instance holding its lock waits
    /// for another's (SLURM's jobs chained on upstream jobs): a bound could leave the upstream without a turn.
    /// </summary>
    public AttemptSlots? LockHolders { get; init; }
    public required CancellationToken Cancel { get; init; }
    /// <summary>The build's clock: attempt times, log names, cache stamps, waits.</summary>
    public required TimeProvider Time { get; init; }
    /// <summary>-t:Audit: forces the selected instances to run under strace and checks their traces; null in a normal build.</summary>
    public Auditing.Auditor? Audit { get; init; }
    /// <summary>Every planned instance's outputs and run dir, made when a stage's unswept result is first retired.</summary>
    public required Lazy<Pipeline.PathMap<bool>> Planned { get; init; }
    /// <summary>-t:Adopt: an existing manifest that records another result may be replaced.</summary>
    public bool AdoptOverwrite { get; init; }
    /// <summary>How messages name Wait=false: "-p:Wait=false", or the WAIT variable that set it (KDG1225, <see cref="BuildRequest.Setting"/>).</summary>
    public string NoWaitSetting { get; init; } = "-p:Wait=false";

    /// <summary>KDG4006 is said once a build (a -p:Wait=false build's collection re-attached 13 jobs: 13 warnings, a SLURM user review); then a line each.</summary>
    public bool FirstReattach() => Interlocked.Exchange(ref _reattached, 1) == 0;
    private int _reattached;

    public static string NewId(TimeProvider time) => $"{KdGat.Core.Time.Clock.Stamp(time)}Z-{Guid.NewGuid().ToString("N")[..6]}";
}
