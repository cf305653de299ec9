using KdGat.Core.Execution.Local;

namespace KdGat.Core.Tests.Execution.Local;

[Trait("Category", "Unit")]
public sealed class ShellProcessTests
{
    private static readonly TimeSpan[] Quick = [TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(4)];

    /// <summary>EAGAIN on a shared login node passes as the user's other processes end: a start it refused is tried again.</summary>
    [Fact]
    public async Task RetryRefusedAsync_AStartRefusedTwice_IsTriedAgain_AndStarts()
    {
        var tries = 0;

        var started = await ShellProcess.RetryRefusedAsync(() => Task.FromResult(++tries < 3 ? ((int?)StartRefusedException.EAgain, 0) : (null, 42)),
            Quick, TimeProvider.System, CancellationToken.None);

        Assert.Equal(42, started);
        Assert.Equal(3, tries);
    }

    [Fact]
    public async Task RetryRefusedAsync_RefusedEveryTime_IsStartRefused_AfterTheBackoff()
    {
        var tries = 0;

        var e = await Assert.ThrowsAsync<StartRefusedException>(() => ShellProcess.RetryRefusedAsync(
            () => Task.FromResult(((int?)StartRefusedException.EMFile, ++tries)), Quick, TimeProvider.System, CancellationToken.None));

        Assert.Equal(4, tries);
        Assert.Equal("KDG3022", e.Code);
        Assert.Contains("4 times over", e.Message);
    }

    /// <summary>A Ctrl+C while a refused start waits: nothing started, the wait ends at once.</summary>
    [Fact]
    public async Task RetryRefusedAsync_CancelledDuringTheBackoff_StopsWaiting()
    {
        using var cts = new CancellationTokenSource();
        var tries = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ShellProcess.RetryRefusedAsync(() =>
        {
            tries++;
            cts.Cancel();
            return Task.FromResult(((int?)StartRefusedException.EAgain, 0));
        }, [TimeSpan.FromMinutes(10)], TimeProvider.System, cts.Token));

        Assert.Equal(1, tries);
    }

    /// <summary>The backoff waits long enough for a build's other stages to end (they free the processes), and not so long that a real refusal hangs.</summary>
    [Fact]
    public void Backoff_WaitsAbout15SecondsInAll()
    {
        var total = ShellProcess.Backoff.Aggregate(TimeSpan.Zero, (a, b) => a + b);
        Assert.InRange(total.TotalSeconds, 10, 30);
    }
}
