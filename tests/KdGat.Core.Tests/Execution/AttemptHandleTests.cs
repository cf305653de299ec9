using KdGat.Core.Execution;

namespace KdGat.Core.Tests.Execution;

[Trait("Category", "Unit")]
public sealed class AttemptHandleTests
{
    [Fact]
    public void JournalForm_RoundTrips_AndKeepsTheFormEarlierVersionsWrote()
    {
        Assert.Equal("pid:123", AttemptHandle.Process(123).ToString());
        Assert.Equal("slurm:456", AttemptHandle.BatchJob("456").ToString());
        Assert.Equal(AttemptHandle.Process(123), AttemptHandle.Parse("pid:123"));
        Assert.Equal(AttemptHandle.BatchJob("456"), AttemptHandle.Parse("slurm:456"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("pid:")]
    [InlineData("slurm:")]
    [InlineData("pbs:7")]
    [InlineData("123")]
    public void UnknownForms_AreNoHandle(string? text) => Assert.Null(AttemptHandle.Parse(text));

    [Fact]
    public void RecordedIdAndDescription_AreWhatTablesAndMessagesShow()
    {
        Assert.Equal("456", AttemptHandle.BatchJob("456").RecordedId);
        Assert.Equal("pid:123", AttemptHandle.Process(123).RecordedId);
        Assert.Equal("job 456", AttemptHandle.BatchJob("456").Describe());
        Assert.Equal("pid 123", AttemptHandle.Process(123).Describe());
    }
}
