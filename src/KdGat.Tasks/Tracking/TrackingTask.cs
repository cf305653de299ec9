using System.Globalization;
using KdGat.Core.Diagnostics;
using KdGat.Core.Tracking;
using Microsoft.Build.Framework;

namespace KdGat.Tasks.Tracking;

/// <summary>Shared by the tracking tasks: opens the tracker (ingesting new records) and prints lines.</summary>
public abstract class TrackingTask : PipelineTask
{
    /// <summary>-p:KdGatIndex: where the SQLite index lives (default: see IndexLocation).</summary>
    public string? IndexPath { get; set; }

    /// <summary>Variant items: Include = column name, metadata Stages = ';' list (from LargeDependsOn etc.).</summary>
    public ITaskItem[] Variants { get; set; } = [];

    private protected Tracker OpenTracker(MSBuildLog log) => Tracker.Open(Request(), log, string.IsNullOrWhiteSpace(IndexPath) ? null : IndexPath);

    private protected IReadOnlyList<Variant> VariantList() => Variants
        .Select(i => new Variant(i.ItemSpec, i.GetMetadata("Stages").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        .Where(v => v.Stages.Count > 0).ToArray();

    private protected void Print(string line) => Log.LogMessage(MessageImportance.High, line);
}
