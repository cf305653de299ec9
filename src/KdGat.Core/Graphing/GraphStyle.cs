using KdGat.Core.Reporting;

namespace KdGat.Core.Graphing;

/// <summary>Fill colours per state (with a legend line each), shared by DOT and SVG so both pictures agree.</summary>
public static class GraphStyle
{
    public static readonly IReadOnlyList<(string State, string Fill, string Meaning)> Legend =
    [
        (Outcome.UpToDate, "#c8e6c9", ""),
        (Outcome.WouldRestore, "#bbdefb", "from the output cache"),
        (Outcome.WouldRun, "#ffe0b2", "stale (why: hover the box)"),
        (PipelinePicture.Failed, "#ffcdd2", "in the last build, would run again"),
        (PipelinePicture.Submitted, "#e1bee7", "queued or running SLURM job of the last build"),
        (Outcome.Skipped, "#e0e0e0", "an upstream cannot run"),
    ];

    private const string OtherFill = "#ffffff";

    public static string Fill(string state) => Legend.FirstOrDefault(l => l.State == state).Fill ?? OtherFill;
}
