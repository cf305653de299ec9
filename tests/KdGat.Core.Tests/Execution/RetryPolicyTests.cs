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
        var second = RetryPolicy.NextAttempt(ExecState.OutOfMemory, 1, retries: 2, Original)!.Resources;
        var third = RetryPolicy.NextAttempt(ExecState.OutOfMemory, 2, retries: 2, Original)!.Resources;

        Assert.Equal(Original with { MemMb = 8192 }, second);
        Assert.Equal(Original with { MemMb = 12288 }, third);
    }

    [Fact]
    public void NextAttempt_OutOfMemoryWithoutMemRequest_StartsFromOneGigabyte() =>
        Assert.Equal(2048, RetryPolicy.NextAttempt(ExecState.OutOfMemory, 1, 2, new ResourceSpec())!.Resources.MemMb);

    [Fact]
    public void NextAttempt_Timeout_MultipliesTimeOnly()
    {
        var second = RetryPolicy.NextAttempt(ExecState.Timeout, 1, 3, Original)!.Resources;
        var fourth = RetryPolicy.NextAttempt(ExecState.Timeout, 3, 3, Original)!.Resources;

        Assert.Equal(Original with { TimeMinutes = 120 }, second);
        Assert.Equal(Original with { TimeMinutes = 240 }, fourth);
    }

    [Fact]
    public void NextAttempt_Timeout_NeverPassesTheLongestTime()
    {
        // Was "retrying with time=-1414967296min" (an int overflow) for a long time limit.
        var next = RetryPolicy.NextAttempt(ExecState.Timeout, 3, 5, Original with { TimeMinutes = ResourceParser.MaxMinutes / 2 })!.Resources;
        Assert.Equal(ResourceParser.MaxMinutes, next!.TimeMinutes);
    }

    /// <summary>time: UNLIMITED is stored as 0 minutes: a retry keeps it, and messages said "0min" (a review).</summary>
    [Fact]
    public void NextAttempt_Timeout_OfUnlimited_StaysUnlimited_AndReadsSo()
    {
        var next = RetryPolicy.NextAttempt(ExecState.Timeout, 1, 2, Original with { TimeMinutes = ResourceParser.UnlimitedMinutes })!.Resources;
        Assert.Equal(ResourceParser.UnlimitedMinutes, next!.TimeMinutes);
        Assert.Contains("time=UNLIMITED", next.Describe());
        Assert.Equal("90min", ResourceSpec.TimeText(90));
    }

    /// <summary>
    /// A stage without mem ran with the cluster's default (DefMemPerCPU 1024 x cpus: 2 = 2G): the retry
    /// asked 1024M x 2, the same 2G (with cpus: 4 less than attempt 1 had; a SLURM review).
    /// </summary>
    [Theory]
    [InlineData(2048, 4096)]
    [InlineData(4096, 8192)]
    public void NextAttempt_OutOfMemoryWithoutMemRequest_MultipliesWhatSlurmGaveTheJob(long granted, long expected)
    {
        var retry = RetryPolicy.NextAttempt(ExecState.OutOfMemory, 1, 2, new ResourceSpec { Cpus = 2 }, null, new Granted(granted, 60))!;
        Assert.Equal(new ResourceSpec { Cpus = 2, MemMb = expected }, retry.Resources);
        Assert.Null(retry.Note);
    }

    /// <summary>Attempt 2 asked 2G x 2 (the first retry's raise): attempt 3 gets 2G x 3, not 4G x 3.</summary>
    [Fact]
    public void NextAttempt_OutOfMemoryAgain_MultipliesTheFirstAttemptsMemory()
    {
        var raised = new ResourceSpec { MemMb = 4096 };
        Assert.Equal(6144, RetryPolicy.NextAttempt(ExecState.OutOfMemory, 2, 2, new ResourceSpec(), raised, new Granted(4096, 60))!.Resources.MemMb);
    }

    [Fact]
    public void NextAttempt_StagesOwnMemAndTime_WinOverWhatSlurmSays()
    {
        Assert.Equal(8192, RetryPolicy.NextAttempt(ExecState.OutOfMemory, 1, 2, Original, null, new Granted(100, 5))!.Resources.MemMb);
        Assert.Equal(120, RetryPolicy.NextAttempt(ExecState.Timeout, 1, 2, Original, null, new Granted(100, 5))!.Resources.TimeMinutes);
    }

    /// <summary>SLURM did not say (sacct lagged): the 1024M / 60 min of before, and the KDG3009 line says it assumed them.</summary>
    [Fact]
    public void NextAttempt_WithoutRequestAndWithoutSlurmsWord_FallsBackAndSaysSo()
    {
        var mem = RetryPolicy.NextAttempt(ExecState.OutOfMemory, 1, 2, new ResourceSpec(), null, new Granted(null, null))!;
        var time = RetryPolicy.NextAttempt(ExecState.Timeout, 1, 2, new ResourceSpec(), null, new Granted(null, null))!;
        Assert.Equal((2048L, 120), (mem.Resources.MemMb!.Value, time.Resources.TimeMinutes!.Value));
        Assert.Contains("assumed mem=1024M", mem.Note);
        Assert.Contains("assumed time=60min", time.Note);
    }

    /// <summary>The local executor reports nothing: its retries are as they were, with nothing said.</summary>
    [Fact]
    public void NextAttempt_Locally_IsAsBefore()
    {
        Assert.Equal(new Retry(new ResourceSpec { MemMb = 3072 }), RetryPolicy.NextAttempt(ExecState.OutOfMemory, 2, 2, new ResourceSpec(), new ResourceSpec { MemMb = 2048 }));
        Assert.Equal(new Retry(new ResourceSpec { TimeMinutes = 120 }), RetryPolicy.NextAttempt(ExecState.Timeout, 1, 2, new ResourceSpec()));
    }

    /// <summary>A partition whose default time is 2 h: a TIMEOUT retry asked 60 min x 2 (no more); now 2 h x 2, then 2 h x 3.</summary>
    [Fact]
    public void NextAttempt_TimeoutWithoutTimeRequest_MultipliesTheJobsTimeLimit()
    {
        Assert.Equal(240, RetryPolicy.NextAttempt(ExecState.Timeout, 1, 2, new ResourceSpec(), null, new Granted(2048, 120))!.Resources.TimeMinutes);
        Assert.Equal(360, RetryPolicy.NextAttempt(ExecState.Timeout, 2, 2, new ResourceSpec(), new ResourceSpec { TimeMinutes = 240 }, new Granted(2048, 240))!.Resources.TimeMinutes);
    }

    /// <summary>A job SLURM gave no time limit has none to raise: retried as it was (not with an explicit UNLIMITED or 60 min).</summary>
    [Fact]
    public void NextAttempt_TimeoutOfAJobWithoutTimeLimit_RetriesUnchanged()
    {
        var retry = RetryPolicy.NextAttempt(ExecState.Timeout, 1, 2, new ResourceSpec { Cpus = 2 }, null, new Granted(2048, ResourceParser.UnlimitedMinutes))!;
        Assert.Equal(new ResourceSpec { Cpus = 2 }, retry.Resources);
        Assert.Contains("no time limit", retry.Note);
    }

    /// <summary>
    /// OOM at attempt 1 (4G raised to 8G), then TIMEOUT at attempt 2: attempt 3 asked the stage's own 4G
    /// again with the raised time, and ran out of memory once more (it said so since the SLURM pass).
    /// </summary>
    [Fact]
    public void NextAttempt_TimeoutAfterAnOutOfMemoryRaise_KeepsTheRaisedMemory_AndTheReverse()
    {
        var afterOom = RetryPolicy.NextAttempt(ExecState.Timeout, 2, 3, Original, Original with { MemMb = 8192 })!.Resources;
        Assert.Equal(Original with { MemMb = 8192, TimeMinutes = 180 }, afterOom);

        var afterTimeout = RetryPolicy.NextAttempt(ExecState.OutOfMemory, 2, 3, Original, Original with { TimeMinutes = 120 })!.Resources;
        Assert.Equal(Original with { MemMb = 12288, TimeMinutes = 120 }, afterTimeout);
    }

    /// <summary>Without mem: 2G given, raised to 4G, kept through a TIMEOUT retry; the next OOM asks more than the 4G that ran out.</summary>
    [Fact]
    public void NextAttempt_OutOfMemory_AfterARaiseKeptThroughATimeout_AsksMoreThanWhatRanOut()
    {
        var next = RetryPolicy.NextAttempt(ExecState.OutOfMemory, 3, 3, new ResourceSpec(), new ResourceSpec { MemMb = 4096, TimeMinutes = 180 }, new Granted(4096, 180))!.Resources;
        Assert.True(next.MemMb > 4096, $"mem={next.MemMb}");
        Assert.Equal(180, next.TimeMinutes);
    }

    [Theory]
    [InlineData(ExecState.NodeFail)]
    [InlineData(ExecState.Preempted)]
    public void NextAttempt_InfrastructureFailure_AfterARaise_RetriesWhatRan(ExecState state)
    {
        var raised = Original with { MemMb = 8192 };
        Assert.Equal(raised, RetryPolicy.NextAttempt(state, 2, 3, Original, raised)!.Resources);
    }

    [Theory]
    [InlineData(ExecState.NodeFail)]
    [InlineData(ExecState.Preempted)]
    [InlineData(ExecState.BootFail)]
    public void NextAttempt_InfrastructureFailure_RetriesUnchanged(ExecState state) =>
        Assert.Equal(Original, RetryPolicy.NextAttempt(state, 1, 2, Original)!.Resources);

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
    /// <summary>
    /// A TIMEOUT retry raised above the partition's MaxTime failed with KDG4002 though the partition allowed
    /// more than the first attempt had: it now gets the partition's most, and the line says so. Only when the
    /// attempt that timed out already had that most does it stay above (SLURM's refusal, KDG4002).
    /// </summary>
    [Fact]
    public void WithinPartition_ATimeoutRetryAboveMaxTime_GetsTheMost_UnlessTheAttemptHadItAlready()
    {
        var timedOut = new ResourceSpec { TimeMinutes = 120 };
        var raised = RetryPolicy.NextAttempt(ExecState.Timeout, 1, retries: 2, timedOut)!;
        Assert.Equal(240, raised.Resources.TimeMinutes);

        var capped = RetryPolicy.WithinPartition(raised, maxMinutes: 180, ranMinutes: 120, "partition gpu");
        Assert.Equal(180, capped.Resources.TimeMinutes);
        Assert.Equal("time=180min, the most partition gpu allows one job (MaxTime), not time=240min", capped.Note);

        // The attempt that timed out had the most already: unchanged, SLURM refuses it (KDG4002).
        Assert.Same(raised, RetryPolicy.WithinPartition(raised, maxMinutes: 120, ranMinutes: 120, "partition gpu"));
        // Within MaxTime, no MaxTime, an unknown one: unchanged.
        Assert.Same(raised, RetryPolicy.WithinPartition(raised, maxMinutes: 240, ranMinutes: 120, "partition gpu"));
        Assert.Same(raised, RetryPolicy.WithinPartition(raised, maxMinutes: ResourceParser.UnlimitedMinutes, ranMinutes: 120, "partition gpu"));
        Assert.Same(raised, RetryPolicy.WithinPartition(raised, maxMinutes: null, ranMinutes: 120, "partition gpu"));
        // A note of its own is kept before the cap's.
        var assumed = new Retry(new ResourceSpec { TimeMinutes = 120 }, "assumed time=60min x 2");
        Assert.Equal("assumed time=60min x 2; time=90min, the most the default partition allows one job (MaxTime), not time=120min",
            RetryPolicy.WithinPartition(assumed, maxMinutes: 90, ranMinutes: null, "the default partition").Note);
    }
}
