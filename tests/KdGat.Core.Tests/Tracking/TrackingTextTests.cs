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
}
