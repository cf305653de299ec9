using KdGat.Core.Config;
using KdGat.Core.Execution;
using KdGat.Core.Execution.Slurm;

namespace KdGat.Core.Tests.Execution.Slurm;

[Trait("Category", "Unit")]
public sealed class SlurmParsingTests
{
    [Theory]
    [InlineData("COMPLETED", null, ExecState.Completed)]
    [InlineData("FAILED", "NonZeroExitCode", ExecState.Failed)]
    [InlineData("OUT_OF_MEMORY", "OutOfMemory", ExecState.OutOfMemory)]
    [InlineData("TIMEOUT", "TimeLimit", ExecState.Timeout)]
    [InlineData("NODE_FAIL", null, ExecState.NodeFail)]
    [InlineData("PREEMPTED", null, ExecState.Preempted)]
    [InlineData("BOOT_FAIL", null, ExecState.BootFail)]
    [InlineData("CANCELLED", "DependencyNeverSatisfied", ExecState.UpstreamFailed)]
    [InlineData("CANCELLED", "Dependency", ExecState.UpstreamFailed)]
    [InlineData("CANCELLED by 0", null, ExecState.Cancelled)]
    [InlineData("CANCELLED by 1234", "Dependency", ExecState.Cancelled)] // someone cancelled it while it waited on its dependency (sacct names who); SLURM's own cancel names no one
    [InlineData("CANCELLED", "Priority", ExecState.Cancelled)]
    [InlineData("SPECIAL_EXIT", null, ExecState.Failed)]
    public void TerminalStates_MapToExecStates(string state, string? reason, ExecState expected)
    {
        Assert.False(SlurmState.IsActive(state));
        Assert.Equal(expected, SlurmState.ToExecState(state, reason));
    }

    [Theory]
    [InlineData("PENDING")]
    [InlineData("RUNNING")]
    [InlineData("CONFIGURING")]
    [InlineData("COMPLETING")]
    [InlineData("REQUEUED")]
    [InlineData("SUSPENDED")]
    public void ActiveStates_AreActive(string state) => Assert.True(SlurmState.IsActive(state));

    [Theory]
    [InlineData("0:0", 0)]
    [InlineData("3:0", 3)]
    [InlineData("0:15", 143)]
    [InlineData("0:125", 0)]
    [InlineData("", 0)]
    public void ExitCodes(string text, int expected) => Assert.Equal(expected, SlurmState.ParseExitCode(text));

    [Theory]
    [InlineData("00:00:04", 4)]
    [InlineData("01:02:03", 3723)]
    [InlineData("1-00:00:01", 86401)]
    [InlineData("02:05.500", 125.5)]
    [InlineData("", 0)]
    public void Elapsed(string text, double expected) => Assert.Equal(expected, SlurmState.ParseElapsed(text), 3);

    [Theory]
    [InlineData("322240K", 322240)]
    [InlineData("2M", 2048)]
    [InlineData("1.5G", 1572864)]
    [InlineData("", 0)]
    public void MaxRss(string text, long expected) => Assert.Equal(expected, SlurmState.ParseRssKb(text));

    [Fact]
    public void Sacct_TakesStateFromTheJobLine_AndMaxRssFromItsSteps()
    {
        const string text = """
            41|COMPLETED|0:0|00:00:04||2026-11-23T13:31:44|2026-11-23T13:31:48|None|00:03.250|vm
            41.batch|COMPLETED|0:0|00:00:04|322240K|2026-11-23T13:31:44|2026-11-23T13:31:48|
            41.extern|COMPLETED|0:0|00:00:04|1000K|2026-11-23T13:31:44|2026-11-23T13:31:48|
            43|OUT_OF_MEMORY|0:125|00:00:01||2026-11-23T13:31:44|2026-11-23T13:31:45|None
            43.batch|OUT_OF_MEMORY|0:125|00:00:01|1248K|2026-11-23T13:31:44|2026-11-23T13:31:45|
            47|CANCELLED|0:0|00:00:00||None|2026-11-23T13:31:45|Dependency
            48|CANCELLED by 1234|0:0|00:00:00||None|2026-11-23T13:31:45|Dependency
            """;
        var jobs = SlurmClient.ParseSacct(text);
        Assert.Equal(4, jobs.Count);
        Assert.Equal(("COMPLETED", 322240L, 4.0), (jobs["41"].State, jobs["41"].MaxRssKb, jobs["41"].ElapsedSeconds));
        Assert.NotNull(jobs["41"].Start);
        Assert.Equal((3.25, "vm"), (jobs["41"].CpuSeconds, jobs["41"].Node));
        Assert.Equal(("OUT_OF_MEMORY", 1248L), (jobs["43"].State, jobs["43"].MaxRssKb));
        Assert.Equal(ExecState.UpstreamFailed, SlurmState.ToExecState(jobs["47"].State, jobs["47"].Reason));
        Assert.Null(jobs["47"].Start);
        Assert.Equal(ExecState.Cancelled, SlurmState.ToExecState(jobs["48"].State, jobs["48"].Reason)); // cancelled by someone while it waited on its dependency
    }

