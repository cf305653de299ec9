using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Hashing;

/// <summary>The memory-mapped read and the buffered read give the same digest; which one a file gets is only a matter of speed.</summary>
[Trait("Category", "Unit")]
public sealed class MappedHashTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(4096)]
    [InlineData((1 << 20) + 1)]
    [InlineData((9 << 20) + 13)]
    public void MappedAndBufferedRead_SameDigest(int size)
    {
        var path = _dir["f.bin"];
        File.WriteAllBytes(path, DigestPinTests.Pattern(size, (ulong)size));
        using var fh = File.OpenHandle(path);

        var mapped = ContentHash.MappedRead.TryHash(fh, size);
        var read = ContentHash.OfHandleRead(fh);

        if (OperatingSystem.IsLinux()) Assert.NotNull(mapped); // the temp dir is on a local file system here
        if (mapped is not null) Assert.Equal(Convert.ToHexStringLower(read), Convert.ToHexStringLower(mapped));
        Assert.Equal(Convert.ToHexStringLower(read), ContentHash.OfFile(path));
    }

    [Fact]
    public void EmptyFile_IsNotMapped_AndHashesAsEmpty()
    {
        var path = _dir["empty.bin"];
        File.WriteAllBytes(path, []);
        using var fh = File.OpenHandle(path);

        Assert.Null(ContentHash.MappedRead.TryHash(fh, 0)); // mmap of 0 bytes is EINVAL: the read path takes it
        Assert.Equal("99aa06d3014798d86001c324468d497f", ContentHash.OfFile(path));
    }

    [Fact]
    public void FileGrownAfterOpen_MapCoversTheLengthAtOpen_AsTheCacheExpects()
    {
        // The hash is of some version of a changing file; HashCache does not keep it (its
        // identity after differs from before). Here: the first length bytes, no crash, no garbage.
        var path = _dir["grow.bin"];
        var first = DigestPinTests.Pattern(2 << 20, 1);
        File.WriteAllBytes(path, first);
        using var fh = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using (var w = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) w.Write(new byte[4096]);

        var mapped = ContentHash.MappedRead.TryHash(fh, first.Length);

        if (mapped is not null) Assert.Equal(System.IO.Hashing.XxHash128.Hash(first), mapped);
    }
}
