using KdGat.Core.Manifests;
using KdGat.Core.Planning;

namespace KdGat.Core.Tests.Planning;

[Trait("Category", "Unit")]
public sealed class OutputsDigestTests
{
    [Fact]
    public void RequiredOutputs_AreKeyedByPosition_SoTheRunDirDoesNotChangeTheDigest()
    {
        var a = Fingerprinter.OutputsDigest([new OutputRecord("experimentruns/a/s/model.ckpt", "h1", 1, false)], null);
        var b = Fingerprinter.OutputsDigest([new OutputRecord("elsewhere/model.ckpt", "h1", 1, false)], null);
        Assert.Equal(a, b);
    }

    [Fact]
    public void AnOptionalOutputReplacedByAnotherWithTheSameContent_ChangesTheDigest()
    {
        var required = new OutputRecord("run/metrics.json", "m", 1, false);
        var first = Fingerprinter.OutputsDigest([required, new OutputRecord("run/extra_a.txt", "same", 4, false) { Optional = true }], null);
        var second = Fingerprinter.OutputsDigest([required, new OutputRecord("run/extra_b.txt", "same", 4, false) { Optional = true }], null);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void TheParamsFile_CountsWhenGiven_AndWithoutItTheDigestIsTheOldOne()
    {
        IReadOnlyList<OutputRecord> outputs = [new OutputRecord("run/model.ckpt", "h1", 1, false)];

        var old = Fingerprinter.OutputsDigest(outputs, null);

        Assert.Equal("f2a0e8a7e5d81f3a0c3f3e0fb4c3a8b1".Length, old.Length);
        Assert.NotEqual(old, Fingerprinter.OutputsDigest(outputs, "p1"));
        Assert.NotEqual(Fingerprinter.OutputsDigest(outputs, "p1"), Fingerprinter.OutputsDigest(outputs, "p2"));
        // A manifest without params_file (KdGat before 2026-12-04) still verifies against its own digest.
        var m = new StageManifest
        {
            Stage = "s", Dataset = "d", Fingerprint = "f", Outputs = outputs, OutputsDigest = old, BuildId = "b", Executor = "local",
            Components = new FingerprintComponents { Command = "c", Params = new(), Inputs = new(), Code = new(), Upstream = new(), Env = new() },
        };
        Assert.Equal(ManifestStore.ReadStatus.Ok, ManifestStore.Parse(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(m, ManifestJson.Readable.StageManifest)).Status);
        Assert.Equal(ManifestStore.ReadStatus.Corrupt, ManifestStore.Parse(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(m with { ParamsFile = "p1" }, ManifestJson.Readable.StageManifest)).Status);
    }

    [Fact]
    public void WithTheParamsFile_ARequiredOutputRenamedWithTheSameBytes_ChangesTheDigest_WhereverTheRunDirIs()
    {
        var a = Fingerprinter.OutputsDigest([new OutputRecord("experimentruns/a/s/model.ckpt", "h1", 1, false)], "p");
        var moved = Fingerprinter.OutputsDigest([new OutputRecord("elsewhere/s/model.ckpt", "h1", 1, false)], "p");
        var renamed = Fingerprinter.OutputsDigest([new OutputRecord("experimentruns/a/s/model.pt", "h1", 1, false)], "p");

        Assert.Equal(a, moved);
        Assert.NotEqual(a, renamed);
    }
}
