using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Pipeline;

/// <summary>
/// A run records one metrics.json as its stage's metrics. With two outputs of that name the first listed
/// was taken without a word, and reordering outputs: (not in the fingerprint) left the stage up to date
/// while Clean and a build published the other file's numbers (a review): two are refused at load.
/// </summary>
[Trait("Category", "Unit")]
public sealed class MetricsFileTests : IDisposable
{
    private TestPipeline? _p;
    public void Dispose() => _p?.Dispose();

    private IReadOnlyList<StageInstance> Instances(string stage)
    {
        _p = new TestPipeline($$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a:
                command: x
            {{stage}}
            """, "d1");
        return _p.Instances([new("a", [])]);
    }

    [Theory]
    [InlineData("    outputs: [val/metrics.json, test/metrics.json]", 6, 33)]
    [InlineData("    outputs: [metrics.json]\n    optional_outputs: [test/metrics.json]", 7, 24)]
    [InlineData("    outputs: ['{cache_dir}/metrics.json', 'metrics.json']", 6, 43)]          // a placeholder's
    [InlineData("    params: { split: test }\n    outputs: [val/metrics.json, '{params.split}/metrics.json']", 7, 33)]
    [InlineData("    sweep: { seed: [1, 2] }\n    outputs: ['s{seed}/metrics.json', metrics.json]", 7, 39)] // every grid point's
    public void TwoOutputsNamedMetricsJson_AreKdg1044_AtTheSecond(string stage, int line, int column)
    {
        var e = Assert.Throws<KdgException>(() => Instances(stage));

        Assert.Equal(ErrorCodes.MetricsFileDeclaredTwice, e.Code);
        Assert.Equal(_p!.ConfigFile, e.File);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.Contains("stage 'a' (dataset d1): 2 outputs are named metrics.json", e.Message);
        Assert.Contains("Keep one output named metrics.json", e.Message);
    }

    [Fact]
    public void TwoOutputsNamedMetricsJson_NameBoth()
    {
        var e = Assert.Throws<KdgException>(() => Instances("    outputs: [val/metrics.json, test/metrics.json]"));

        Assert.Contains("('runs/d1/a/val/metrics.json', 'runs/d1/a/test/metrics.json')", e.Message);
    }

    [Theory]
    [InlineData("    outputs: [val/metrics.json, test/test_metrics.json, results]")]
    [InlineData("    outputs: [metrics.json, Metrics.JSON, metrics.json.bak]")]
    public void OneOutputNamedMetricsJson_Loads_AndIsTheStagesMetricsFile(string stage)
    {
        var s = Assert.Single(Instances(stage));

        Assert.Equal(s.Outputs[0], MetricsFile.Of(s, out _));
    }
}
