using KdGat.Core.Planning;

namespace KdGat.Core.Tests.Planning;

/// <summary>
/// Every manifest on disk holds a digest of the fingerprint's canonical JSON: if that form changed
/// (a serializer upgrade, an option, a renamed property), every stage of every user would rerun.
/// </summary>
[Trait("Category", "Unit")]
public sealed class FingerprintComponentsTests
{
    private static SortedDictionary<string, string> Map(params (string Key, string Value)[] entries) =>
        new(entries.ToDictionary(e => e.Key, e => e.Value), StringComparer.Ordinal);

    [Fact]
    public void TheDigestOfAKnownFingerprintIsPinned()
    {
        var c = new FingerprintComponents
        {
            Command = "python -m train --lr 0.001 'a b' \"q\" <&> é 🚀",
            Params = Map(("lr", "0.001"), ("seed", "1")),
            Inputs = Map(("data/cache/hcrl_sa/graphs.bin", "0f1e")),
            Code = Map(("src/train.py", "abcd")),
            Upstream = Map(("preprocess", "9a8b")),
            Env = Map(("CUDA_VISIBLE_DEVICES", "<unset>")),
        };
        Assert.Equal(PinnedDigest, c.Digest());
    }

    // Computed on 2026-12-03 (.NET 10.0.401 SDK); a different value means stored fingerprints no longer match.
    private const string PinnedDigest = "a0c94fef5ad85a1d6f24931a1b0815e5";
}
