using System.IO.Hashing;
using KdGat.Core.Hashing;

namespace KdGat.Core.Tests.Hashing;

/// <summary>KdGat's own XXH3-128 long-input loop gives exactly the library's digest.</summary>
[Trait("Category", "Unit")]
public sealed class Xxh3LongTests
{
    private static readonly byte[] Data = DigestPinTests.Pattern((3 << 20) + 4096, 42);

    private static void Same(int offset, int length)
    {
        Assert.Equal(Convert.ToHexStringLower(XxHash128.Hash(Data.AsSpan(offset, length))), Convert.ToHexStringLower(Xxh3Long.Hash(Data.AsSpan(offset, length))));
    }

    [Fact]
    public void EveryLengthFrom241To4200_MatchesLibrary()
    {
        if (!Xxh3Long.IsSupported) return; // the library hashes everything there
        for (var n = 241; n <= 4200; n++) Same(n % 7, n); // odd offsets: unaligned loads
    }

    [Fact]
    public void LengthsAroundBlocksAndLarge_MatchLibrary()
    {
        if (!Xxh3Long.IsSupported) return;
        foreach (var blocks in new[] { 5, 63, 64, 1000, 1024, 3072 })
            foreach (var d in new[] { -65, -64, -63, -1, 0, 1, 63, 64, 65 })
                Same(3, blocks * 1024 + d);
        var rng = new Random(7);
        for (var i = 0; i < 20; i++) Same(rng.Next(0, 4096), rng.Next(241, 3 << 20));
    }

    [Fact]
    public void ShortInput_IsRefused()
    {
        if (!Xxh3Long.IsSupported) return;
        Assert.Throws<ArgumentOutOfRangeException>(() => Xxh3Long.Hash(Data.AsSpan(0, 240)));
    }
}