    /// <summary>A killed job's own line says 0:0; its batch step how the script died (it read "exit code 0"; a SLURM review).</summary>
    [Fact]
    public void Sacct_ExitCodeOfAKilledJob_IsItsBatchStepsSignal()
    {
        const string text = """
            50|CANCELLED by 0|0:0|00:00:10||2026-11-23T13:31:44|2026-11-23T13:31:54|None|00:00.100|vm
            50.batch|CANCELLED|0:15|00:00:10|1000K|2026-11-23T13:31:44|2026-11-23T13:31:54|
            51|TIMEOUT|0:0|00:01:00||2026-11-23T13:31:44|2026-11-23T13:32:44|None|00:00.100|vm
            51.batch|CANCELLED|0:15|00:01:00|1000K|2026-11-23T13:31:44|2026-11-23T13:32:44|
            51.extern|COMPLETED|0:0|00:01:00|1000K|2026-11-23T13:31:44|2026-11-23T13:32:44|
            52|FAILED|3:0|00:00:01||2026-11-23T13:31:44|2026-11-23T13:31:45|None|00:00.100|vm
            52.batch|FAILED|3:0|00:00:01|1000K|2026-11-23T13:31:44|2026-11-23T13:31:45|
            """;
        var jobs = SlurmClient.ParseSacct(text);
        Assert.Equal((143, 143, 3), (jobs["50"].ExitCode, jobs["51"].ExitCode, jobs["52"].ExitCode));
    }

    /// <summary>What the job was given (the retry of a stage without mem or time multiplies it): ReqMem for the whole job, or per CPU / node before SLURM 21.08.</summary>
    [Fact]
    public void Sacct_ReadsTheMemoryAndTimeLimitTheJobWasGiven()
    {
        const string text = """
            60|OUT_OF_MEMORY|0:125|00:00:01||2026-11-23T13:31:44|2026-11-23T13:31:45|None|00:00.100|vm|2G|01:00:00|2
            60.batch|OUT_OF_MEMORY|0:125|00:00:01|1248K|2026-11-23T13:31:44|2026-11-23T13:31:45||00:00.100|vm|||2
            61|TIMEOUT|0:0|00:01:00||2026-11-23T13:31:44|2026-11-23T13:32:44|None|00:00.100|vm|2048Mc|1-00:00:00|4
            62|TIMEOUT|0:0|00:01:00||2026-11-23T13:31:44|2026-11-23T13:32:44|None|00:00.100|vm|1500Mn|UNLIMITED|2
            63|COMPLETED|0:0|00:01:00||2026-11-23T13:31:44|2026-11-23T13:32:44|None|00:00.100|vm|0n|Partition_Limit|2
            64|COMPLETED|0:0|00:01:00||2026-11-23T13:31:44|2026-11-23T13:32:44|None|00:00.100|vm|2048Mc|00:05:00|
            65|COMPLETED|0:0|00:00:04||2026-11-23T13:31:44|2026-11-23T13:31:48|None|00:03.250|vm
            """;
        var jobs = SlurmClient.ParseSacct(text);
        Assert.Equal((2048L, 60), (jobs["60"].ReqMemMb, jobs["60"].TimeLimitMinutes));
        Assert.Equal((8192L, 1440), (jobs["61"].ReqMemMb, jobs["61"].TimeLimitMinutes));
        Assert.Equal((1500L, ResourceParser.UnlimitedMinutes), (jobs["62"].ReqMemMb, jobs["62"].TimeLimitMinutes));
        Assert.Equal(((long?)null, (int?)null), (jobs["63"].ReqMemMb, jobs["63"].TimeLimitMinutes)); // unreadable: the retry falls back
        Assert.Equal(((long?)null, (int?)5), (jobs["64"].ReqMemMb, jobs["64"].TimeLimitMinutes)); // per CPU without a CPU count
        Assert.Equal(((long?)null, (int?)null), (jobs["65"].ReqMemMb, jobs["65"].TimeLimitMinutes));
    }

