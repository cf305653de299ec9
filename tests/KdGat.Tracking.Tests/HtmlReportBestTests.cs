using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Pipeline;
using KdGat.Core.Tracking;
using Xunit;

namespace KdGat.Tracking.Tests;

/// <summary>
/// The report's bold "best" cell of a metrics row: the highest accuracy, but the lowest count of false
/// positives (the highest was bolded: the worst variant looked best), and no bold for a plain count.
/// </summary>
[Trait("Category", "Unit")]
public sealed class HtmlReportBestTests
{
    [Fact]
    public void BoldIsTheHighestAccuracy_TheLowestFalsePositives_AndNothingForACount()
    {
        using var t = new TempDir();
        File.WriteAllText(System.IO.Path.Combine(t.Path, "kdgat.yaml"), """
            datasets: [d1]
            stages:
              large: { command: x, outputs: [metrics.json] }
              small: { command: x, outputs: [metrics.json] }
            """);
        var store = new RecordStore(t.StateDir);
        store.Write(Records.Make("l", dataset: "d1", stage: "large", metrics: new Dictionary<string, double> { ["accuracy"] = 0.9, ["fp"] = 3, ["graphs"] = 178 }));
        store.Write(Records.Make("s", dataset: "d1", stage: "small", metrics: new Dictionary<string, double> { ["accuracy"] = 0.8, ["fp"] = 7, ["graphs"] = 180 }));
        var request = new BuildRequest { Root = t.Path, ConfigFile = "kdgat.yaml", ToolsDir = System.IO.Path.Combine(t.Path, "tools"), Stages = [new("large", []), new("small", [])] };
        using var tracker = Tracker.Open(request, new RecordingLog(), t.Db);
        StatusRow[] status =
        [
            new("d1", "large", StatusRow.UpToDate, "up to date") { Result = ("b-l", 1) },
            new("d1", "small", StatusRow.UpToDate, "up to date") { Result = ("b-s", 1) },
        ];

        var html = HtmlReport.Render(tracker, [new Variant("large", ["large"]), new Variant("small", ["small"])], DateTimeOffset.UnixEpoch, status);

        Assert.Contains("<td>accuracy</td><td class=\"num best\">0.9</td><td class=\"num\">0.8</td>", html);
        Assert.Contains("<td>fp</td><td class=\"num best\">3</td><td class=\"num\">7</td>", html);
        Assert.Contains("<td>graphs</td><td class=\"num\">178</td><td class=\"num\">180</td>", html);
    }
}
