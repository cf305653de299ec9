using KdGat.Core.Execution.Local;

namespace KdGat.Core.Tests.Execution.Local;

[Trait("Category", "Unit")]
public sealed class StartRefusedTests
{
    private static ProcessLimits Limits(int openFiles = 40) => new(new Dictionary<string, string>
    {
        ["Max processes"] = "64", ["Max open files"] = "256", ["Max address space"] = "unlimited",
    }, Threads: 41, OpenFiles: openFiles);

    [Theory]
    [InlineData(StartRefusedException.EAgain, "KDG3021", "(now 64, `ulimit -u`")]
    [InlineData(StartRefusedException.EMFile, "KDG3022", "(now 256, `ulimit -n`)")]
    [InlineData(StartRefusedException.ENoMem, "KDG3023", "address space unlimited, `ulimit -v`")]
    public void EachLimit_HasItsCode_AndTheMessageNamesTheLimitItsValueAndWhatToDo(int errno, string code, string limit)
    {
        var e = new StartRefusedException(errno, tries: 6, TimeSpan.FromSeconds(15.5), Limits());

        Assert.Equal(code, e.Code);
        Assert.Contains(limit, e.Message);
        Assert.Contains("6 times over 15.5 s", e.Message);
        Assert.Contains("has 41 threads and 40 open files", e.Message);
        Assert.Contains("Lower -p:MaxParallelStages", e.Message);
        Assert.Contains("runs in the next build", e.Message);
    }

    /// <summary>A refused .NET thread says no errno: seen under `ulimit -n` as well as `ulimit -u`, told apart by the open files.</summary>
    [Fact]
    public void ARefusedThread_IsTheFileLimit_WhenTheProcessIsAtIt_ElseTheProcessLimit()
    {
        Assert.Equal("KDG3022", new StartRefusedException(StartRefusedException.ThreadRefused, 6, TimeSpan.Zero, Limits(openFiles: 252)).Code);
        Assert.Equal("KDG3021", new StartRefusedException(StartRefusedException.ThreadRefused, 6, TimeSpan.Zero, Limits(openFiles: 40)).Code);
    }

    [Fact]
    public void Read_GivesThisProcesssLimitsAndUsage()
    {
        var limits = ProcessLimits.Read();

        Assert.True(limits.Threads > 0);
        Assert.True(limits.OpenFiles > 0);
        Assert.NotEqual("unknown", limits.Text("Max open files"));
    }
}
