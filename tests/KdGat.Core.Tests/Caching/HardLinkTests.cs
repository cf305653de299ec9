using KdGat.Core.Caching;
using KdGat.Core.Tests.Support;
using Xunit;

namespace KdGat.Core.Tests.Caching;

/// <summary>The copy a restore or insert makes where it cannot link (a store on another filesystem).</summary>
[Trait("Category", "Unit")]
public sealed class HardLinkTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    /// <summary>
    /// Ctrl+C during the copy of one large file (a 10 GB checkpoint from a store on scratch): File.Copy let no
    /// cancel in until its end. Now the copy stops before its next 1 MiB read.
    /// </summary>
    [Fact]
    public void ACancel_StopsACopy_BeforeItsNextChunk()
    {
        using var cts = new CancellationTokenSource();
        var from = new CancelAfterFirstRead(new MemoryStream(new byte[3 * HardLink.ChunkBytes]), cts);
        var to = new MemoryStream();

        Assert.Throws<OperationCanceledException>(() => HardLink.CopyChunks(from, to, cts.Token));

        Assert.Equal(1, from.Reads);
        Assert.Equal(HardLink.ChunkBytes, to.Length);
    }

    /// <summary>What File.Copy gave, which the copy replaced: the bytes, the permission bits (the x bit is in an output's hash) and the times.</summary>
    [Fact]
    public void ACopy_HasTheBytesModeAndTimesOfItsSource()
    {
        var from = _tmp.Write("from/run.sh", new string('x', HardLink.ChunkBytes + 17));
        File.SetUnixFileMode(from, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead);
        File.SetLastWriteTimeUtc(from, new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc));
        var to = _tmp["to/run.sh"];
        Directory.CreateDirectory(_tmp["to"]);

        HardLink.Copy(from, to, CancellationToken.None);

        Assert.Equal(File.ReadAllBytes(from), File.ReadAllBytes(to));
        Assert.Equal(File.GetUnixFileMode(from), File.GetUnixFileMode(to));
        Assert.Equal(File.GetLastWriteTimeUtc(from), File.GetLastWriteTimeUtc(to));
    }
}