    [Fact]
    public void Squeue_ParsesStateAndReason()
    {
        var jobs = SlurmClient.ParseSqueue("5|CANCELLED|DependencyNeverSatisfied\n4|FAILED|NonZeroExitCode\n6|RUNNING|None\n\n");
        Assert.Equal(3, jobs.Count);
        Assert.Equal("DependencyNeverSatisfied", jobs["5"].Reason);
        Assert.Null(jobs["6"].Reason);
        Assert.True(jobs["6"].IsActive);
    }

    [Theory]
    [InlineData("123\n", "123")]
    [InlineData("123;cluster\n", "123")]
    [InlineData("sbatch: warning: x\n77\n", "77")]
    [InlineData("", null)]
    [InlineData("Submitted batch job 5", null)]
    public void Submitted(string stdout, string? id) => Assert.Equal(id, SlurmClient.ParseSubmitted(stdout));

    [Theory]
    [InlineData("squeue: error: slurm_load_jobs error: Socket timed out on send/recv operation", true)]
    [InlineData("sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)", true)]
    [InlineData("sbatch: error: Batch job submission failed: Invalid partition name specified", false)]
    [InlineData("sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified", false)]
    public void TransientErrors(string text, bool transient) => Assert.Equal(transient, SlurmClient.IsTransient(text));

    [Fact]
    public void Backoff_GrowsWhileNothingChanges_ResetsOnChange_AndDoublesOnFailure()
    {
        var b = new PollBackoff(5, 60);
        Assert.Equal(5, b.Current.TotalSeconds);
        Assert.Equal(7.5, b.Next(false).TotalSeconds);
        Assert.Equal(11.25, b.Next(false).TotalSeconds);
        Assert.Equal(22.5, b.Next(false, queryFailed: true).TotalSeconds);
        for (var i = 0; i < 10; i++) b.Next(false);
        Assert.Equal(60, b.Current.TotalSeconds);
        Assert.Equal(5, b.Next(true).TotalSeconds);
        b.Next(false);
        b.Reset();
        Assert.Equal(5, b.Current.TotalSeconds);
    }

    /// <summary>Pending reasons that never clear by waiting end the wait (KDG4002); limits of a group or user, and nodes down, do clear.</summary>
    [Theory]
    [InlineData("PartitionConfig", true)]
    [InlineData("PartitionTimeLimit", true)]
    [InlineData("BadConstraints", true)]
    [InlineData("InvalidAccount", true)]
    [InlineData("InvalidQOS", true)]
    [InlineData("QOSMaxWallDurationPerJobLimit", true)]
    [InlineData("QOSMaxGRESPerJob", true)]
    [InlineData("AssocMaxCpuPerJobLimit", true)]
    [InlineData("QOSMaxJobsPerUserLimit", false)]
    [InlineData("AssocGrpCpuLimit", false)]
    [InlineData("PartitionNodeLimit", false)]
    [InlineData("ReqNodeNotAvail", false)]
    [InlineData("Resources", false)]
    [InlineData("Priority", false)]
    [InlineData(null, false)]
    public void NeverStarts_OnlyForReasonsThatNeverClear(string? reason, bool never) => Assert.Equal(never, SlurmState.NeverStarts(reason));
}
