using System.Diagnostics;
using KdGat.Core.Locking;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Locking;

[Trait("Category", "Unit")]
public sealed class StageLockTests : IDisposable
{
    private readonly TempDir _dir = new();
    private string LockFile => _dir["state/a/lock"];
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void TryAcquire_Free_AcquiresAndWritesOwner()
    {
        using var l = StageLock.TryAcquire(LockFile);

        Assert.NotNull(l);
        Assert.StartsWith($"pid {Environment.ProcessId} on {Environment.MachineName} since ", File.ReadAllText(LockFile + ".owner"));
    }

    [Fact]
    public void TryAcquire_HeldInSameProcess_FailsUntilReleased()
    {
        var first = StageLock.TryAcquire(LockFile)!;

        Assert.Null(StageLock.TryAcquire(LockFile));

        first.Dispose();
        Assert.False(File.Exists(LockFile + ".owner"));
        using var again = StageLock.TryAcquire(LockFile);
        Assert.NotNull(again);
    }

    /// <summary>
    /// A lock file that cannot be opened (here a name too long; a read-only file system, a full disk or quota
    /// the same way) was read as another holder: the build waited forever (KDG2002) and Clean said a build
    /// was running (a crash review). It is an IOException naming the lock, said as KDG3007 or KDG1207.
    /// </summary>
    [Fact]
    public async Task ALockFileThatCannotBeOpened_IsAnError_NotAHolderToWaitFor()
    {
        var unusable = _dir["state/" + new string('x', 300) + ".lock"];

        var e = Assert.ThrowsAny<IOException>(() => StageLock.TryAcquire(unusable));
        Assert.Contains("KdGat cannot take its lock", e.Message);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var told = false;
        await Assert.ThrowsAnyAsync<IOException>(() => StageLock.AcquireAsync(unusable, _ => told = true, cancel.Token));
        Assert.False(told);
    }

    [Fact]
    public async Task AcquireAsync_Held_ReportsHolderOnceAndGetsLockAfterRelease()
    {
        var first = StageLock.TryAcquire(LockFile)!;
        var told = new List<string>();

        var waiting = StageLock.AcquireAsync(LockFile, told.Add, CancellationToken.None);
        await Until(() => told.Count > 0); // it found the lock held and said so
        Assert.False(waiting.IsCompleted);
        first.Dispose();
        using var second = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.NotNull(second);
        var holder = Assert.Single(told);
        Assert.StartsWith($"pid {Environment.ProcessId} on ", holder);
    }

    [Fact]
    public async Task AcquireAsync_CancelledWhileWaiting_Throws()
    {
        using var first = StageLock.TryAcquire(LockFile)!;
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => StageLock.AcquireAsync(LockFile, _ => { }, cts.Token));
    }

    [Fact]
    public async Task TryAcquire_HolderKilledWithSigkill_LockIsReleasedByKernel()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LockFile)!);
        // flock(1) on an fd that the exec'd sleep inherits: the lock lives exactly as long as that process.
        var psi = new ProcessStartInfo("/bin/sh", ["-c", $"exec 9>>'{LockFile}'; flock -n 9 || exit 3; echo locked; exec sleep 60"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var holder = Process.Start(psi)!;
        try
        {
            var line = await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("locked", line);
            Assert.Null(StageLock.TryAcquire(LockFile)); // the other process's flock is seen

            holder.Kill(); // SIGKILL: no chance to unlock
            Assert.True(holder.WaitForExit(5000));

            using var mine = StageLock.TryAcquire(LockFile);
            Assert.NotNull(mine);
        }
        finally
        {
            if (!holder.HasExited) holder.Kill();
        }
    }

    [Fact]
    public async Task AcquireAsync_HolderKilledWhileWaiting_AcquiresWithoutTimeouts()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LockFile)!);
        var psi = new ProcessStartInfo("/bin/sh", ["-c", $"exec 9>>'{LockFile}'; flock -n 9 || exit 3; echo locked; exec sleep 60"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var holder = Process.Start(psi)!;
        try
        {
            Assert.Equal("locked", await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
            var waits = 0;
            var waiting = StageLock.AcquireAsync(LockFile, _ => waits++, CancellationToken.None);
            await Until(() => waits > 0); // it found the lock held by the other process
            Assert.False(waiting.IsCompleted);

            holder.Kill();
            using var mine = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

            Assert.NotNull(mine);
            Assert.Equal(1, waits);
        }
        finally
        {
            if (!holder.HasExited) holder.Kill();
        }
    }

    /// <summary>Waits for a condition (not for a fixed time); fails after 10 s.</summary>
    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "condition not met within 10 s");
            await Task.Yield();
        }
    }
}
