using System.Text.Json;
using KdGat.Core.Hashing;
using KdGat.Core.Manifests;
using KdGat.Core.Planning;

namespace KdGat.Core.Tests.Planning;

/// <summary>
/// The fingerprint's canonical JSON is written by hand; every manifest on disk holds a digest of
/// the serializer's form, so the two must stay byte for byte the same or every stage reruns.
/// </summary>
[Trait("Category", "Unit")]
public sealed class FingerprintComponentsTests
{
    private static string Serialized(FingerprintComponents c) => JsonSerializer.Serialize(c, ManifestJson.Readable.FingerprintComponents);

    private static FingerprintComponents Make(string command, params (string Map, string Key, string Value)[] entries)
    {
        SortedDictionary<string, string> Map(string name) => new(entries.Where(e => e.Map == name).GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Last().Value), StringComparer.Ordinal);
        return new FingerprintComponents { Command = command, Params = Map("p"), Inputs = Map("i"), Code = Map("c"), Upstream = Map("u"), Env = Map("e") };
    }

    [Fact]
    public void TheDigestOfAKnownFingerprintIsPinned()
    {
        var c = Make("python -m train --lr 0.001 'a b' \"q\"",
            ("p", "lr", "0.001"), ("p", "seed", "1"), ("i", "data/cache/hcrl_sa/graphs.bin", "0f1e"),
            ("c", "src/train.py", "abcd"), ("u", "preprocess", "9a8b"), ("e", "CUDA_VISIBLE_DEVICES", "<unset>"));
        Assert.Equal(ContentHash.OfText("kdgat-fingerprint-v1\n" + Serialized(c)), c.Digest());
        Assert.Equal(PinnedDigest, c.Digest());
    }

    // The serializer's digest of the fingerprint above, computed before the hand-written form existed.
    private const string PinnedDigest = "389eb1b70c4b783dc9ae8ca1c05c9002";

    public static TheoryData<string> Texts() =>
    [
        "", "plain", "quote \" and backslash \\ and slash /", "html <b>&amp;</b> 'single'", "tab\tnewline\ncr\rnul\0bell\a",
        "\u001f\u007f\u0080\u00a0", "é ü ß 日本語 한국어 Ελληνικά", "emoji 🚀 and 𝄞", "\u2028\u2029", "+ - = ` ~ ^ % $ # @ !",
        "lone \ud800 surrogate", "{\"json\": [1, 2]}", new string('x', 5000),
    ];

    [Theory]
    [MemberData(nameof(Texts))]
    public void TheHandWrittenFormIsTheSerializers_ForAnyText(string text)
    {
        var c = Make(text, ("p", text, text), ("p", "a", text), ("i", "in/" + text, text), ("c", text + ".py", "h"), ("u", "up", text), ("e", "E", text));
        Assert.Equal(Serialized(c), c.Canonical());
        Assert.Equal(ContentHash.OfText("kdgat-fingerprint-v1\n" + Serialized(c)), c.Digest());
    }

    [Fact]
    public void TheHandWrittenFormIsTheSerializers_ForEmptyAndRandomComponents()
    {
        Assert.Equal(Serialized(Make("")), Make("").Canonical());
        var random = new Random(20261203);
        string Word() => new(Enumerable.Range(0, random.Next(0, 12)).Select(_ => (char)random.Next(1, 0x3000)).Where(ch => !char.IsSurrogate(ch)).ToArray());
        for (var n = 0; n < 300; n++)
        {
            var entries = Enumerable.Range(0, random.Next(0, 20)).Select(_ => ("picue"[random.Next(5)].ToString(), Word(), Word())).ToArray();
            var c = Make(Word(), entries);
            Assert.Equal(Serialized(c), c.Canonical());
            Assert.Equal(ContentHash.OfText("kdgat-fingerprint-v1\n" + Serialized(c)), c.Digest());
        }
    }
}
