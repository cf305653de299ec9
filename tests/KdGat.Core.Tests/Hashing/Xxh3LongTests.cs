using System.IO.Hashing;
using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Hashing;

/// <summary>
/// KdGat's own XXH3-128 loop must give System.IO.Hashing's digest for every input, however it is
/// read: manifests and hash caches hold those digests (a difference reruns every stage after an
/// upgrade, or after hashing on a machine without AVX2, where the library hashes).
/// </summary>
[Trait("Category", "Unit")]
public sealed class Xxh3LongTests
{
    private static byte[] Bytes(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static string Library(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(XxHash128.Hash(data));

    private static string Own(Stream s, long length, int buffer) => Convert.ToHexStringLower(Xxh3Long.Hash(s, length, new byte[buffer]));

    [Fact]
    public void EveryLengthPastTheShortPaths_IsTheLibrarysDigest()
    {
        if (!Xxh3Long.IsSupported) return; // no AVX2 (an ARM machine): the library hashes everything there
        var data = Bytes(4400, 1);
        foreach (var buffer in new[] { 256, 1024, 4096 })
            for (var length = Xxh3Long.MinLength; length <= data.Length; length++)
                Assert.True(Library(data.AsSpan(0, length)) == Own(new MemoryStream(data, 0, length), length, buffer), $"length {length}, buffer {buffer}");
    }

    [Fact]
    public void RandomLengthsAndBuffers_AreTheLibrarysDigest()
    {
        if (!Xxh3Long.IsSupported) return; // no AVX2 (an ARM machine): the library hashes everything there
        var rnd = new Random(2);
        for (var i = 0; i < 120; i++)
        {
            var data = Bytes(rnd.Next(Xxh3Long.MinLength, 3 << 20), i);
            var buffer = new[] { 256, 320, 4096, 65536, 1 << 20 }[i % 5];
            Assert.True(Library(data) == Own(new MemoryStream(data), data.Length, buffer), $"length {data.Length}, buffer {buffer}");
        }
    }

    /// <summary>A file system may return fewer bytes than asked (NFS, FUSE): chunks are filled, not taken as they come.</summary>
    [Fact]
    public void ShortReads_GiveTheSameDigest()
    {
        if (!Xxh3Long.IsSupported) return; // no AVX2 (an ARM machine): the library hashes everything there
        var data = Bytes(300_007, 3);

        Assert.Equal(Library(data), Own(new Trickle(data, data.Length), data.Length, 4096));
    }

    /// <summary>
    /// A file cut short while it is read (its size said more when it was opened): the digest of the
    /// bytes read, as the library's gave, also when it ends exactly at a chunk's end or below the long path.
    /// </summary>
    [Theory]
    [InlineData(100)]
    [InlineData(240)]
    [InlineData(241)]
    [InlineData(1024)]
    [InlineData(4096)]
    [InlineData(4096 + 1)]
    [InlineData(4096 + 63)]
    [InlineData(4096 + 64)]
    [InlineData(3 * 4096)]
    public void AnInputCutShort_IsTheDigestOfWhatWasRead(int actual)
    {
        if (!Xxh3Long.IsSupported) return; // no AVX2 (an ARM machine): the library hashes everything there
        var data = Bytes(actual, 4);

        Assert.Equal(Library(data), Own(new MemoryStream(data), 5 * 4096, 4096));
        Assert.Equal(Library(data), Own(new Trickle(data, data.Length), 5 * 4096, 4096));
    }

    [Fact]
    public void OnlyTheLengthAsked_IsRead()
    {
        if (!Xxh3Long.IsSupported) return; // no AVX2 (an ARM machine): the library hashes everything there
        var data = Bytes(10_000, 5);
        var s = new MemoryStream(data);

        Assert.Equal(Library(data.AsSpan(0, 5000)), Own(s, 5000, 4096));
        Assert.Equal(5000, s.Position);
    }

    /// <summary>A stream that returns at most 1-97 bytes per read, of an input of its own length.</summary>
    private sealed class Trickle(byte[] data, int length) : Stream
    {
        private int _at;
        private readonly Random _rnd = new(6);
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, _rnd.Next(1, 98)), length - _at);
            Array.Copy(data, _at, buffer, offset, n);
            _at += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _at; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// A cancel stops a large file's hash at its next 1 MiB read (Ctrl+C during a 10 GB checkpoint waited for
    /// all of it), with an OperationCanceledException instead of a digest of the part read.
    /// </summary>
    [Fact]
    public void ACancel_StopsTheHash_BeforeTheNextChunkIsRead()
    {
        using var cts = new CancellationTokenSource();
        var data = Bytes(5 << 20, 7);
        var stream = new CancelAfterFirstRead(new MemoryStream(data), cts);

        Assert.Throws<OperationCanceledException>(() => Xxh3Long.Hash(stream, data.Length, new byte[1 << 20], cts.Token));

        Assert.Equal(1, stream.Reads); // was 5 (and a digest)
    }
}
