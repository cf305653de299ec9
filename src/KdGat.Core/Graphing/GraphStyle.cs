using KdGat.Core.Engine;
using KdGat.Core.Tracking;

namespace KdGat.Core.Graphing;

/// <summary>Fill colours per state (with a legend line each), shared by DOT and SVG so both pictures agree.</summary>
internal static class GraphStyle
{
    /// <summary>-t:Graph: Explain's decisions and what the last build left.</summary>
    public static readonly IReadOnlyList<(string State, string Fill, string Meaning)> Legend =
    [
        (Outcome.UpToDate, "#c8e6c9", ""),
        (Outcome.WouldRestore, "#bbdefb", "from the output cache"),
        (Outcome.WouldRun, "#ffe0b2", "stale (why: hover the box)"),
        (PipelinePicture.Failed, "#ffcdd2", "in the last build, would run again"),
        (PipelinePicture.Submitted, "#e1bee7", "queued or running SLURM job of the last build"),
        (Outcome.Skipped, "#e0e0e0", "an upstream cannot run"),
    ];

    /// <summary>The live report of a running build: where each instance is now.</summary>
    public static readonly IReadOnlyList<(string State, string Fill, string Meaning)> BuildLegend =
    [
        (Waiting, "#f5f5f5", "waiting for its upstreams or a free slot"),
        (Running, "#fff176", "running now (pid or job id: hover the box)"),
        (Outcome.Submitted, "#e1bee7", "SLURM job queued (shown running once a poll sees it start)"),
        (Outcome.Ran, "#81c784", "ran in this build"),
        (Outcome.Restored, "#bbdefb", "restored from the output cache"),
        (Outcome.UpToDate, "#c8e6c9", ""),
        (Outcome.Failed, "#ffcdd2", ""),
        (Outcome.Cancelled, "#ffccbc", ""),
        (Outcome.Skipped, "#e0e0e0", "an upstream failed"),
    ];

    /// <summary>-t:Report and -t:Status: each instance as Status sees it.</summary>
    public static readonly IReadOnlyList<(string State, string Fill, string Meaning)> StatusLegend =
    [
        (Outcome.UpToDate, "#c8e6c9", ""),
        ("stale", "#ffe0b2", "would run (why: hover the box)"),
        (Running, "#fff176", "running (job id: hover the box)"),
        ("queued", "#fff9c4", "a SLURM job waiting in the queue (job id: hover the box)"),
        (StatusRow.Ended, "#dcedc8", "a SLURM job that ended after its build left; the next build collects its result"),
        (StatusRow.Interrupted, "#ffccbc", "the next build recovers it"),
        (Outcome.Failed, "#ffcdd2", "its last attempt failed"),
    ];

    /// <summary>Not started yet in a running build.</summary>
    public const string Waiting = "waiting";
    public const string Running = "running";

    private const string OtherFill = "#ffffff";

    public static string Fill(string state) =>
        Legend.Concat(BuildLegend).Concat(StatusLegend).FirstOrDefault(l => l.State == state).Fill ?? OtherFill;
}
