using KdGat.Core.Config;
using KdGat.Core.Execution;

namespace KdGat.Core.Tests.Execution;

[Trait("Category", "Unit")]
public sealed class RetryPolicyTests
{
    private static readonly ResourceSpec Original = new() { Cpus = 2, MemMb = 4096, TimeMinutes = 60, Gpus = 1 };

    [Fact]
    public void NextAttempt_OutOfMemory_MultipliesMemoryByNextAttemptNumber()
    {
        var second = RetryPolicy.NextAttempt(ExecState.OutOfMemory, 1, retries: 2, Original);
        var third = RetryPolicy.NextAttempt(ExecState.OutOfMemory, 2, retries: 2, Original);

        Assert.Equal(Original with { MemMb = 8192 }, second);
        Assert.Equal(Original with { MemMb = 12288 }, third);
    }

    [Fact]
    public void NextAttempt_OutOfMemoryWithoutMemRequest_StartsFromOneGigabyte() =>
        Assert.Equal(2048, RetryPolicy.NextAttempt(ExecState.OutOfMemory, 1, 2, new ResourceSpec())!.MemMb);

    [Fact]
    public void NextAttempt_Timeout_MultipliesTimeOnly()
    {
        var second = RetryPolicy.NextAttempt(ExecState.Timeout, 1, 3, Original);
        var fourth = RetryPolicy.NextAttempt(ExecState.Timeout, 3, 3, Original);

        Assert.Equal(Original with { TimeMinutes = 120 }, second);
        Assert.Equal(Original with { TimeMinutes = 240 }, fourth);
    }

    [Fact]
    public void NextAttempt_Timeout_NeverPassesTheLongestTime()
    {
        // Was "retrying with time=-1414967296min" (an int overflow) for a long time limit.
        var next = RetryPolicy.NextAttempt(ExecState.Timeout, 3, 5, Original with { TimeMinutes = ResourceParser.MaxMinutes / 2 });
        Assert.Equal(ResourceParser.MaxMinutes, next!.TimeMinutes);
    }

    /// <summary>time: UNLIMITED is stored as 0 minutes: a retry keeps it, and messages said "0min" (a review).</summary>
    [Fact]
    public void NextAttempt_Timeout_OfUnlimited_StaysUnlimited_AndReadsSo()
    {
        var next = RetryPolicy.NextAttempt(ExecState.Timeout, 1, 2, Original with { TimeMinutes = ResourceParser.UnlimitedMinutes });
        Assert.Equal(ResourceParser.UnlimitedMinutes, next!.TimeMinutes);
        Assert.Contains("time=UNLIMITED", next.Describe());
        Assert.Equal("90min", ResourceSpec.TimeText(90));
    }

    [Theory]
    [InlineData(ExecState.NodeFail)]
    [InlineData(ExecState.Preempted)]
    [InlineData(ExecState.BootFail)]
    public void NextAttempt_InfrastructureFailure_RetriesUnchanged(ExecState state) =>
        Assert.Equal(Original, RetryPolicy.NextAttempt(state, 1, 2, Original));

    [Theory]
    [InlineData(ExecState.Failed)]
    [InlineData(ExecState.Cancelled)]
    [InlineData(ExecState.NotStarted)]
    [InlineData(ExecState.Completed)]
    public void NextAttempt_PlainFailureOrCancel_IsNotRetriedEvenWithRetriesLeft(ExecState state) =>
        Assert.Null(RetryPolicy.NextAttempt(state, 1, retries: 5, Original));

    [Theory]
    [InlineData(ExecState.OutOfMemory)]
    [InlineData(ExecState.Timeout)]
    [InlineData(ExecState.NodeFail)]
    public void NextAttempt_RetriesExhausted_IsNull(ExecState state)
    {
        Assert.NotNull(RetryPolicy.NextAttempt(state, 2, retries: 2, Original)); // attempt 3 of 1 + 2 retries
        Assert.Null(RetryPolicy.NextAttempt(state, 3, retries: 2, Original));
        Assert.Null(RetryPolicy.NextAttempt(state, 1, retries: 0, Original));
    }
}
