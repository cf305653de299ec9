using KdGat.Core.Tracking;

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

    /// <summary>Over seeds, a diverged one makes the mean NaN or inf as arithmetic does, and the cell names it instead of a ± of nothing.</summary>
    [Fact]
    public void MetricStats_NameTheSeedsThatDiverged()
    {
        Assert.Equal("NaN (n=3; seed=1: NaN)", MetricStats.Of([0.1, double.NaN, 0.3], ["seed=0", "seed=1", "seed=2"]).ToString());
        Assert.Equal("inf (n=2; seed=0: inf)", MetricStats.Of([double.PositiveInfinity, 0.3], ["seed=0", "seed=1"]).ToString());
        Assert.Equal("-inf", MetricStats.Of([double.NegativeInfinity]).ToString());
        Assert.Equal("0.2 ± 0.1 (n=3)", MetricStats.Of([0.1, 0.2, 0.3], ["seed=0", "seed=1", "seed=2"]).ToString());
    }
}
