using KdGat.Core.Hashing;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Planning;

/// <summary>
/// A batch job chained on its upstreams' jobs is fingerprinted when it is submitted and settled
/// when they have ended: inputs and code as they were at submission, except the inputs an upstream
/// job writes, which do not exist until then.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ChainedFingerprintTests : IDisposable
{
    private readonly TestPipeline _p = new("""
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        stages:
          prep: { command: x, outputs: ['{cache_dir}'] }
          fit: { command: 'fit {cache_dir}', inputs: ['{cache_dir}', 'extra.txt'], outputs: [m] }
        """);
    public void Dispose() => _p.Dispose();

    [Fact]
    public void AnInputAnUpstreamJobWrites_IsHashedWhenSettled_OtherInputsKeepTheirHashFromSubmission()
    {
        var instances = _p.Instances([new StageDeclaration("prep", []), new StageDeclaration("fit", ["prep"])]);
        var (prep, fit) = (instances[0], instances[1]);
        _p.Dir.Write("extra.txt", "v1");
        var fp = new Fingerprinter(new PathHasher(new HashCache()));

        var submitted = fp.Compute(fit, new Dictionary<string, string> { ["prep"] = "job:1" }, pending: [prep]); // cache/d1 does not exist yet

        Assert.Equal(Fingerprinter.PendingInput, submitted.Inputs["cache/d1"]);
        _p.Dir.Write("cache/d1/graphs.bin", "g"); // the upstream job wrote it
        _p.Dir.Write("extra.txt", "v2"); // edited while the job ran
        var settled = fp.Settled(submitted, fit, new Dictionary<string, string> { ["prep"] = "digest" });

        Assert.Equal(fp.Compute(fit, new Dictionary<string, string> { ["prep"] = "digest" }).Inputs["cache/d1"], settled.Inputs["cache/d1"]);
        Assert.Equal(submitted.Inputs["extra.txt"], settled.Inputs["extra.txt"]);
        Assert.Equal("digest", settled.Upstream["prep"]);
    }

    [Fact]
    public void AnOrdinaryInputDeletedWhileTheJobRan_DoesNotFailTheSettle_ItKeepsItsHashFromSubmission()
    {
        var instances = _p.Instances([new StageDeclaration("prep", []), new StageDeclaration("fit", ["prep"])]);
        var (prep, fit) = (instances[0], instances[1]);
        _p.Dir.Write("extra.txt", "v1");
        var fp = new Fingerprinter(new PathHasher(new HashCache()));
        var submitted = fp.Compute(fit, new Dictionary<string, string> { ["prep"] = "job:1" }, pending: [prep]);

        _p.Dir.Write("cache/d1/graphs.bin", "g");
        File.Delete(_p.Dir["extra.txt"]); // gone while the job ran: the end-of-run check (KDG3020) says so, not a KDG3006 here
        var settled = fp.Settled(submitted, fit, new Dictionary<string, string> { ["prep"] = "digest" });

        Assert.Equal(submitted.Inputs["extra.txt"], settled.Inputs["extra.txt"]);
        Assert.NotEqual(Fingerprinter.PendingInput, settled.Inputs["cache/d1"]);
    }
}
