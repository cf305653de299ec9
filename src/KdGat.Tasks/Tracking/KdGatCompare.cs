using KdGat.Core.Diagnostics;
using KdGat.Core.Tracking;

namespace KdGat.Tasks.Tracking;

/// <summary>Metrics per dataset, one column per variant (large, small_kd, small_nokd), from their latest successful runs.</summary>
public sealed class KdGatCompare : TrackingTask
{
    /// <summary>-p:Metrics=f1;accuracy: only these metrics.</summary>
    public string? Metrics { get; set; }

    private protected override bool RunTracking(MSBuildLog log)
    {
        using var t = OpenTracker(log);
        var filter = (Metrics ?? "").Split([';', ',', ' ']).Select(m => m.Trim()).Where(m => m.Length > 0).ToArray();
        var table = t.Compare(VariantList(), filter);
        if (table.Rows.Count == 0)
        {
            log.Report(new Diagnostic(Severity.Warning, ErrorCodes.NothingToCompare,
                filter.Length > 0
                    ? $"KdGat: none of the metrics {string.Join(", ", filter)} was recorded for {string.Join(", ", t.Pipeline.Datasets)}. Drop -p:Metrics to see which exist."
                    : $"KdGat: no evaluation has recorded metrics for {string.Join(", ", t.Pipeline.Datasets)} yet. Build first: dotnet msbuild -t:Evaluate"));
            return true;
        }
        Print($"KdGat: metrics per variant ({string.Join(" vs ", table.Variants)}), latest successful run of each{(table.Groups.Values.Any(g => g.Count > 1) ? "; mean ± std (n) over seeds" : "")}:");
        var header = new List<string> { "dataset", "metric" };
        header.AddRange(table.Variants);
        foreach (var line in TextTable.Format(header, table.Rows.Select(r =>
                 {
                     var row = new List<string> { r.Dataset, r.Metric };
                     row.AddRange(r.Stats.Select(x => x?.ToString() ?? "-"));
                     return (IReadOnlyList<string>)row;
                 })))
            Print(line);
        foreach (var ((dataset, variant), run) in table.Sources.OrderBy(s => s.Key.Dataset, StringComparer.Ordinal).ThenBy(s => s.Key.Variant, StringComparer.Ordinal))
            Print(table.Groups.TryGetValue((dataset, variant), out var group) && group.Count > 1
                ? $"  {dataset} {variant}: {run.Record.Stage}, mean of {group.Count} seeds' latest runs, newest {run.Record.RecordId} finished {Tracker.Local(run.Record.FinishedUtc)}"
                : $"  {dataset} {variant}: {run.Record.Stage}, run {run.Record.RecordId} finished {Tracker.Local(run.Record.FinishedUtc)}");
        return true;
    }
}
