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
    /// An output Snakemake marked incomplete (a job killed while writing it) was adopted as a result
    /// (a first-contact review): refused, naming the mark; the marks' own encoding is Snakemake's
    /// (URL-safe base64 of the output path, as Python's urlsafe_b64encode writes it).
    /// </summary>
    [Fact]
    public async Task AnOutputSnakemakeMarkedIncomplete_IsRefused()
    {
        await Run(BuildMode.Build);
        ForgetEverythingButOutputs();
        const string output = "runs/d1/vgae_large_autoencoder/out.txt";
        Assert.Equal("cnVucy9kMS92Z2FlX2xhcmdlX2F1dG9lbmNvZGVyL291dC50eHQ=", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(output)));
        _p.Dir.Write(".snakemake/incomplete/cnVucy9kMS92Z2FlX2xhcmdlX2F1dG9lbmNvZGVyL291dC50eHQ=", "");

        var (adopt, log) = await Run(BuildMode.Adopt);

        Assert.Equal(["vgae_large_autoencoder"], With(adopt, Outcome.Failed));
        var refusal = Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptSnakemakeIncomplete);
        Assert.Contains(output, refusal.Message);
        Assert.Contains(".snakemake/incomplete/cnVucy9", refusal.Message);
    }

    /// <summary>An empty output (what a job killed before it wrote leaves) is adopted, with a warning that names it.</summary>
    [Fact]
    public async Task AnEmptyOutput_IsAdoptedWithAWarningNamingIt()
    {
        await Run(BuildMode.Build);
        ForgetEverythingButOutputs();
        File.WriteAllText(_p.Dir["runs/d1/vgae_large_autoencoder/out.txt"], "");

        var (adopt, log) = await Run(BuildMode.Adopt);

        Assert.True(adopt.Succeeded);
        var warning = Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptedEmptyOutput);
        Assert.Contains("d1/vgae_large_autoencoder", warning.Message);
        Assert.Contains("runs/d1/vgae_large_autoencoder/out.txt", warning.Message);
    }

    /// <summary>
    /// A sweep point's outputs copied from the stage's unswept result: made without the point's value,
    /// they were adopted as its result (a review). The unswept manifest (live, and archived once it is
    /// retired) records them; by place within the run dir, as the points' folders differ.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnUnsweptResultCopiedIntoAPoint_IsKdg2017(bool unsweptRetired)
    {
        const string yaml = """
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'echo "model {params_file}" > model.ckpt', outputs: [model.ckpt] }
            """;
        using var p = new TestPipeline(yaml, "d1");
        StageDeclaration[] stages = [new("a", [])];
        Assert.True((await new BuildEngine().RunAsync(p.Request(stages), new RecordingLog(), default)).Succeeded);
        p.WriteConfig(yaml.Replace("outputs: [model.ckpt] }", "outputs: [model.ckpt], sweep: { seed: [0, 1] } }", StringComparison.Ordinal));
        var unswept = File.ReadAllBytes(p.Dir["runs/d1/a/model.ckpt"]);
        if (unsweptRetired)
            Assert.True((await new BuildEngine().RunAsync(p.Request(stages) with { Sweep = "seed=0" }, new RecordingLog(), default)).Succeeded); // seed=0's commit retires (and archives) it
        Directory.CreateDirectory(p.Dir["runs/d1/a/seed=1"]);
        File.WriteAllBytes(p.Dir["runs/d1/a/seed=1/model.ckpt"], unswept);

        var log = new RecordingLog();
        var adopt = await new BuildEngine().RunAsync(p.Request(stages) with { Mode = BuildMode.Adopt, Sweep = "seed=1" }, log, default);

        Assert.False(adopt.Succeeded);
        var refusal = Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptOutputsMadeFromOther);
        Assert.Contains("seed", refusal.Message);
        Assert.False(File.Exists(p.Dir[$"runs/d1/a/seed=1/{StageInstance.ManifestFileName}"]));
    }

    /// <summary>
    /// A first-contact review: a grid changed from lr [1, 3] to [1, 2]; the user copied lr=3's outputs
    /// into lr=2 (or renamed its folder, manifest and all, then added AdoptOverwrite as KDG2016 says),
    /// and Adopt made lr=3's model lr=2's current result: a stale result reported as current. Another
    /// point's manifest (archived, or the renamed live one) records these bytes as made with lr 3.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnotherPointsOutputs_CopiedOrRenamedIntoAPoint_AreKdg2017(bool renamedFolder)
    {
        const string yaml = """
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'echo "model {params_file}" > model.ckpt && echo {sweep.lr} > lr.txt', outputs: [model.ckpt, lr.txt], sweep: { lr: [1, 3] } }
            """;
        using var p = new TestPipeline(yaml, "d1");
        StageDeclaration[] stages = [new("a", [])];
        Assert.True((await new BuildEngine().RunAsync(p.Request(stages), new RecordingLog(), default)).Succeeded);
        p.WriteConfig(yaml.Replace("lr: [1, 3]", "lr: [1, 2]", StringComparison.Ordinal));
        if (renamedFolder) Directory.Move(p.Dir["runs/d1/a/lr=3"], p.Dir["runs/d1/a/lr=2"]);
        else
        {
            Directory.CreateDirectory(p.Dir["runs/d1/a/lr=2"]);
            foreach (var f in new[] { "model.ckpt", "lr.txt" }) File.Copy(p.Dir[$"runs/d1/a/lr=3/{f}"], p.Dir[$"runs/d1/a/lr=2/{f}"]);
        }

        var log = new RecordingLog();
        var adopt = await new BuildEngine().RunAsync(p.Request(stages) with { Mode = BuildMode.Adopt, Sweep = "lr=2", AdoptOverwrite = renamedFolder }, log, default);

        Assert.False(adopt.Succeeded);
        var refusal = Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptOutputsMadeFromOther);
        Assert.Contains("lr", refusal.Message);
        var build = await new BuildEngine().RunAsync(p.Request(stages) with { Sweep = "lr=2" }, new RecordingLog(), default);
        Assert.Equal([Outcome.Ran], build.Stages.Select(x => x.Outcome)); // still stale: the build runs it
        Assert.Equal("2\n", File.ReadAllText(p.Dir["runs/d1/a/lr=2/lr.txt"]));
    }

    /// <summary>
    /// A params.json of another tool's in the run dir was overwritten by Adopt without a word (a
    /// first-contact review): refused, the file as it was; KdGat's own params.json is no obstacle.
    /// </summary>
    [Fact]
    public async Task AParamsJsonOfTheUsersOwn_IsRefusedAndKept()
    {
        await Run(BuildMode.Build);
        ForgetEverythingButOutputs();
        var mine = _p.Dir["runs/d1/vgae_large_autoencoder/params.json"];
        File.WriteAllText(mine, "{\"note\": \"snakemake's record\"}");

        var (adopt, log) = await Run(BuildMode.Adopt);

        Assert.Equal(["vgae_large_autoencoder"], With(adopt, Outcome.Failed));
        Assert.Contains("runs/d1/vgae_large_autoencoder/params.json", Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptParamsFileTaken).Message);
        Assert.Equal("{\"note\": \"snakemake's record\"}", File.ReadAllText(mine));

        File.Delete(mine);
        Assert.True((await Run(BuildMode.Adopt)).Report.Succeeded);
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
        var refusal = Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptOutputsMadeFromOther && d.Message.Contains("d1/dqn_large_fusion"));
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
            var refusal = Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptOutputsMadeFromOther);
            Assert.Contains(".kdgat/manifests/d1/dqn_large_fusion/", refusal.Message);
            Assert.Contains("upstream gat_large_curriculum", refusal.Message);
            Assert.Contains("Build the stage", refusal.Message);
            Assert.False(File.Exists(_p.Dir[$"runs/d1/dqn_large_fusion/{StageInstance.ManifestFileName}"]));
        }

        var (build, _) = await Run(BuildMode.Build);
        Assert.True(build.Succeeded);
        Assert.Contains("dqn_large_fusion", With(build, Outcome.Ran));
    }

    /// <summary>
    /// Review: a parameter changed, then Adopt with AdoptOverwrite (which KDG2016 suggested) made the
    /// outputs its manifest records as made with the old value current: every metric downstream stale
    /// and "up-to-date". Refused whatever the overwrite says, before KDG2016, naming the change; so is
    /// the same after the manifest is gone (Clean, the old outputs copied back), from the archive.
    /// </summary>
    [Fact]
    public async Task Adopt_RefusesOutputsAManifestRecordsAsMadeWithAnotherParameter_WithOrWithoutOverwriteOrManifest()
    {
        await Run(BuildMode.Build);
        _p.WriteConfig(KdGatGraph.Yaml(paramV: new Dictionary<string, string> { ["gat_large_curriculum"] = "2" }));
        var manifest = _p.Dir[$"runs/d1/gat_large_curriculum/{StageInstance.ManifestFileName}"];
        var before = File.ReadAllBytes(manifest);

        foreach (var (overwrite, deleteManifest) in new[] { (false, false), (true, false), (true, true), (false, true) })
        {
            if (deleteManifest) File.Delete(manifest);

            var (adopt, log) = await Run(BuildMode.Adopt, overwrite, stage: "gat_large_curriculum");

            Assert.Equal(["gat_large_curriculum"], With(adopt, Outcome.Failed));
            var refusal = Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptOutputsMadeFromOther);
            Assert.True(refusal.Message.Contains("parameter v changed ('1' -> '2')"), refusal.Message);
            Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.AdoptManifestDiffers);
            if (!deleteManifest) Assert.Equal(before, File.ReadAllBytes(manifest));
            else Assert.Contains(".kdgat/manifests/d1/gat_large_curriculum/", refusal.Message);
        }

        var (build, _) = await Run(BuildMode.Build);
        Assert.True(build.Succeeded);
        Assert.Contains("gat_large_curriculum", With(build, Outcome.Ran));
        Assert.StartsWith("gat_large_curriculum 2\n", File.ReadAllText(_p.Dir["runs/d1/gat_large_curriculum/out.txt"]));
    }

    /// <summary>
    /// Review: a build ran the stage with another parameter and its manifest was never archived (the
    /// index step after a build is skipped when the build fails, is killed or runs with
    /// -p:KdGatTracking=false; the engine alone never runs it); the parameter went back, the manifest
    /// was deleted by hand, and Adopt made those outputs current for the old value. A commit archives
    /// its manifest now, so KDG2017 finds it.
    /// </summary>
    [Fact]
    public async Task AManifestDeletedBeforeAnyIndexStep_StillKeepsAdoptFromMakingItsOutputsCurrent()
    {
        await Run(BuildMode.Build);
        _p.WriteConfig(KdGatGraph.Yaml(paramV: new Dictionary<string, string> { ["gat_large_curriculum"] = "2" }));
        Assert.Equal(["gat_large_curriculum"], With((await Run(BuildMode.Build, stage: "gat_large_curriculum")).Report, Outcome.Ran));
        _p.WriteConfig(KdGatGraph.Yaml());
        File.Delete(_p.Dir[$"runs/d1/gat_large_curriculum/{StageInstance.ManifestFileName}"]);

        var (adopt, log) = await Run(BuildMode.Adopt, stage: "gat_large_curriculum");

        Assert.Equal(["gat_large_curriculum"], With(adopt, Outcome.Failed));
        var refusal = Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptOutputsMadeFromOther);
        Assert.True(refusal.Message.Contains("parameter v changed ('2' -> '1')"), refusal.Message);
        var (build, _) = await Run(BuildMode.Build, stage: "gat_large_curriculum");
        Assert.Equal(["gat_large_curriculum"], With(build, Outcome.Restored)); // the v=1 result, cached by the first build
        Assert.StartsWith("gat_large_curriculum 1\n", File.ReadAllText(_p.Dir["runs/d1/gat_large_curriculum/out.txt"]));
    }

    /// <summary>
    /// A manifest an older KdGat wrote (no digest rules recorded) may hold another digest of files that
    /// did not change (a review: a folder's digest took in the x bit in an upgrade), so after an upgrade
    /// AdoptOverwrite still adopts outputs whose recorded fingerprint differs in anything but an upstream's
    /// result, as before; the manifests KdGat writes now record their rules and are held to every difference.
    /// </summary>
    [Fact]
    public async Task AManifestOfOlderDigestRules_IsHeldOnlyToItsUpstreams_AsBefore()
    {
        await Run(BuildMode.Build);
        var manifest = _p.Dir[$"runs/d1/gat_large_curriculum/{StageInstance.ManifestFileName}"];
        var json = File.ReadAllText(manifest);
        Assert.Contains("\"digest_rules\": 1", json);
        // As an older KdGat left it: the live manifest and its archived copy (a commit archives it) without rules.
        foreach (var f in Directory.GetFiles(_p.Dir[".kdgat/manifests/d1/gat_large_curriculum"]).Append(manifest))
            File.WriteAllText(f, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(f), "\\s*\"digest_rules\": 1,?", ""));
        Assert.Equal(Outcome.UpToDate, Assert.Single((await Run(BuildMode.Build, stage: "gat_large_curriculum")).Report.Stages, x => x.Stage == "gat_large_curriculum").Outcome);
        _p.WriteConfig(KdGatGraph.Yaml(paramV: new Dictionary<string, string> { ["gat_large_curriculum"] = "2" }));

        var (adopt, log) = await Run(BuildMode.Adopt, overwrite: true, stage: "gat_large_curriculum");

        Assert.True(adopt.Succeeded, string.Join("\n", log.Items.Select(d => d.Message)));
        Assert.Equal(["gat_large_curriculum"], With(adopt, Outcome.Adopted));
    }

    /// <summary>Outputs made again by hand with the new parameter (other bytes) are the user's claim: KDG2016 without the overwrite, adopted with it.</summary>
    [Fact]
    public async Task Adopt_OfOutputsMadeAgainByHand_AfterAParameterChange_NeedsOnlyTheOverwrite()
    {
        await Run(BuildMode.Build);
        _p.WriteConfig(KdGatGraph.Yaml(paramV: new Dictionary<string, string> { ["eval_large_evaluation"] = "2" }));
        File.WriteAllText(_p.Dir["runs/d1/eval_large_evaluation/out.txt"], "made again by hand with v=2\n");

        var (refused, log) = await Run(BuildMode.Adopt, stage: "eval_large_evaluation");
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.AdoptManifestDiffers);
        Assert.Equal(["eval_large_evaluation"], With(refused, Outcome.Failed));

        var (adopt, _) = await Run(BuildMode.Adopt, overwrite: true, stage: "eval_large_evaluation");
        Assert.Equal(["eval_large_evaluation"], With(adopt, Outcome.Adopted));
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
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.AdoptOutputsMadeFromOther);
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

    /// <summary>
    /// Outputs copied from another dataset's or another stage's result, the manifest deleted: another
    /// instance's result, which the archive records (a review: hcrl_ch's model adopted as hcrl_sa's,
    /// the small model's as the distilled one's, and every stage downstream rebuilt on it).
    /// </summary>
    [Theory]
    [InlineData("d2", "gat_large_curriculum")]
    [InlineData("d1", "gat_small_curriculum")]
    public async Task OutputsCopiedFromAnotherDatasetOrStage_AreKdg2017(string fromDataset, string fromStage)
    {
        using var p = new TestPipeline(KdGatGraph.Yaml(datasets: "[d1, d2]",
            commandOverride: new Dictionary<string, string> { ["preprocess"] = "echo {dataset} > out.txt" }), "d1", "d2");
        var request = p.Request(KdGatGraph.Stages);
        Assert.True((await new BuildEngine().RunAsync(request, new RecordingLog(), default)).Succeeded);
        var target = p.Dir["runs/d1/gat_large_curriculum"];
        File.Copy(p.Dir[$"runs/{fromDataset}/{fromStage}/out.txt"], Path.Combine(target, "out.txt"), overwrite: true);
        File.Delete(Path.Combine(target, StageInstance.ManifestFileName));
        File.Delete(Path.Combine(target, "params.json"));

        var log = new RecordingLog();
        var adopt = await new BuildEngine().RunAsync(request with { Mode = BuildMode.Adopt, Datasets = "d1", OnlyStage = "gat_large_curriculum" }, log, default);

        Assert.Equal(["gat_large_curriculum"], With(adopt, Outcome.Failed));
        var refusal = Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptOutputsMadeFromOther);
        Assert.Contains($"as the result of {fromDataset}/{fromStage}, another dataset or stage", refusal.Message);
        Assert.False(File.Exists(Path.Combine(target, StageInstance.ManifestFileName)));
    }

    /// <summary>
    /// A result rebuilt in part: a parameter changed, the manifest and params.json deleted, only the log
    /// made again. The old value's model is still what the archive records as made with it, so it is
    /// not adopted as the new value's (a review); the user may vouch for it with AdoptOverwrite (an output
    /// that does not depend on what changed, as a vocabulary).
    /// </summary>
    [Fact]
    public async Task AResultRebuiltInPart_IsKdg2017NamingTheOldOutputs_UnlessVouchedFor()
    {
        string Yaml(string v) => System.Text.RegularExpressions.Regex.Replace(
            KdGatGraph.Yaml(paramV: new Dictionary<string, string> { ["eval_large_evaluation"] = v },
                commandOverride: new Dictionary<string, string> { ["eval_large_evaluation"] = "echo {stage} > out.txt; echo {params.v} > log.txt" }),
            @"(  eval_large_evaluation:\n(?:    .*\n)*?    outputs: )\[out.txt\]", "$1[out.txt, log.txt]");
        _p.WriteConfig(Yaml("1"));
        await Run(BuildMode.Build);
        _p.WriteConfig(Yaml("2"));
        var dir = _p.Dir["runs/d1/eval_large_evaluation"];
        File.Delete(Path.Combine(dir, StageInstance.ManifestFileName));
        File.Delete(Path.Combine(dir, "params.json"));
        File.WriteAllText(Path.Combine(dir, "log.txt"), "2\n");

        var (refused, log) = await Run(BuildMode.Adopt, stage: "eval_large_evaluation");

        Assert.Equal(["eval_large_evaluation"], With(refused, Outcome.Failed));
        var refusal = Assert.Single(log.Items, d => d.Code == ErrorCodes.AdoptOutputsMadeFromOther);
        Assert.Contains("runs/d1/eval_large_evaluation/out.txt is byte for byte what", refusal.Message);
        Assert.Contains("parameter v changed ('1' -> '2')", refusal.Message);

        var (vouched, vlog) = await Run(BuildMode.Adopt, overwrite: true, stage: "eval_large_evaluation");
        Assert.True(vouched.Succeeded, string.Join("\n", vlog.Items.Select(d => d.Message)));
        Assert.Equal(["eval_large_evaluation"], With(vouched, Outcome.Adopted));
    }
}
