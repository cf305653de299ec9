using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Engine;

/// <summary>The engine behind -question / -p:FailIfStale=true and Rebuild -p:Stage, without MSBuild.</summary>
[Trait("Category", "Unit")]
public sealed class StaleGateTests : IDisposable
{
    private readonly TestPipeline _p = new(KdGatGraph.Yaml(), "d1");
    public void Dispose() => _p.Dispose();

    [Fact]
    public async Task FailIfStale_MakesEachStaleInstanceAnErrorAtItsEntry_AndRunsNothing()
    {
        var log = new RecordingLog();
        var report = await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages) with { Mode = BuildMode.Explain, FailIfStale = true }, log, default);

        Assert.False(report.Succeeded);
        var gate = log.Items.Where(d => d.Code == ErrorCodes.StaleUnderGate).ToArray();
        Assert.Equal(13, gate.Length);
        Assert.All(gate, d => Assert.True(d.Severity == Severity.Error && d.File == _p.ConfigFile && d.Line > 0, d.ToString()));
        Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.BuildFailed);
        Assert.False(Directory.Exists(_p.Dir["runs"]) && Directory.EnumerateFiles(_p.Dir["runs"], "*.manifest.json", SearchOption.AllDirectories).Any());

        await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages), new RecordingLog(), default);
        var clean = await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages) with { Mode = BuildMode.Explain, FailIfStale = true }, log, default);
        Assert.True(clean.Succeeded);
    }

    [Fact]
    public void StageWithDownstream_SelectsTheStageItsDownstreamAndWhatTheyNeed()
    {
        var request = _p.Request(KdGatGraph.Stages) with { OnlyStage = "gat_small_curriculum", StageWithDownstream = true };
        var names = LoadedPipeline.Load(request).Graph.Stages.Select(s => s.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["dqn_small_fusion", "eval_small_evaluation", "gat_small_curriculum", "preprocess", "vgae_small_autoencoder"], names);
    }
}
