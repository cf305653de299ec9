using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Pipeline;
using KdGat.Core.Tracking;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Tracking;

/// <summary>
/// Compare and the report of a -p:Sweep selection: -p:Sweep=seed=1 of seed: [0, 1, 2] showed the
/// cell as a plain "0.3", as if it were the grid's result (without -p:Sweep: "0.2 ± 0.1 (n=3)"), so a
/// number copied into a paper could be one seed's without anyone seeing it.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CompareBuilderTests : IDisposable
{
    private static readonly StageDeclaration[] Stages = [new("train", []), new("eval", ["train"])];
    private static readonly Variant[] Ev = [new("ev", ["eval"])];
    private readonly TempDir _d = new();
    public void Dispose() => _d.Dispose();

    public CompareBuilderTests()
    {
        _d.Write("kdgat.yaml", """
            datasets: [d1]
            stages:
              train: { command: x, outputs: [m], sweep: { seed: [0, 1, 2], lr: [0.1, 0.2] } }
              eval: { command: x, outputs: [metrics.json] }
            """);
        var store = new RecordStore(_d[".kdgat"]);
        var k = 0;
        foreach (var (variant, f1) in new[] { ("seed=0,lr=0.1", 0.1), ("seed=1,lr=0.1", 0.3), ("seed=2,lr=0.1", 0.2), ("seed=0,lr=0.2", 0.5), ("seed=1,lr=0.2", 0.6), ("seed=2,lr=0.2", 0.7) })
        {
            var at = DateTimeOffset.Parse("2026-01-01T00:00:00Z").AddMinutes(++k);
            store.Write(new RunRecord
            {
                RecordId = $"r{k}", BuildId = "b1", Dataset = "d1", Stage = "eval", Variant = variant, Fingerprint = $"fp{k}",
                Params = new SortedDictionary<string, string>(StringComparer.Ordinal), State = Outcome.Ran, StartedUtc = at, FinishedUtc = at,
                Metrics = new SortedDictionary<string, double>(StringComparer.Ordinal) { ["f1"] = f1 },
            });
        }
    }

    private Tracker Open(string? sweep)
    {
        var request = new BuildRequest { Root = _d.Path, ConfigFile = "kdgat.yaml", ToolsDir = _d["tools"], Stages = Stages, Sweep = sweep };
        var t = Tracker.Open(request, new RecordingLog(), _d[".kdgat/index.db"]);
        t.WholeHistory = true;
        return t;
    }

    /// <summary>Every instance up to date with the run above as its current result: nothing is marked not current.</summary>
    private static StatusRow[] UpToDate(Tracker t) =>
        t.Pipeline.Instances.Select(i => new StatusRow(i.Dataset, i.Name, StatusRow.UpToDate, "up to date")
            { Variant = i.Variant, Result = ("b1", 1) }).ToArray();

    [Fact]
    public void OneSeedSelected_SaysItIsOneOfTheGridsSeeds()
    {
        using var t = Open("seed=1");

        var table = t.Compare(UpToDate(t), Ev);

        var row = Assert.Single(table.Rows);
        Assert.Equal(["ev [lr=0.1]", "ev [lr=0.2]"], table.Variants);
        Assert.Equal("0.3 (n=1 of 3 seeds, -p:Sweep)", row.Stats[0]!.ToString());
        Assert.Equal("0.6 (n=1 of 3 seeds, -p:Sweep)", row.Stats[1]!.ToString());
        Assert.Empty(table.NotCurrent); // selected, not stale: no '*'
        var lines = TrackingText.Compare(table).ToArray();
        Assert.Contains(lines, l => l.Contains("0.3 (n=1 of 3 seeds, -p:Sweep)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  d1 ev [lr=0.1]: eval, run ", StringComparison.Ordinal) && l.EndsWith("; 1 of 3 seeds (-p:Sweep=seed=1)", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("  n=K of N seeds, -p:Sweep: the value is over only the K seeds -p:Sweep=seed=1 selects, not every seed of the grid", StringComparison.Ordinal));
    }

    [Fact]
    public void TwoSeedsSelected_AMeanOfTwoOfThree()
    {
        using var t = Open("seed=0,1");

        var row = Assert.Single(t.Compare(UpToDate(t), Ev).Rows);

        Assert.Equal("0.2 ± 0.1414 (n=2 of 3 seeds, -p:Sweep)", row.Stats[0]!.ToString());
    }

    /// <summary>-p:Sweep=lr=0.1 keeps every seed of the lr=0.1 column: its mean is the grid's and reads as without -p:Sweep.</summary>
    [Fact]
    public void ASelectionKeepingEverySeedOfACell_ReadsAsWithoutIt()
    {
        using var t = Open("lr=0.1");
        using var all = Open(null);

        var table = t.Compare(UpToDate(t), Ev);

        Assert.Equal("ev [lr=0.1]", Assert.Single(table.Variants));
        Assert.Equal("0.2 ± 0.1 (n=3)", Assert.Single(table.Rows).Stats[0]!.ToString());
        Assert.Equal("0.2 ± 0.1 (n=3)", Assert.Single(all.Compare(UpToDate(all), Ev).Rows).Stats[0]!.ToString());
        Assert.Empty(table.Narrowed);
        Assert.DoesNotContain(TrackingText.Compare(table), l => l.Contains("-p:Sweep", StringComparison.Ordinal));
    }

    [Fact]
    public void TheReport_SaysItToo()
    {
        using var t = Open("seed=1");

        var html = HtmlReport.Render(t, Ev, DateTimeOffset.Parse("2026-01-02T00:00:00Z"), UpToDate(t));

        Assert.Contains(">0.3 (n=1 of 3 seeds, -p:Sweep)</td>", html, StringComparison.Ordinal);
        Assert.Contains("n=K of N seeds, -p:Sweep: the value is over only the K seeds -p:Sweep=seed=1 selects, not every seed of the grid", html, StringComparison.Ordinal);
    }

    /// <summary>The number rule of every view holds in the selected cell, NaN included.</summary>
    [Fact]
    public void ASelectedCell_KeepsTheNumberRule()
    {
        var share = new SweepShare(2, 3, "seed=0,1");

        Assert.Equal("3.21e-05 ± 7.071e-06 (n=2 of 3 seeds, -p:Sweep)", (MetricStats.Of([3.21e-5 - 5e-6, 3.21e-5 + 5e-6]) with { Share = share }).ToString());
        Assert.Equal("NaN (n=2 of 3 seeds, -p:Sweep; seed=1: NaN)", (MetricStats.Of([0.5, double.NaN], ["seed=0", "seed=1"]) with { Share = share }).ToString());
        Assert.Equal("178", MetricStats.Of([178]).ToString());
    }
}
