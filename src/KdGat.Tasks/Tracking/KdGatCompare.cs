using KdGat.Core.Diagnostics;
using KdGat.Core.Tracking;

namespace KdGat.Tasks.Tracking;

/// <summary>Metrics per dataset, one column per variant (large, small_kd, small_nokd), from the runs behind their current results; values that are not current are marked.</summary>
public sealed class KdGatCompare : TrackingTask
{
    /// <summary>-p:Metrics=f1;accuracy: only these metrics.</summary>
    public string? Metrics { get; set; }

    private protected override bool RunTracking(MSBuildLog log)
    {
        using var t = OpenTracker(log);
        var filter = (Metrics ?? "").Split([';', ',', ' ']).Select(m => m.Trim()).Where(m => m.Length > 0).ToArray();
        var table = t.Compare(t.StatusAsync().GetAwaiter().GetResult(), VariantList(), filter); // MSBuild tasks are synchronous
        foreach (var unknown in table.UnknownMetrics(filter, t.Pipeline.Datasets, Given(nameof(Metrics))))
            log.Report(new Diagnostic(Severity.Warning, ErrorCodes.UnknownMetric, unknown));
        if (table.Rows.Count == 0)
        {
            log.Report(new Diagnostic(Severity.Warning, ErrorCodes.NothingToCompare,
                filter.Length > 0
                    ? $"KdGat: none of the metrics {string.Join(", ", filter)} was recorded for {string.Join(", ", t.Pipeline.Datasets)}. Drop -p:Metrics to see which exist."
                    : table.Notes.Count > 0 ? $"KdGat: nothing to compare. {string.Join(" ", table.Notes.Select(n => n.TrimEnd('.') + "."))}"
                    : $"KdGat: no evaluation has recorded metrics for {string.Join(", ", t.Pipeline.Datasets)} yet. Build first: dotnet msbuild -t:Evaluate"));
            return true;
        }
        foreach (var line in TrackingText.Compare(table)) Print(line);
        return true;
    }
}
