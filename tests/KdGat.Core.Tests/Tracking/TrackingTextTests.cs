using KdGat.Core.Engine;
using KdGat.Core.Tracking;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Tracking;

[Trait("Category", "Unit")]
public sealed class TrackingTextTests
{
    /// <summary>History's state column says how an attempt ended when that says more: a timed-out SLURM attempt was a plain "failed" (a SLURM user review).</summary>
    [Theory]
    [InlineData("failed", "Timeout", "failed (Timeout)")]
    [InlineData("failed", "OutOfMemory", "failed (OutOfMemory)")]
    [InlineData("failed", "Failed", "failed")]
    [InlineData("ran", "Completed", "ran")]
    [InlineData("cancelled", "Cancelled", "cancelled")]
    [InlineData("adopted", null, "adopted")]
    public void History_StateCell_NamesHowTheAttemptEnded(string state, string? execState, string shown) =>
        Assert.Equal(shown, TrackingText.StateCell(state, execState));

    /// <summary>A diverged run's values as Python prints them; "Infinity" was .NET's word.</summary>
    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "inf")]
    [InlineData(double.NegativeInfinity, "-inf")]
    [InlineData(0.81554, "0.8155")]
    [InlineData(null, "-")]
    public void Number_ShowsNaNAndInfinities(double? value, string shown) =>
        Assert.Equal(shown, Tracker.Number(value));

    /// <summary>
    /// One rule for every view: at least 4 significant digits, integers as integers, never "-0". With
    /// "0.####" a loss of 3.21e-5 was "0", -2e-5 was "-0", and 3e-5 and 4e-5 were both "0" (one bold as best).
    /// </summary>
    [Theory]
    [InlineData(0.0000321, "3.21e-05")]
    [InlineData(-0.00002, "-2e-05")]
    [InlineData(2.5e-7, "2.5e-07")]
    [InlineData(0.000123456, "1.235e-04")]
    [InlineData(0.0123456, "0.01235")]
    [InlineData(0.001, "0.001")]
    [InlineData(0.9, "0.9")]
    [InlineData(178.0, "178")]
    [InlineData(-3.0, "-3")]
    [InlineData(12.3456789, "12.3457")]
    [InlineData(0.0, "0")]
    [InlineData(1234567890123457.0, "1234567890123457")] // "0.####" kept 15 digits: ...460 (a review)
    [InlineData(0.99996, "0.99996")] // not "1", a perfect score
    [InlineData(-0.99996, "-0.99996")]
    [InlineData(1e300, "1e+300")] // not 301 digits across the table
    [InlineData(1.5e20, "1.5e+20")]
    public void Number_KeepsSmallValuesAndIntegers(double value, string shown) =>
        Assert.Equal(shown, Tracker.Number(value));

    [Fact]
    public void Number_NeverSaysMinusZero() => Assert.Equal("0", Tracker.Number(-0.0));

    /// <summary>A spread over seeds below 5e-5 was "± 0".</summary>
    [Fact]
    public void MetricStats_ShowASmallSpread()
    {
        Assert.Equal("3e-05 ± 1.414e-05 (n=2)", MetricStats.Of([0.00002, 0.00004]).ToString());
        Assert.Equal("3.5e-05 ± 7.071e-06 (n=2)", MetricStats.Of([0.00003, 0.00004]).ToString());
    }

    /// <summary>The one-run view (-t:History -p:RunId) shows the value as stored, to copy into a paper.</summary>
    [Theory]
    [InlineData(0.0000321, "3.21E-05")]
    [InlineData(0.8155412345678901, "0.8155412345678901")]
    [InlineData(178.0, "178")]
    [InlineData(1234567890123457.0, "1234567890123457")]
    [InlineData(-0.0, "0")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.NegativeInfinity, "-inf")]
    public void Exact_RoundTrips(double value, string shown) =>
        Assert.Equal(shown, Tracker.Exact(value));

    /// <summary>Over seeds, a diverged one makes the mean NaN or inf as arithmetic does, and the cell names it instead of a ± of nothing.</summary>
    [Fact]
    public void MetricStats_NameTheSeedsThatDiverged()
    {
        Assert.Equal("NaN (n=3; seed=1: NaN)", MetricStats.Of([0.1, double.NaN, 0.3], ["seed=0", "seed=1", "seed=2"]).ToString());
        Assert.Equal("inf (n=2; seed=0: inf)", MetricStats.Of([double.PositiveInfinity, 0.3], ["seed=0", "seed=1"]).ToString());
        Assert.Equal("-inf", MetricStats.Of([double.NegativeInfinity]).ToString());
        Assert.Equal("0.2 ± 0.1 (n=3)", MetricStats.Of([0.1, 0.2, 0.3], ["seed=0", "seed=1", "seed=2"]).ToString());
    }

    /// <summary>
    /// Status with -p:Sweep=seed=1 said "status of 2 stage instance(s) ...: 2 up-to-date" and nothing of
    /// the grid's other 4 instances (never built, stale), as if the pipeline were up to date.
    /// </summary>
    [Theory]
    [InlineData("seed=1", null, "KdGat: status of 2 stage instance(s) in 1 dataset(s): 2 up-to-date; -p:Sweep=seed=1 selects 2 of the grid's 6, the other 4 are not shown")]
    [InlineData("seed=1", "eval", "KdGat: status of 1 stage instance(s) in 1 dataset(s): 1 up-to-date; -p:Sweep=seed=1 selects 1 of the grid's 3, the other 2 are not shown")]
    [InlineData("seed=0,1,2", null, "KdGat: status of 6 stage instance(s) in 1 dataset(s): 6 up-to-date")]
    [InlineData(null, null, "KdGat: status of 6 stage instance(s) in 1 dataset(s): 6 up-to-date")]
    public void StatusHeadline_SaysHowMuchOfTheGridASweepSelectionShows(string? sweep, string? stage, string said)
    {
        using var d = new TempDir();
        d.Write("kdgat.yaml", """
            datasets: [d1]
            stages:
              train: { command: x, outputs: [m], sweep: { seed: [0, 1, 2] } }
              eval: { command: x, outputs: [metrics.json] }
            """);
        var pipeline = LoadedPipeline.Load(new BuildRequest
        {
            Root = d.Path, ConfigFile = "kdgat.yaml", ToolsDir = d["tools"], Stages = [new("train", []), new("eval", ["train"])], Sweep = sweep,
        });
        var rows = pipeline.Instances.Where(i => stage is null || i.Name == stage)
            .Select(i => new StatusRow(i.Dataset, i.Name, StatusRow.UpToDate, "") { Variant = i.Variant }).ToArray();

        Assert.Equal(said, TrackingText.StatusHeadline(pipeline, rows, stage));
    }
}
