using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;
using KdGat.Core.Tracking;

namespace KdGat.Core.Tests.Engine;

/// <summary>BuildMode.Adopt with real files and trivial shell stages; no MSBuild.</summary>
[Trait("Category", "Unit")]
public sealed class AdoptTests : IDisposable
{
    private readonly TestPipeline _p = new(KdGatGraph.Yaml(), "d1");
    public void Dispose() => _p.Dispose();

    private async Task<(BuildReport Report, RecordingLog Log)> Run(BuildMode mode, bool overwrite = false, string? stage = null)
    {
        var log = new RecordingLog();
        return (await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages) with { Mode = mode, AdoptOverwrite = overwrite, OnlyStage = stage }, log, default), log);
    }

    private static string[] With(BuildReport r, string outcome) =>
        r.Stages.Where(s => s.Outcome == outcome).Select(s => s.Stage).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Outputs in place, nothing KdGat wrote beside them: results produced by another tool.</summary>
    private void ForgetEverythingButOutputs()
    {
        var runs = _p.Dir["runs/d1"];
        foreach (var f in Directory.GetFiles(runs, StageInstance.ManifestFileName, SearchOption.AllDirectories)
                     .Concat(Directory.GetFiles(runs, "params.json", SearchOption.AllDirectories)))
            File.Delete(f);
        Directory.Delete(_p.Dir["runs/d1/.kdgat"], recursive: true);
        Directory.Delete(_p.Dir[".kdgat"], recursive: true);
    }

    [Fact]
    public async Task AdoptedOutputs_AreUpToDate_WithAdoptedRecords()
    {
        await Run(BuildMode.Build);
        ForgetEverythingButOutputs();

        var (adopt, log) = await Run(BuildMode.Adopt);

        Assert.True(adopt.Succeeded, string.Join("\n", log.Items.Select(d => d.Message)));
        Assert.Equal(KdGatGraph.Names.Order(StringComparer.Ordinal), With(adopt, Outcome.Adopted));
        var (_, m, _) = ManifestStore.Read(_p.Dir[$"runs/d1/gat_large_curriculum/{StageInstance.ManifestFileName}"]);
        Assert.Equal("adopt", m!.Executor);
        var records = new RecordStore(_p.Dir[".kdgat"]).ReadAll().Select(r => r.Record).ToArray();
        Assert.Equal(13, records.Length);
        Assert.All(records, r => Assert.Equal(Outcome.Adopted, r.State));

        var (build, _) = await Run(BuildMode.Build);
        Assert.Equal(KdGatGraph.Names.Order(StringComparer.Ordinal), With(build, Outcome.UpToDate));
    }

    [Fact]
    public async Task MissingOutput_IsRefusedWithItsPath_AndItsDownstreamSkipped()
    {
        await Run(BuildMode.Build);
        ForgetEverythingButOutputs();
        File.Delete(_p.Dir["runs/d1/vgae_large_autoencoder/out.txt"]);

        var (adopt, log) = await Run(BuildMode.Adopt);

        Assert.False(adopt.Succeeded);
        Assert.Equal(["vgae_large_autoencoder"], With(adopt, Outcome.Failed));
        var refusal = Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptOutputsMissing);
        Assert.Contains("d1/vgae_large_autoencoder", refusal.Message);
        Assert.Contains("runs/d1/vgae_large_autoencoder/out.txt", refusal.Message);
        Assert.Contains("gat_large_curriculum", With(adopt, Outcome.Skipped));
        Assert.False(File.Exists(_p.Dir[$"runs/d1/vgae_large_autoencoder/{StageInstance.ManifestFileName}"]));
    }

    /// <summary>
    /// An upstream re-produced by hand and adopted with AdoptOverwrite: a downstream whose outputs are
    /// still the ones its manifest records as made from the old upstream result is known stale, and
    /// adopting it too made that result current (found by review: old metrics of a retrained model).
    /// One re-produced by hand as well is the user's claim, and adopted.
    /// </summary>
    [Fact]
    public async Task AdoptOverwrite_RefusesADownstreamItsManifestShowsWasMadeFromTheOldUpstream()
    {
        await Run(BuildMode.Build);
        File.AppendAllText(_p.Dir["runs/d1/vgae_large_autoencoder/out.txt"], "retrained by hand\n");
        File.AppendAllText(_p.Dir["runs/d1/gat_large_curriculum/out.txt"], "trained again by hand\n");
        var dqnManifest = File.ReadAllBytes(_p.Dir[$"runs/d1/dqn_large_fusion/{StageInstance.ManifestFileName}"]);

        var (adopt, log) = await Run(BuildMode.Adopt, overwrite: true);

        Assert.False(adopt.Succeeded);
        Assert.Equal(["gat_large_curriculum", "vgae_large_autoencoder"], With(adopt, Outcome.Adopted));
        Assert.Equal(["dqn_large_fusion", "vgae_small_autoencoder_kd"], With(adopt, Outcome.Failed));
        var refusal = Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptOutputsPredateUpstream && d.Message.Contains("d1/dqn_large_fusion"));
        Assert.Contains("upstream gat_large_curriculum", refusal.Message);
        Assert.Contains("eval_large_evaluation", With(adopt, Outcome.Skipped));
        Assert.Contains("gat_small_curriculum_kd", With(adopt, Outcome.Skipped));
        Assert.Equal(dqnManifest, File.ReadAllBytes(_p.Dir[$"runs/d1/dqn_large_fusion/{StageInstance.ManifestFileName}"]));

        var (build, _) = await Run(BuildMode.Build);
        Assert.True(build.Succeeded);
        Assert.Contains("dqn_large_fusion", With(build, Outcome.Ran));
        Assert.DoesNotContain("gat_large_curriculum", With(build, Outcome.Ran));
    }

    /// <summary>
    /// Review: after KDG2017, deleting the downstream's manifest (or Clean, then its old outputs
    /// copied back) and adopting it alone made the outputs its archived manifest records as made from
    /// the old upstream result current. The archive still says so: refused, naming that manifest.
    /// </summary>
    [Fact]
    public async Task DeletingTheManifest_DoesNotLetAdoptMakeOutputsOfAnOldUpstreamResultCurrent()
    {
        await Run(BuildMode.Build);
        File.AppendAllText(_p.Dir["runs/d1/gat_large_curriculum/out.txt"], "retrained by hand\n");
        var (overwrite, _) = await Run(BuildMode.Adopt, overwrite: true);
        Assert.Equal(["gat_large_curriculum"], With(overwrite, Outcome.Adopted));
        Assert.Contains("dqn_large_fusion", With(overwrite, Outcome.Failed));
        File.Delete(_p.Dir[$"runs/d1/dqn_large_fusion/{StageInstance.ManifestFileName}"]);

        foreach (var again in new[] { true, false })
        {
            var (adopt, log) = await Run(BuildMode.Adopt, overwrite: again, stage: "dqn_large_fusion");

            Assert.False(adopt.Succeeded);
            Assert.Equal(["dqn_large_fusion"], With(adopt, Outcome.Failed));
            var refusal = Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptOutputsPredateUpstream);
            Assert.Contains(".kdgat/manifests/d1/dqn_large_fusion/", refusal.Message);
            Assert.Contains("upstream gat_large_curriculum", refusal.Message);
            Assert.Contains("Build the stage", refusal.Message);
            Assert.False(File.Exists(_p.Dir[$"runs/d1/dqn_large_fusion/{StageInstance.ManifestFileName}"]));
        }

        var (build, _) = await Run(BuildMode.Build);
        Assert.True(build.Succeeded);
        Assert.Contains("dqn_large_fusion", With(build, Outcome.Ran));
    }

    /// <summary>An optional output made by hand (a plot the old manifest lacks) does not hide the old required outputs beside it (review).</summary>
    [Fact]
    public async Task DeletingTheManifest_AndAddingAnOptionalOutput_StillDoesNotLetAdoptMakeTheOldOutputsCurrent()
    {
        _p.WriteConfig(KdGatGraph.Yaml().Replace("  dqn_large_fusion:\n", "  dqn_large_fusion:\n    optional_outputs: [plot.png]\n", StringComparison.Ordinal));
        await Run(BuildMode.Build);
        File.AppendAllText(_p.Dir["runs/d1/gat_large_curriculum/out.txt"], "retrained by hand\n");
        await Run(BuildMode.Adopt, overwrite: true);
        File.Delete(_p.Dir[$"runs/d1/dqn_large_fusion/{StageInstance.ManifestFileName}"]);
        File.WriteAllText(_p.Dir["runs/d1/dqn_large_fusion/plot.png"], "drawn again by hand");

        var (adopt, log) = await Run(BuildMode.Adopt, stage: "dqn_large_fusion");

        Assert.Equal(["dqn_large_fusion"], With(adopt, Outcome.Failed));
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.AdoptOutputsPredateUpstream);
    }

    /// <summary>
    /// The archive is evidence both ways: outputs a run made from the upstream results of today, their
    /// manifest deleted since, are adopted again although an older manifest records the same bytes as
    /// made from another upstream result (a stage whose output did not depend on what changed).
    /// </summary>
    [Fact]
    public async Task ANewerRunFromTodaysUpstream_VouchesForTheSameBytes()
    {
        _p.WriteConfig(KdGatGraph.Yaml(commandOverride: new Dictionary<string, string>
        {
            ["dqn_large_fusion"] = "cat {upstream.vgae_large_autoencoder}/out.txt {upstream.gat_large_curriculum}/out.txt {upstream.preprocess}/out.txt > /dev/null; echo same > out.txt",
        }));
        await Run(BuildMode.Build);
        void IndexStep() => new ManifestArchive(_p.Dir[".kdgat"]).Capture(_p.Instances(KdGatGraph.Stages));
        IndexStep();
        File.AppendAllText(_p.Dir["runs/d1/gat_large_curriculum/out.txt"], "retrained by hand\n");
        Assert.Equal(["gat_large_curriculum"], With((await Run(BuildMode.Adopt, overwrite: true)).Report, Outcome.Adopted));
        var (rerun, _) = await Run(BuildMode.Build);
        Assert.Contains("dqn_large_fusion", With(rerun, Outcome.Ran)); // on the new model, to the same bytes
        IndexStep();
        File.Delete(_p.Dir[$"runs/d1/dqn_large_fusion/{StageInstance.ManifestFileName}"]);

        var (adopt, log) = await Run(BuildMode.Adopt, stage: "dqn_large_fusion");

        Assert.True(adopt.Succeeded, string.Join("\n", log.Items.Select(d => d.Message)));
        Assert.Equal(["dqn_large_fusion"], With(adopt, Outcome.Adopted));
    }
}
