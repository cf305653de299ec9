using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;
using KdGat.Core.Tracking;
using KdGat.Testing;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// A stage with <c>outputs: [results]</c> writing results/metrics.json recorded no metrics, without a word,
/// and Compare said it had none (a review): a metrics.json at the top of an output folder is read when no
/// output is named metrics.json, and the same for a run, a cache restore and an Adopt of the same outputs;
/// two folders with one are read by no rule of order: none, and KDG5025 says so.
/// </summary>
[Trait("Category", "Unit")]
public sealed class MetricsInOutputFolderTests : IDisposable
{
    private readonly TempDir _store = new();
    private readonly List<TestPipeline> _roots = [];

    public void Dispose()
    {
        foreach (var p in _roots) p.Dispose();
        _store.Dispose();
    }

    private TestPipeline Root(string outputs, string command = "mkdir -p results && cp {root}/m.json results/metrics.json")
    {
        var p = new TestPipeline($$"""
            datasets: [d1]
            cache_store: '{{_store.Path}}'
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            defaults: { retries: 0 }
            stages:
              toy:
                command: '{{command}}'
                inputs: [m.json, t.json]
                outputs: {{outputs}}
            """, "d1");
        p.Dir.Write("m.json", """{"f1": 0.95, "accuracy": 0.97}""");
        p.Dir.Write("t.json", """{"f1": 0.71, "accuracy": 0.8}""");
        _roots.Add(p);
        return p;
    }

    private static async Task<(string Outcome, RecordingLog Log)> Run(TestPipeline p, BuildMode mode = BuildMode.Build)
    {
        var log = new RecordingLog();
        var r = await new BuildEngine().RunAsync(p.Request([new("toy", [])]) with { Mode = mode }, log, default);
        Assert.True(r.Succeeded, string.Join("\n", log.Items.Select(d => d.Message)));
        return (Assert.Single(r.Stages).Outcome, log);
    }

    private static RunRecord Latest(TestPipeline p) =>
        new RecordStore(p.Dir[".kdgat"]).ReadAll().Select(r => r.Record).OrderBy(r => r.FinishedUtc).Last();

    [Fact]
    public async Task MetricsJsonAtTheTopOfAnOutputFolder_IsRecorded_AlikeForARunARestoreAndAnAdopt()
    {
        var built = Root("[results]");
        Assert.Equal(Outcome.Ran, (await Run(built)).Outcome);
        Assert.Equal(0.95, Latest(built).Metrics!["f1"]);

        var clone = Root("[results]");
        Assert.Equal(Outcome.Restored, (await Run(clone)).Outcome);
        Assert.Equal(Latest(built).Metrics, Latest(clone).Metrics);

        // The outputs in place, KdGat's state gone: adopted, with the same metrics.
        File.Delete(clone.Dir[$"runs/d1/toy/{StageInstance.ManifestFileName}"]);
        File.Delete(clone.Dir["runs/d1/toy/params.json"]);
        Directory.Delete(clone.Dir[".kdgat"], recursive: true);
        Directory.Delete(clone.Dir["runs/d1/.kdgat"], recursive: true);
        Assert.Equal(Outcome.Adopted, (await Run(clone, BuildMode.Adopt)).Outcome);
        Assert.Equal(Latest(built).Metrics, Latest(clone).Metrics);
    }

    [Fact]
    public async Task AnOutputNamedMetricsJson_IsReadBeforeAFoldersOne()
    {
        var p = Root("[results, metrics.json]", "mkdir -p results && cp {root}/m.json results/metrics.json && cp {root}/t.json metrics.json");

        var (_, log) = await Run(p);

        Assert.Equal(0.71, Latest(p).Metrics!["f1"]);
        Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.MetricsInSeveralFolders);
    }

    /// <summary>Either order of outputs: records the same (the order is not in the fingerprint): no metrics, and a warning naming both files.</summary>
    [Theory]
    [InlineData("[val, test]")]
    [InlineData("[test, val]")]
    public async Task MetricsJsonInTwoOutputFolders_NoneIsRead_Kdg5025AtTheFirstFolder(string outputs)
    {
        var p = Root(outputs, "mkdir -p val test && cp {root}/m.json val/metrics.json && cp {root}/t.json test/metrics.json");

        var (_, log) = await Run(p);

        Assert.Null(Latest(p).Metrics);
        var w = Assert.Single(log.Items, d => d.Code == ErrorCodes.MetricsInSeveralFolders);
        Assert.Equal(Severity.Warning, w.Severity);
        Assert.Contains("d1/toy: no output is named metrics.json, and 2 of its output folders have one at their top (runs/d1/toy/test/metrics.json, runs/d1/toy/val/metrics.json)", w.Message);
        Assert.Equal(p.ConfigFile, w.File);
        Assert.Equal((9, outputs.StartsWith("[test", StringComparison.Ordinal) ? 15 : 20), (w.Line, w.Column)); // test/metrics.json sorts first
    }
}
