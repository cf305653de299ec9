using KdGat.Core.Reporting;

namespace KdGat.Core.Graphing;

/// <summary>Fill colours per state, shared by DOT and SVG so both pictures agree.</summary>
public static class GraphStyle
{
    public static readonly IReadOnlyList<(string State, string Fill, string Meaning)> Legend =
    [
        (Outcome.UpToDate, "#c8e6c9", "up to date"),
        (Outcome.WouldRestore, "#bbdefb", "would restore from the cache"),
        (Outcome.WouldRun, "#ffe0b2", "stale: would run"),
        (PipelinePicture.Failed, "#ffcdd2", "failed in the last build"),
        (PipelinePicture.Submitted, "#e1bee7", "submitted / running (SLURM job)"),
        (Outcome.Skipped, "#e0e0e0", "skipped: an upstream cannot run"),
    ];

    private const string OtherFill = "#ffffff";

    public static string Fill(string state) => Legend.FirstOrDefault(l => l.State == state).Fill ?? OtherFill;
}
