using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Hashing;

[Trait("Category", "Unit")]
public sealed class FileIdentityTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Of_RegularFile_ReportsSizeMtimeAndInode()
    {
        var f = _dir.Write("f.txt", "12345");
        var mtime = new DateTime(2020, 5, 6, 7, 8, 9, DateTimeKind.Utc).AddTicks(1234567);
        File.SetLastWriteTimeUtc(f, mtime);

        var id = FileIdentity.Of(f)!.Value;

        Assert.Equal(5, id.Size);
        Assert.Equal((mtime - DateTime.UnixEpoch).Ticks * 100, id.MtimeNs);
        Assert.NotEqual(0UL, id.Inode);
        Assert.NotEqual(0L, id.CtimeNs);
    }

    [Fact]
    public void Of_MissingPath_IsNull() => Assert.Null(FileIdentity.Of(_dir["missing"]));

    [Fact]
    public void Of_DistinctFiles_HaveDistinctInodes()
    {
        var a = FileIdentity.Of(_dir.Write("a", "x"))!.Value;
        var b = FileIdentity.Of(_dir.Write("b", "x"))!.Value;

        Assert.NotEqual(a.Inode, b.Inode);
        Assert.Equal(a.Device, b.Device);
    }
}
