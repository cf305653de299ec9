using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Hashing;

/// <summary>
/// Digests that existing manifests and hash caches hold: however files are read (buffer size,
/// memory map, threads), these must never change, or every stage of every pipeline reruns after
/// an upgrade. The values were computed by the code before the memory-mapped read (commit a036f35).
/// The sizes straddle XXH3's 240-byte short path, its 1,024-byte blocks, the read buffer (1 MiB)
/// and the memory-map threshold.
/// </summary>
[Trait("Category", "Unit")]
public sealed class DigestPinTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    /// <summary>Deterministic, non-periodic bytes (64-bit LCG, top byte), different per seed.</summary>
    internal static byte[] Pattern(int length, ulong seed = 1)
    {
        var b = new byte[length];
        var s = seed;
        for (var i = 0; i < b.Length; i++)
        {
            s = s * 6364136223846793005UL + 1442695040888963407UL;
            b[i] = (byte)(s >> 56);
        }
        return b;
    }

    [Theory]
    [InlineData(0, "99aa06d3014798d86001c324468d497f")]
    [InlineData(1, "c89f16e01381dd11c00f9d4f580c0c3a")]
    [InlineData(240, "05fb829868e88d8b0dfe588c76a0d834")]
    [InlineData(241, "19f9ed05e79938962cb1ed4a30c8bded")]
    [InlineData(4096, "205cdca1be728c37a76570548864595e")]
    [InlineData((1 << 20) - 1, "bfd52dc48eeed75535a7a4e8d3baf2c7")]
    [InlineData(1 << 20, "7c8eba27d77dad5d7b0c7e7348bde3ff")]
    [InlineData((1 << 20) + 1, "06fa813248f87e8819d77a4cfb4d0f33")]
    [InlineData((4 << 20) + 7, "fa736d5feaa58fa7cb7b69856bce597f")]
    [InlineData((17 << 20) + 3, "5b0ad44569b1f94238be1d9cc47f9af2")]
    public void OfFile_PinnedDigest(int size, string expected)
    {
        var path = _dir["f.bin"];
        File.WriteAllBytes(path, Pattern(size));

        Assert.Equal(expected, ContentHash.OfFile(path));
    }

    /// <summary>
    /// The digests pinned here are those of digest rules 1. A change that makes any of them differ must
    /// raise FingerprintComponents.DigestRules (manifests record it: Adopt relies on it) and this number.
    /// </summary>
    [Fact]
    public void ThesePins_AreDigestRules1() => Assert.Equal(1, Core.Planning.FingerprintComponents.DigestRules);

    [Fact]
    public void Directory_PinnedDigest()
    {
        // Nested directories, a name with a space and non-ASCII, an empty file, files on both
        // sides of the memory-map threshold, over the 64 MiB parallel threshold in total.
        var root = _dir["tree"];
        Write("tree/a.txt", Pattern(5, 2));
        Write("tree/empty.bin", []);
        Write("tree/sub dir/ä.bin", Pattern(300, 3));
        Write("tree/sub dir/deeper/big0.ckpt", Pattern((40 << 20) + 11, 4));
        Write("tree/sub dir/deeper/big1.ckpt", Pattern((30 << 20) + 5, 5));
        Write("tree/z/one.bin", Pattern(1 << 20, 6));

        var r = new PathHasher(new HashCache()).Hash(root)!;

        Assert.True(r.IsDirectory);
        Assert.Equal(5 + 0 + 300 + (40 << 20) + 11 + (30 << 20) + 5 + (1 << 20), r.Size);
        Assert.Equal("37e00fed2083030fd5cfa118bae338ca", r.Hash);
    }

    [Fact]
    public void Glob_PinnedDigest()
    {
        Write("g/x1.ckpt", Pattern((5 << 20) + 1, 7));
        Write("g/x2.ckpt", Pattern(100, 8));
        Write("g/y.txt", Pattern(10, 9));

        var r = new PathHasher(new HashCache()).HashInput(_dir["g/*.ckpt"])!;

        Assert.Equal("15785cd153c9c97bae65caf4ddaa44d6", r.Hash);
    }

    private void Write(string relative, byte[] content)
    {
        var full = _dir[relative];
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
    }
}
