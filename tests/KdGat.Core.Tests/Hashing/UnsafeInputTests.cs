using KdGat.Core.Diagnostics;
using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Hashing;

/// <summary>
/// Inputs that used to hang (with unbounded memory) or block: a symlink cycle, a FIFO, /dev/zero.
/// Each is a KDG error; a hang is caught by a generous timeout, not a timing assertion.
/// </summary>
[Trait("Category", "Unit")]
public sealed class UnsafeInputTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private static T Returns<T>(Func<T> work)
    {
        var task = Task.Run(work);
        Assert.True(task.Wait(TimeSpan.FromMinutes(1)), "hung");
        return task.Result;
    }

    private static KdgException Fails(Action work) => Returns(() => Assert.Throws<KdgException>(work));

    private static PathHasher Hasher() => new(new HashCache());

    private void Link(string target, string link) => Assert.Equal(0, Sh.Run($"ln -s '{target}' '{link}'", _dir.Path).ExitCode);

    /// <summary>
    /// A link into /proc looks like a regular file of size 0; /proc/kmsg's read blocks until the
    /// kernel logs, which hung a build silently (found by review). /proc/self/status stands in for
    /// it here (same kind of file, but a read returns). An ordinary empty file still hashes.
    /// </summary>
    [Fact]
    public void InputDirectory_WithALinkIntoProc_IsKdg1015_AndAnEmptyFileStillHashes()
    {
        _dir.Write("data/a.csv", "a");
        _dir.Write("data/empty.csv", "");
        Assert.NotNull(Returns(() => Hasher().Hash(_dir["data"])));
        Link("/proc/self/status", "data/zz.csv");

        var e = Fails(() => Hasher().Hash(_dir["data"]));

        Assert.Equal(ErrorCodes.NotRegularFile, e.Code);
        Assert.Contains("/proc or /sys", e.Message);
    }

    /// <summary>
    /// A directory of 64 MiB or more is hashed on every core; one bad file there was an
    /// AggregateException, reported as a bug in KdGat (KDG9001), where a small directory gives the
    /// file's own error (found by review: real captures are that large). A sparse file stands in.
    /// </summary>
    [Fact]
    public void ALargeInputDirectory_WithALinkIntoProc_IsKdg1015_NotAnAggregateError()
    {
        _dir.Write("data/a.csv", "a");
        using (var big = File.Create(_dir["data/big.bin"])) big.SetLength(70L << 20);
        Link("/proc/self/status", "data/zz.csv");

        var e = Fails(() => Hasher().Hash(_dir["data"]));

        Assert.Equal(ErrorCodes.NotRegularFile, e.Code);
    }

    /// <summary>A /sys attribute says 4096 bytes and keeps its identity while its value changes (a network counter): hashed, it went stale unseen (found by review).</summary>
    [Fact]
    public void ALinkIntoSys_IsKdg1015()
    {
        Assert.Equal(4096, new FileInfo("/sys/class/net/lo/mtu").Length);
        Link("/sys/class/net/lo/mtu", "mtu.txt");

        var e = Fails(() => Hasher().Hash(_dir["mtu.txt"]));

        Assert.Equal(ErrorCodes.NotRegularFile, e.Code);
    }

    [Fact]
    public void InputDirectory_WithLinkToParent_IsKdg1016()
    {
        _dir.Write("data/a.csv", "a");
        Link("..", "data/up");

        var e = Fails(() => Hasher().Hash(_dir["data"]));

        Assert.Equal(ErrorCodes.SymlinkCycle, e.Code);
        Assert.Equal(_dir["data/up"], e.File);
    }

    [Fact]
    public void InputDirectory_WithLinkToItself_IsKdg1016()
    {
        _dir.Write("data/a.csv", "a");
        Link(".", "data/self");

        Assert.Equal(ErrorCodes.SymlinkCycle, Fails(() => Hasher().Hash(_dir["data"])).Code);
    }

    [Fact]
    public void CodeGlob_ThroughLinkToParent_IsKdg1016()
    {
        _dir.Write("src/a.cs", "a");
        Link("..", "src/up");

        Assert.Equal(ErrorCodes.SymlinkCycle, Fails(() => Glob.Expand(_dir.Path, "src/**/*.cs")).Code);
    }

    [Fact]
    public void SymlinksThatAreNotCycles_AreFollowed()
    {
        _dir.Write("elsewhere/frames.csv", "frames");
        _dir.Write("data/own.csv", "own");
        Link("../elsewhere", "data/linked");
        Link("../elsewhere/frames.csv", "data/file-link.csv");
        var before = Hasher().Hash(_dir["data"])!.Hash;

        File.WriteAllText(_dir["elsewhere/frames.csv"], "changed");

        Assert.NotEqual(before, Hasher().Hash(_dir["data"])!.Hash);
    }

    [Fact]
    public void FifoAsInput_IsKdg1015_WithoutBlocking()
    {
        Assert.Equal(0, Sh.Run("mkfifo pipe", _dir.Path).ExitCode);

        var e = Fails(() => Hasher().Hash(_dir["pipe"]));

        Assert.Equal(ErrorCodes.NotRegularFile, e.Code);
        Assert.Contains("FIFO", e.Message);
    }

    [Fact]
    public void FifoInsideAnInputDirectory_IsKdg1015_WithoutBlocking()
    {
        _dir.Write("data/a.csv", "a");
        Assert.Equal(0, Sh.Run("mkfifo data/pipe", _dir.Path).ExitCode);

        var e = Fails(() => Hasher().Hash(_dir["data"]));

        Assert.Equal(ErrorCodes.NotRegularFile, e.Code);
        Assert.Equal(_dir["data/pipe"], e.File);
    }

    [Fact]
    public void DevZeroAsInput_IsKdg1015()
    {
        var e = Fails(() => Hasher().Hash("/dev/zero"));

        Assert.Equal(ErrorCodes.NotRegularFile, e.Code);
        Assert.Contains("character device", e.Message);
    }
}
