using System.Text;
using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Hashing;

/// <summary>Known values come from the reference xxHash implementation (python3-xxhash, xxh3_128_hexdigest).</summary>
[Trait("Category", "Unit")]
public sealed class ContentHashTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("", "99aa06d3014798d86001c324468d497f")]
    [InlineData("abc", "06b05ab6733a618578af5f94892f3950")]
    [InlineData("KdGat", "a28905cc8dd745d6a374e47cb856836f")]
    public void OfText_KnownInput_GivesReferenceXxh128(string text, string expected) =>
        Assert.Equal(expected, ContentHash.OfText(text));

    [Theory]
    [InlineData("", "99aa06d3014798d86001c324468d497f")]
    [InlineData("abc", "06b05ab6733a618578af5f94892f3950")]
    public void OfFile_KnownBytes_GivesReferenceXxh128(string content, string expected)
    {
        var path = _dir["f.bin"];
        File.WriteAllBytes(path, Encoding.UTF8.GetBytes(content));

        Assert.Equal(expected, ContentHash.OfFile(path));
    }

    [Fact]
    public void OfFile_LargerThanOneBuffer_EqualsHashOfSameBytesAsText()
    {
        // 2.5 MiB crosses the 1 MiB read buffer twice: chunked hashing must equal one-shot hashing.
        var text = string.Concat(Enumerable.Range(0, 300_000).Select(i => (char)('a' + i % 26)).Select(c => new string(c, 9)));
        var path = _dir["big.txt"];
        File.WriteAllText(path, text);

        Assert.Equal(ContentHash.OfText(text), ContentHash.OfFile(path));
    }

    [Fact]
    public void OfEntries_OrderAndPairing_Matter()
    {
        var ab = ContentHash.OfEntries([new("a", "1"), new("b", "2")]);
        var ba = ContentHash.OfEntries([new("b", "2"), new("a", "1")]);
        var swapped = ContentHash.OfEntries([new("a", "2"), new("b", "1")]);

        Assert.NotEqual(ab, ba);
        Assert.NotEqual(ab, swapped);
        Assert.Equal(ab, ContentHash.OfEntries([new("a", "1"), new("b", "2")]));
        Assert.Equal(ContentHash.OfText("a\u00001\nb\u00002\n"), ab);
    }

    [Fact]
    public void OfText_IsLowercaseHexOf32Chars()
    {
        var h = ContentHash.OfText("x");
        Assert.Matches("^[0-9a-f]{32}$", h);
    }
}
