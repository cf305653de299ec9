using KdGat.Core.Caching;
using KdGat.Core.Tests.Support;
using Xunit;

namespace KdGat.Core.Tests.Caching;

/// <summary>The copy a restore or insert makes where it cannot link (a store on another filesystem, another user's file).</summary>
[Trait("Category", "Unit")]
public sealed class FileCopyTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private const int Size = 3 * FileCopy.ChunkBytes + 17;

    private string Source(string dir)
    {
        var bytes = new byte[Size];
        new Random(7).NextBytes(bytes);
        var from = Path.Combine(dir, "run.sh");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(from, bytes);
        File.SetUnixFileMode(from, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead);
        File.SetLastWriteTimeUtc(from, new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        return from;
    }

    private string Target()
    {
        Directory.CreateDirectory(_tmp["to"]);
        return _tmp["to/run.sh"];
    }

    /// <summary>
    /// What File.Copy gave, each way: the bytes, the permission bits (the x bit is in an output's hash) and the times. A
    /// clone where the filesystem has none (ext4, tmpfs) is copy_file_range's; the kernel copy is one where the
    /// filesystem has it (every local one since Linux 5.19), several steps of a small step here.
    /// </summary>
    [Theory]
    [InlineData("Clone")]
    [InlineData("KernelCopy")]
    [InlineData("ReadWrite")]
    public void EachWay_GivesTheBytesModeAndTimesOfItsSource(string way)
    {
        var first = Enum.Parse<FileCopy.Way>(way);
        var from = Source(_tmp["from"]);
        var to = Target();

        var used = FileCopy.Copy(from, to, CancellationToken.None, first: first, kernelStep: FileCopy.ChunkBytes);

        Assert.Equal(File.ReadAllBytes(from), File.ReadAllBytes(to));
        Assert.Equal(File.GetUnixFileMode(from), File.GetUnixFileMode(to));
        Assert.Equal(File.GetLastWriteTimeUtc(from), File.GetLastWriteTimeUtc(to));
        Assert.Contains(used, first switch { FileCopy.Way.Clone => [FileCopy.Way.Clone, FileCopy.Way.KernelCopy], var only => new[] { only } });
    }

    /// <summary>
    /// Ctrl+C during the copy of one large file (a 10 GB checkpoint from a store on scratch): File.Copy let no cancel in
    /// until its end. The kernel copy and the reads and writes stop before their next step; the part stays for the caller.
    /// </summary>
    [Theory]
    [InlineData("KernelCopy")]
    [InlineData("ReadWrite")]
    public void ACancel_StopsACopy_BeforeItsNextStep(string way)
    {
        var first = Enum.Parse<FileCopy.Way>(way);
        var from = Source(_tmp["from"]);
        var to = Target();
        using var cts = new CancellationTokenSource();
        var told = new List<long>();

        Assert.Throws<OperationCanceledException>(() => FileCopy.Copy(from, to, cts.Token, copied: n => { told.Add(n); cts.Cancel(); }, first: first, kernelStep: FileCopy.ChunkBytes));

        Assert.Equal([FileCopy.ChunkBytes], told);
        Assert.Equal(FileCopy.ChunkBytes, new FileInfo(to).Length);
    }

    /// <summary>
    /// A store on another filesystem (tmpfs here, the run tree's on disk): copy_file_range refuses the pair (EXDEV
    /// since Linux 5.19 between filesystems of different types) and the reads and writes copy it.
    /// </summary>
    [Fact]
    public void FromAnotherFilesystem_TheCopyFallsBack_ToTheSameBytes()
    {
        if (!Directory.Exists("/dev/shm")) return; // no tmpfs to copy from
        using var shm = TempDir.Existing(Path.Combine("/dev/shm", $"kdgat-core-tests-{Guid.NewGuid():N}"));
        var from = Source(shm.Path);
        var to = Target();

        FileCopy.Copy(from, to, CancellationToken.None);

        Assert.Equal(File.ReadAllBytes(from), File.ReadAllBytes(to));
        Assert.Equal(File.GetUnixFileMode(from), File.GetUnixFileMode(to));
    }
}
