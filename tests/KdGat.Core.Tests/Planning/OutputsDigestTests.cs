using KdGat.Core.Manifests;
using KdGat.Core.Planning;

namespace KdGat.Core.Tests.Planning;

[Trait("Category", "Unit")]
public sealed class OutputsDigestTests
{
    [Fact]
    public void RequiredOutputs_AreKeyedByPosition_SoTheRunDirDoesNotChangeTheDigest()
    {
        var a = Fingerprinter.OutputsDigest([new OutputRecord("experimentruns/a/s/model.ckpt", "h1", 1, false)]);
        var b = Fingerprinter.OutputsDigest([new OutputRecord("elsewhere/model.ckpt", "h1", 1, false)]);
        Assert.Equal(a, b);
    }

    [Fact]
    public void AnOptionalOutputReplacedByAnotherWithTheSameContent_ChangesTheDigest()
    {
        var required = new OutputRecord("run/metrics.json", "m", 1, false);
        var first = Fingerprinter.OutputsDigest([required, new OutputRecord("run/extra_a.txt", "same", 4, false) { Optional = true }]);
        var second = Fingerprinter.OutputsDigest([required, new OutputRecord("run/extra_b.txt", "same", 4, false) { Optional = true }]);
        Assert.NotEqual(first, second);
    }
}
