using KdGat.Core.Tracking;

namespace KdGat.Tasks.Tracking;

/// <summary>
/// Past runs of -p:Stage (all datasets, or -p:Dataset), newest first, with the parameters that
/// differ between them, durations, peak memory and metrics. -p:RunId=... shows one run in full,
/// with its archived manifest.
/// </summary>
public sealed class KdGatHistory : TrackingTask
{
    public string? Stage { get; set; }
    public string? Limit { get; set; }
    public string? RunId { get; set; }

    private protected override bool RunTracking(MSBuildLog log)
    {
        using var t = OpenTracker(log);
        if (!string.IsNullOrWhiteSpace(RunId))
        {
            var stage = string.IsNullOrWhiteSpace(Stage) ? null : t.RequireStage(Stage);
            foreach (var line in TrackingText.Run(t, t.FindRun(RunId.Trim(), stage))) Print(line);
            return true;
        }
        var limit = ParseCount(nameof(Limit), Limit, 20, Core.Diagnostics.ErrorCodes.TrackingBadProperty);
        foreach (var line in TrackingText.History(t, Stage, limit)) Print(line);
        return true;
    }
}
