using KdGat.Core.Tracking;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace KdGat.Tasks.Tracking;

/// <summary>Each stage instance: up to date, stale and why, running with its job id, or failed with its log.</summary>
public sealed class KdGatStatus : TrackingTask
{
    public string? Stage { get; set; }

    /// <summary>Include = dataset/stage; metadata State, Detail, JobId, Log.</summary>
    [Output] public ITaskItem[] Rows { get; private set; } = [];

    private protected override bool RunTracking(MSBuildLog log)
    {
        using var t = OpenTracker(log);
        var stage = string.IsNullOrWhiteSpace(Stage) ? null : t.RequireStage(Stage);
        var rows = t.Status(stage);
        var counts = rows.GroupBy(r => r.State).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}");
        Print($"KdGat: status of {rows.Count} stage instance(s) in {t.Pipeline.Datasets.Count} dataset(s): {string.Join(", ", counts)}");
        foreach (var line in TextTable.Format(["stage instance", "state", "detail"], rows.Select(r => (IReadOnlyList<string>)[r.Key, r.State, r.Detail])))
            Print(line);
        Print($"KdGat: {t.Index.Count()} recorded attempt(s); index {t.Index.Location.DbPath} ({t.Index.Location.Why})");
        Rows = rows.Select(r =>
        {
            var item = new TaskItem(r.Key);
            item.SetMetadata("Dataset", r.Dataset);
            item.SetMetadata("Stage", r.Stage);
            item.SetMetadata("Variant", r.Variant ?? "");
            item.SetMetadata("State", r.State);
            item.SetMetadata("Detail", r.Detail);
            item.SetMetadata("JobId", r.JobId ?? "");
            item.SetMetadata("Log", r.Log ?? "");
            return (ITaskItem)item;
        }).ToArray();
        return true;
    }
}
