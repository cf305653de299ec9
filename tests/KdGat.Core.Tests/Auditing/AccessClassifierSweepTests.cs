using KdGat.Core.Auditing;
using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Auditing;

/// <summary>Audit of swept instances: reading the upstream instance at its own point is fine, another point is not.</summary>
[Trait("Category", "Unit")]
public sealed class AccessClassifierSweepTests : IDisposable
{
    private readonly TestPipeline _p = new("""
        datasets: [d1]
        paths:
          runs: runs
          raw: raw/{dataset}
          cache: cache/{dataset}
        defaults:
          sweep: { seed: [0, 1] }
        stages:
          a: { command: x, outputs: [model.ckpt] }
          b: { command: x, outputs: [metrics.json] }
        """);
    private readonly IReadOnlyList<StageInstance> _all;
    private readonly AccessClassifier _classifier;

    public AccessClassifierSweepTests()
    {
        _all = _p.Instances([new("a", []), new("b", ["a"])]);
        _classifier = new AccessClassifier(new AuditScope(_all[0].Layout, _all));
    }

    public void Dispose() => _p.Dispose();

    private IReadOnlyList<Diagnostic> Classify(string key, string read) =>
        _classifier.Classify(_all.Single(i => i.Key == key), [new TracedAccess(1, "openat", AccessKind.Read, Path.Combine(_p.Root, read), false)]);

    [Fact]
    public void ReadingTheUpstreamAtItsOwnPoint_IsSilent() =>
        Assert.Empty(Classify("d1/b/seed=1", "runs/d1/a/seed=1/model.ckpt"));

    [Theory]
    [InlineData("runs/d1/a/seed=0/model.ckpt", "the a instance it reads (d1/a/seed=1)")]
    [InlineData("runs/d1/b/seed=0/metrics.json", "than its own")]
    public void ReadingAnotherPoint_IsAnError(string read, string expected)
    {
        var d = Assert.Single(Classify("d1/b/seed=1", read));

        Assert.Equal(ErrorCodes.AuditUndeclaredUpstream, d.Code);
        Assert.Contains("another point of the sweep grid", d.Message);
        Assert.Contains(expected, d.Message);
    }
}
