using KdGat.Core.Tracking;
using KdGat.Testing;
using Xunit;

namespace KdGat.Tracking.Tests;

/// <summary>
/// The index lock excludes across processes even with DOTNET_SYSTEM_IO_DISABLEFILELOCKING=1 (as
/// some cluster module files set), which turns .NET's FileShare locking into nothing. The
/// children are this test assembly (Program.cs).
/// </summary>
[Trait("Category", "Unit")]
public sealed class IndexLockTests
{
    private static string Self => typeof(Program).Assembly.Location;
    private static readonly Dictionary<string, string> NoDotnetLocking = new() { ["DOTNET_SYSTEM_IO_DISABLEFILELOCKING"] = "1" };

    [Theory]
    [InlineData("exclusive", "shared")]
    [InlineData("exclusive", "exclusive")]
    [InlineData("shared", "exclusive")]
    public void HeldInOneProcess_AnotherMustWait_UntilReleased(string held, string wanted)
    {
        using var t = new TempDir();
        var lockFile = Path.Combine(t.StateDir, "index.db.lock");
        var release = Path.Combine(t.Path, "release");
        using var holder = StartHolder(t, lockFile, held, release, out var holderOutput);
        try
        {
            var blocked = ProcessRunner.Run("dotnet", [Self, "take-index-lock", lockFile, wanted], t.Path, env: NoDotnetLocking);
            Assert.Contains("busy", blocked.Output);

            File.WriteAllText(release, "");
            Assert.True(holder.WaitForExit(TimeSpan.FromMinutes(1)), "the holder did not release: " + holderOutput);
            var after = ProcessRunner.Run("dotnet", [Self, "take-index-lock", lockFile, wanted], t.Path, env: NoDotnetLocking);
            Assert.Contains("acquired", after.Output);
        }
        finally
        {
            if (!holder.HasExited) holder.Kill();
        }
    }

    [Fact]
    public async Task ALockFileThatIsAFifo_IsAnIOExceptionNamingIt_NotAWaitForAWriter()
    {
        using var t = new TempDir();
        var lockFile = Path.Combine(t.StateDir, "index.db.lock");
        Directory.CreateDirectory(t.StateDir);
        Assert.Equal(0, ProcessRunner.Run("mkfifo", [lockFile], t.Path).ExitCode);

        // Was: History, Clean and a build's index step blocked for ever opening it (a hostile-input pass).
        var e = await Task.Run(() => Assert.Throws<IOException>(() => IndexLock.Shared(lockFile, TimeSpan.FromSeconds(1))))
            .WaitAsync(TimeSpan.FromSeconds(20)); // a TimeoutException when taking the lock blocks
        Assert.Contains(lockFile, e.Message);
        Assert.Contains("FIFO", e.Message);
    }

    [Fact]
    public async Task WaitingForTheIndexLock_SaysSo_OnceAsStageLocksDo()
    {
        using var t = new TempDir();
        var location = IndexLocation.Choose(t.Path, t.Db);
        var held = IndexLock.Exclusive(location.DbPath + ".lock", TimeSpan.FromSeconds(5));
        var calls = 0;
        Assert.Throws<IndexLockHeldException>(() => IndexLock.Shared(location.DbPath + ".lock", TimeSpan.FromMilliseconds(300), waiting: () => calls++));
        Assert.Equal(1, calls);

        // Was: Compare waited up to 2 min without a word while another process rebuilt the index.
        var log = new KdGat.Core.Diagnostics.RecordingLog();
        var release = Task.Run(async () => { await Task.Delay(500); held.Dispose(); });
        using (RunIndex.Open(location, new RecordStore(t.StateDir), log)) { }
        await release;
        var line = Assert.Single(log.Items, d => d.Code == KdGat.Core.Diagnostics.ErrorCodes.LockWait);
        Assert.Contains("waiting for the run index lock", line.Message);
    }

    [Fact]
    public void SharedInOneProcess_SharedInAnother_BothHold()
    {
        using var t = new TempDir();
        var lockFile = Path.Combine(t.StateDir, "index.db.lock");
        var release = Path.Combine(t.Path, "release");
        using var holder = StartHolder(t, lockFile, "shared", release, out _);
        try
        {
            Assert.Contains("acquired", ProcessRunner.Run("dotnet", [Self, "take-index-lock", lockFile, "shared"], t.Path, env: NoDotnetLocking).Output);
        }
        finally
        {
            File.WriteAllText(release, "");
            if (!holder.WaitForExit(TimeSpan.FromMinutes(1))) holder.Kill();
        }
    }

    /// <summary>A child holding the lock until <paramref name="release"/> exists; returns once it says it holds it.</summary>
    private static System.Diagnostics.Process StartHolder(TempDir t, string lockFile, string mode, string release, out System.Text.StringBuilder output)
    {
        var holder = ProcessRunner.Start("dotnet", [Self, "hold-index-lock", lockFile, mode, release], t.Path, NoDotnetLocking, out output);
        var said = output;
        Eventually.Within(TimeSpan.FromMinutes(2), () => Said(said, "held") || holder.HasExited);
        Assert.True(Said(output, "held"), "the holder did not take the lock: " + output);
        return holder;
    }

    private static bool Said(System.Text.StringBuilder output, string word)
    {
        lock (output) return output.ToString().Contains(word);
    }
}
