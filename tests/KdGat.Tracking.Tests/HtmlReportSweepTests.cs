using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Pipeline;
using KdGat.Core.Tracking;
using Xunit;

namespace KdGat.Tracking.Tests;

/// <summary>
/// The report over a swept stage: a row of the stage table and a box of the stage graph per grid
/// point, each with its own state now (the graph had two nodes with one id, and the page failed),
/// and training curves per grid point, marked by that grid point's own state.
/// </summary>
[Trait("Category", "Unit")]
public sealed class HtmlReportSweepTests
{
    [Fact]
    public void SweptStage_HasARowAndABoxPerGridPoint_WithItsOwnStateAndLatestAttempt()
    {
        using var t = new TempDir();
        File.WriteAllText(System.IO.Path.Combine(t.Path, "kdgat.yaml"), """
            datasets: [d1]
            stages:
              train: { command: x, outputs: [m], sweep: { seed: [0, 1] } }
              plain: { command: x, outputs: [m] }
            """);
        var store = new RecordStore(t.StateDir);
        store.Write(Records.Make("a", dataset: "d1", stage: "train") with { Variant = "seed=0", State = "failed" });
        store.Write(Records.Make("b", dataset: "d1", stage: "train", finished: DateTimeOffset.Parse("2100-01-01T00:00:00Z")) with { Variant = "seed=1" });
        foreach (var seed in new[] { "seed=0", "seed=1" })
        {
            var run = System.IO.Path.Combine(t.Path, "experimentruns", "d1", "train", seed);
            Directory.CreateDirectory(run);
            File.WriteAllText(System.IO.Path.Combine(run, "curves.jsonl"), "{\"epoch\":1,\"loss\":0.9}\n");
        }
        store.Write(Records.Make("c", dataset: "d1", stage: "plain"));
        var request = new BuildRequest { Root = t.Path, ConfigFile = "kdgat.yaml", ToolsDir = System.IO.Path.Combine(t.Path, "tools"), Stages = [new("train", []), new("plain", [])] };
        using var tracker = Tracker.Open(request, new RecordingLog(), t.Db);
        StatusRow[] status =
        [
            new("d1", "train", StatusRow.Stale, "never run") { Variant = "seed=0" },
            new("d1", "train", StatusRow.UpToDate, "") { Variant = "seed=1" },
            new("d1", "plain", StatusRow.UpToDate, ""),
        ];

        var html = HtmlReport.Render(tracker, null, DateTimeOffset.UnixEpoch, status);

        Assert.Contains("<tr><td>train/seed=0</td><td title=\"never run\">stale</td><td class=\"state-failed\">failed</td>", html);
        Assert.Contains("<tr><td>train/seed=1</td><td title=\"\">up-to-date</td><td class=\"state-ran\">ran</td>", html);
        Assert.Contains("<tr><td>plain</td><td title=\"\">up-to-date</td><td class=\"state-ran\">ran</td>", html);
        Assert.DoesNotContain("<tr><td>train</td>", html);
        // The stage graph: a box per grid point, labelled with it, and no box of the bare stage.
        Assert.Contains("data-id=\"d1/train/seed=0\" data-state=\"stale\"", html);
        Assert.Contains("data-id=\"d1/train/seed=1\" data-state=\"up-to-date\"", html);
        Assert.Contains(">seed=1: up-to-date</text>", html);
        Assert.DoesNotContain("data-id=\"d1/train\"", html);
        // Curves: each grid point's own, under its own name, marked by its own state (seed=0 stale; seed=1
        // up to date, but its stage does not declare curves.jsonl, so no manifest vouches for the file).
        Assert.Contains("<p class=\"muted not-current\" title=\"never run\">train/seed=0: 1 epoch line(s) (NOT CURRENT: stale)</p>", html);
        Assert.Contains("train/seed=1: 1 epoch line(s) (NOT CURRENT: curves.jsonl is not a declared output", html);
    }

    /// <summary>
    /// A row of a grid point no longer in the grid (seed=2 removed from sweep:, the stage's result from before
    /// it was swept) had a blank "now"; it says so, and a point -p:Sweep leaves out says that (one of no grid now said "not selected").
    /// </summary>
    [Theory]
    [InlineData(null)]
    [InlineData("seed=0")]
    public void ARowOfAPointNotInTheGridNow_SaysSo_NotBlank(string? sweep)
    {
        using var t = new TempDir();
        File.WriteAllText(System.IO.Path.Combine(t.Path, "kdgat.yaml"), """
            datasets: [d1]
            stages:
              train: { command: x, outputs: [m], sweep: { seed: [0, 1] } }
            """);
        var store = new RecordStore(t.StateDir);
        store.Write(Records.Make("before", dataset: "d1", stage: "train"));
        foreach (var seed in new[] { "seed=0", "seed=1", "seed=2" })
            store.Write(Records.Make(seed, dataset: "d1", stage: "train") with { Variant = seed });
        var request = new BuildRequest { Root = t.Path, ConfigFile = "kdgat.yaml", ToolsDir = System.IO.Path.Combine(t.Path, "tools"), Stages = [new("train", [])], Sweep = sweep };
        using var tracker = Tracker.Open(request, new RecordingLog(), t.Db);
        var status = tracker.Pipeline.Instances.Select(i => new StatusRow(i.Dataset, i.Name, StatusRow.UpToDate, "") { Variant = i.Variant }).ToArray();

        var html = HtmlReport.Render(tracker, null, DateTimeOffset.UnixEpoch, status);

        Assert.Contains("<tr><td>train/seed=0</td><td title=\"\">up-to-date</td>", html);
        if (sweep is null)
        {
            Assert.Contains("<tr><td>train/seed=1</td><td title=\"\">up-to-date</td>", html);
            Assert.Contains("<tr><td>train/seed=2</td><td title=\"train/seed=2 is not a grid point of train in kdgat.yaml now (removed from its sweep:, or the stage is no longer swept); History keeps its runs, Compare leaves them out\">not in the grid now</td>", html);
            Assert.Contains("<tr><td>train</td><td title=\"train is swept in kdgat.yaml now: these are its runs from before the sweep; History keeps its runs, Compare leaves them out\">not in the grid now</td>", html);
        }
        else
        {
            // What the selection leaves out of the grid; a point of no grid now is that, not "not selected" (a build without -p:Sweep would not make it).
            Assert.Contains("<tr><td>train/seed=1</td><td title=\"-p:Sweep=seed=0 leaves train/seed=1 out\">not selected</td>", html);
            Assert.Contains("<tr><td>train/seed=2</td><td title=\"train/seed=2 is not a grid point of train in kdgat.yaml now", html);
            Assert.Contains("<tr><td>train</td><td title=\"train is swept in kdgat.yaml now: these are its runs from before the sweep", html);
            Assert.DoesNotContain("leaves train/seed=2 out", html);
        }
    }
}
