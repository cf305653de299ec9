using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Pipeline;
using KdGat.Core.Tracking;
using Xunit;

namespace KdGat.Tracking.Tests;

/// <summary>Compare over a swept evaluation: seeds aggregated to mean ± std (n), other dimensions a column each.</summary>
[Trait("Category", "Unit")]
public sealed class CompareSweepTests
{
    private static readonly StageDeclaration[] Stages = [new("train", []), new("eval", ["train"]), new("plain", [])];

    private static Tracker Open(TempDir t, string sweep)
    {
        File.WriteAllText(System.IO.Path.Combine(t.Path, "kdgat.yaml"), $$"""
            datasets: [d1]
            stages:
              train: { command: x, outputs: [m], sweep: {{sweep}} }
              eval: { command: x, outputs: [metrics.json] }
              plain: { command: x, outputs: [metrics.json] }
            """);
        var request = new BuildRequest { Root = t.Path, ConfigFile = "kdgat.yaml", ToolsDir = System.IO.Path.Combine(t.Path, "tools"), Stages = Stages };
        return Tracker.Open(request, new RecordingLog(), t.Db);
    }

    private static void Write(TempDir t, string id, string stage, string? variant, double f1) =>
        new RecordStore(t.StateDir).Write(Records.Make(id, dataset: "d1", stage: stage, metrics: new Dictionary<string, double> { ["f1"] = f1 }) with { Variant = variant });

    [Fact]
    public void SeedsAreOneCell_WithMeanStdAndN_OtherDimensionsAColumnEach()
    {
        using var t = new TempDir();
        Write(t, "old", "eval", "seed=0,lr=0.1", 0.9);   // replaced by the later run of the same instance
        Write(t, "a", "eval", "seed=0,lr=0.1", 0.1);
        Write(t, "b", "eval", "seed=1,lr=0.1", 0.2);
        Write(t, "c", "eval", "seed=2,lr=0.1", 0.3);
        Write(t, "d", "eval", "seed=0,lr=0.2", 0.5);
        Write(t, "gone", "eval", "seed=9,lr=0.1", 5.0); // a seed no longer in the grid: not counted
        Write(t, "p1", "plain", null, 0.7);
        Write(t, "p2", "plain", null, 0.8);              // unswept: the latest run, as before
        using var tracker = Open(t, "{ seed: [0, 1, 2], lr: [0.1, 0.2] }");

        var table = tracker.Compare([], [new Variant("ev", ["eval"]), new Variant("pl", ["plain"])]);

        Assert.Equal(["ev [lr=0.1]", "ev [lr=0.2]", "pl"], table.Variants);
        var row = Assert.Single(table.Rows);
        Assert.Equal("0.2 ± 0.1 (n=3)", row.Stats[0]!.ToString());
        Assert.Equal(0.2, row.Values[0]!.Value, 10);
        Assert.Equal("0.5", row.Stats[1]!.ToString());
        Assert.Equal("0.8", row.Stats[2]!.ToString());
        Assert.Equal(3, table.Groups[("d1", "ev [lr=0.1]")].Count);
    }

    [Fact]
    public void TheUnsweptRunFromBeforeTheSweep_IsNotOneMoreSeed()
    {
        using var t = new TempDir();
        Write(t, "before", "eval", null, 0.9); // built before `sweep:` was turned on
        Write(t, "a", "eval", "seed=0", 0.1);
        Write(t, "b", "eval", "seed=1", 0.2);
        Write(t, "c", "eval", "seed=2", 0.3);
        using var tracker = Open(t, "{ seed: [0, 1, 2] }");

        var table = tracker.Compare([], [new Variant("ev", ["eval"])]);

        // Was "0.375 ± ... (n=4)": the old unswept metrics.json averaged in as a fourth seed.
        Assert.Equal("0.2 ± 0.1 (n=3)", Assert.Single(table.Rows).Stats[0]!.ToString());
        Assert.Equal(3, table.Groups[("d1", "ev")].Count);
    }

    [Fact]
    public void SweepSelection_NarrowsTheMeanAndHistory()
    {
        using var t = new TempDir();
        Write(t, "a", "eval", "seed=0", 0.1);
        Write(t, "b", "eval", "seed=1", 0.3);
        File.WriteAllText(System.IO.Path.Combine(t.Path, "kdgat.yaml"), """
            datasets: [d1]
            stages:
              train: { command: x, outputs: [m], sweep: { seed: [0, 1] } }
              eval: { command: x, outputs: [metrics.json] }
              plain: { command: x, outputs: [metrics.json] }
            """);
        var request = new BuildRequest { Root = t.Path, ConfigFile = "kdgat.yaml", ToolsDir = System.IO.Path.Combine(t.Path, "tools"), Stages = Stages, Sweep = "seed=1" };
        using var tracker = Tracker.Open(request, new RecordingLog(), t.Db);

        // One of the grid's two seeds, and it says so: a plain "0.3" read as the grid's result.
        Assert.Equal("0.3 (n=1 of 2 seeds, -p:Sweep)", Assert.Single(tracker.Compare([], [new Variant("ev", ["eval"])]).Rows).Stats[0]!.ToString());
        Assert.Equal("seed=1", Assert.Single(tracker.History("eval")).Record.Variant);
    }
}
