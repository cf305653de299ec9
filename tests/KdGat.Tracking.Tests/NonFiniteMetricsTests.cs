using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Pipeline;
using KdGat.Core.Tracking;
using Xunit;

namespace KdGat.Tracking.Tests;

/// <summary>
/// A diverged run (Python's json.dump writes a NaN or infinite loss bare) shows as one in Compare,
/// History and the report, through the real index: its values were left out of the record, and
/// Compare showed "-" or no row at all without a word (a review; a NaN also breaks the index's NOT
/// NULL metrics column, where SQLite stores a NaN as NULL).
/// </summary>
[Trait("Category", "Unit")]
public sealed class NonFiniteMetricsTests
{
    private static Tracker Open(TempDir t, string sweep)
    {
        File.WriteAllText(System.IO.Path.Combine(t.Path, "kdgat.yaml"), $$"""
            datasets: [d1]
            stages:
              large: { command: x, outputs: [metrics.json] }
              small: { command: x, outputs: [metrics.json], sweep: {{sweep}} }
            """);
        var request = new BuildRequest { Root = t.Path, ConfigFile = "kdgat.yaml", ToolsDir = System.IO.Path.Combine(t.Path, "tools"), Stages = [new("large", []), new("small", [])] };
        return Tracker.Open(request, new RecordingLog(), t.Db);
    }

    /// <summary>The metrics of a metrics.json as a build records them.</summary>
    private static Dictionary<string, double> Metrics(TempDir t, string json)
    {
        var file = System.IO.Path.Combine(t.Path, "metrics.json");
        File.WriteAllText(file, json);
        return new(RecordStore.ReadMetrics(file)!);
    }

    private static StatusRow[] Current(Tracker tracker) =>
        tracker.Pipeline.Instances.Select(i => new StatusRow(i.Dataset, i.Name, StatusRow.UpToDate, "up to date")
        {
            Variant = i.Sweep.IsEmpty ? null : i.Variant,
            Result = ("b-" + (i.Sweep.IsEmpty ? i.Name : $"{i.Name}-{i.Variant}"), 1),
        }).ToArray();

    [Fact]
    public void ADivergedRun_ShowsNaNAndInf_InCompareHistoryAndTheReport_NeverAsTheBest()
    {
        using var t = new TempDir();
        var store = new RecordStore(t.StateDir);
        store.Write(Records.Make("large", dataset: "d1", stage: "large", metrics: Metrics(t, """{"loss": NaN, "accuracy": 0.5, "fp": -Infinity}""")));
        store.Write(Records.Make("small-seed=0", dataset: "d1", stage: "small", metrics: Metrics(t, """{"loss": 0.2, "accuracy": 0.8, "fp": 3}""")) with { Variant = "seed=0" });
        store.Write(Records.Make("small-seed=1", dataset: "d1", stage: "small", metrics: Metrics(t, """{"loss": Infinity, "accuracy": 0.7, "fp": 4}""")) with { Variant = "seed=1" });
        using var tracker = Open(t, "{ seed: [0, 1] }");
        var status = Current(tracker);
        Variant[] variants = [new("large", ["large"]), new("small", ["small"])];

        var table = tracker.Compare(status, variants);
        var text = TrackingText.Compare(table).ToArray();
        var loss = table.Rows.Single(r => r.Metric == "loss");
        Assert.Equal("NaN", loss.Stats[0]!.ToString());
        Assert.Equal("inf (n=2; seed=1: inf)", loss.Stats[1]!.ToString());
        Assert.Contains(text, l => l.Contains("loss") && l.Contains("NaN") && l.Contains("inf (n=2; seed=1: inf)"));
        Assert.Contains(text, l => l.Contains("fp") && l.Contains("-inf"));

        var history = TrackingText.History(tracker, "large", 0).ToArray();
        Assert.Contains(history, l => l.Contains("NaN") && l.Contains("-inf") && l.Contains("0.5"));
        Assert.Contains(TrackingText.Run(tracker, tracker.FindRun("large")), l => l == "  metrics: accuracy=0.5 fp=-inf loss=NaN");

        var html = HtmlReport.Render(tracker, variants, DateTimeOffset.UnixEpoch, status);
        Assert.Contains("<td>loss</td><td class=\"num\">NaN</td><td class=\"num\">inf (n=2; seed=1: inf)</td>", html);
        Assert.Contains("<td>fp</td><td class=\"num\">-inf</td><td class=\"num best\">3.5 &#177; 0.7071 (n=2)</td>", html); // -inf is no best
    }
}
