using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;
using KdGat.Testing;

namespace KdGat.Core.Tests.Engine;

/// <summary>BuildEngine with the real local executor and trivial shell stages; no MSBuild.</summary>
[Trait("Category", "Unit")]
public sealed class BuildEngineTests : IDisposable
{
    private readonly TestPipeline _p = new(KdGatGraph.Yaml(), "d1");
    public void Dispose() => _p.Dispose();

    private async Task<(BuildReport Report, RecordingLog Log)> Build(string? onlyStage = null, CancellationToken cancel = default)
    {
        var log = new RecordingLog();
        var report = await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages) with { OnlyStage = onlyStage }, log, cancel);
        return (report, log);
    }

    private static string[] With(BuildReport r, string outcome) =>
        r.Stages.Where(s => s.Outcome == outcome).Select(s => s.Stage).Order(StringComparer.Ordinal).ToArray();

    private string Out(string stage) => File.ReadAllText(_p.Dir[$"runs/d1/{stage}/out.txt"]);
    private string ManifestPath(string stage) => _p.Dir[$"runs/d1/{stage}/{StageInstance.ManifestFileName}"];

    [Fact]
    public async Task FirstBuild_RunsEveryStage_SecondBuild_RunsNone()
    {
        var (first, log1) = await Build();

        Assert.True(first.Succeeded, string.Join("\n", log1.Items.Select(d => d.Message)));
        Assert.Equal(KdGatGraph.Names.Order(StringComparer.Ordinal), With(first, Outcome.Ran));
        Assert.All(KdGatGraph.Names, n => Assert.True(File.Exists(ManifestPath(n)), n));
        Assert.StartsWith("dqn_small_fusion_kd 1\ndqn_large_fusion 1\n", Out("dqn_small_fusion_kd"));
        Assert.Equal(13, Directory.EnumerateFiles(_p.Dir[".kdgat/records"], "*.json", SearchOption.AllDirectories).Count());
        Assert.True(File.Exists(_p.Dir[".kdgat/last-build.json"]));

        var (second, _) = await Build();

        Assert.True(second.Succeeded);
        Assert.Equal(KdGatGraph.Names.Order(StringComparer.Ordinal), With(second, Outcome.UpToDate));
        Assert.Equal(13, Directory.EnumerateFiles(_p.Dir[".kdgat/records"], "*.json", SearchOption.AllDirectories).Count());
    }

    [Fact]
    public async Task ParamChange_RerunsExactlyTheDownstreamSet()
    {
        await Build();
        _p.WriteConfig(KdGatGraph.Yaml(paramV: new Dictionary<string, string> { ["gat_large_curriculum"] = "2" }));

        var (r, _) = await Build();

        Assert.True(r.Succeeded);
        Assert.Equal(
            ["dqn_large_fusion", "dqn_small_fusion_kd", "eval_large_evaluation", "eval_small_evaluation_kd", "gat_large_curriculum", "gat_small_curriculum_kd"],
            With(r, Outcome.Ran));
        Assert.Equal(7, With(r, Outcome.UpToDate).Length);
        var gat = r.Stages.Single(s => s.Stage == "gat_large_curriculum");
        Assert.Contains(gat.Reasons, x => x.StartsWith("parameter v changed ('1' -> '2') in kdgat.yaml(", StringComparison.Ordinal));
        Assert.Equal(["upstream gat_large_curriculum output changed"], r.Stages.Single(s => s.Stage == "gat_small_curriculum_kd").Reasons);
        Assert.StartsWith("gat_large_curriculum 2\n", Out("gat_large_curriculum"));
    }

    [Fact]
    public async Task UpstreamRerunWithIdenticalOutput_DownstreamStaysUpToDate()
    {
        // Early cutoff: downstream fingerprints hash upstream *outputs*, not the fact that it ran.
        await Build();
        File.WriteAllText(_p.Dir["runs/d1/preprocess/out.txt"], "damaged");

        var (r, _) = await Build();

        Assert.Equal(["preprocess"], With(r, Outcome.Ran));
        Assert.Equal(12, With(r, Outcome.UpToDate).Length);
        Assert.Equal("output-modified", Assert.Single(r.Stages.Single(s => s.Stage == "preprocess").ReasonKinds));
    }

    [Fact]
    public async Task MtimeOnlyChanges_RerunNothing()
    {
        await Build();
        foreach (var f in Directory.EnumerateFiles(_p.Root, "*", SearchOption.AllDirectories))
            File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddDays(Random.Shared.Next(-400, 400)));

        var (r, _) = await Build();

        Assert.Equal(13, With(r, Outcome.UpToDate).Length);
    }

    [Fact]
    public async Task FailingStage_SkipsOnlyItsDependents_OtherBranchesComplete()
    {
        _p.WriteConfig(KdGatGraph.Yaml(commandOverride: new Dictionary<string, string> { ["gat_large_curriculum"] = "echo boom >&2; exit 7" }));

        var (r, log) = await Build();

        Assert.False(r.Succeeded);
        Assert.Equal(["gat_large_curriculum"], With(r, Outcome.Failed));
        Assert.Equal(["dqn_large_fusion", "dqn_small_fusion_kd", "eval_large_evaluation", "eval_small_evaluation_kd", "gat_small_curriculum_kd"], With(r, Outcome.Skipped));
        Assert.Equal(["dqn_small_fusion", "eval_small_evaluation", "gat_small_curriculum", "preprocess", "vgae_large_autoencoder", "vgae_small_autoencoder", "vgae_small_autoencoder_kd"], With(r, Outcome.Ran));
        var failed = r.Stages.Single(s => s.Stage == "gat_large_curriculum");
        Assert.Equal(7, failed.ExitCode);
        Assert.Equal(1, failed.Attempts); // a plain failure is not retried
        Assert.Equal("boom\n", File.ReadAllText(Path.Combine(_p.Root, failed.Log!)));
        Assert.False(File.Exists(ManifestPath("gat_large_curriculum")));
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.StageFailed && d.Severity == Severity.Error);
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.StageSkipped);
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.BuildFailed);

        // Fixed: only the failed stage and what it skipped run now.
        _p.WriteConfig(KdGatGraph.Yaml());
        var (again, _) = await Build();
        Assert.True(again.Succeeded);
        Assert.Equal(6, With(again, Outcome.Ran).Length);
        Assert.Equal(7, With(again, Outcome.UpToDate).Length);
    }

    [Fact]
    public async Task FailedRerun_KeepsPreviousGoodOutputs()
    {
        await Build();
        _p.WriteConfig(KdGatGraph.Yaml(
            paramV: new Dictionary<string, string> { ["eval_small_evaluation"] = "2" },
            commandOverride: new Dictionary<string, string> { ["eval_small_evaluation"] = "echo half > out.txt; exit 1" }));

        var (r, _) = await Build();

        Assert.Equal(["eval_small_evaluation"], With(r, Outcome.Failed));
        Assert.StartsWith("eval_small_evaluation 1\n", Out("eval_small_evaluation"));
        Assert.True(File.Exists(ManifestPath("eval_small_evaluation")));
        Assert.Equal("half\n", File.ReadAllText(_p.Dir["runs/d1/.kdgat/eval_small_evaluation/failed/0-out.txt"]));
    }

    [Fact]
    public async Task ExitZeroWithoutDeclaredOutput_IsKdg3002()
    {
        _p.WriteConfig(KdGatGraph.Yaml(commandOverride: new Dictionary<string, string> { ["eval_large_evaluation"] = "true" }));

        var (r, log) = await Build();

        Assert.Equal(["eval_large_evaluation"], With(r, Outcome.Failed));
        var missing = Assert.Single(log.Items, d => d.Code == ErrorCodes.OutputMissing);
        Assert.Contains("runs/d1/eval_large_evaluation/out.txt", missing.Message);
        Assert.False(File.Exists(ManifestPath("eval_large_evaluation")));
        // At the output's own entry (outputs: [out.txt] of that stage), where the fix goes, not the stage's first line.
        Assert.Equal((OutputsLine("eval_large_evaluation"), "    outputs: [".Length + 1), (missing.Line, missing.Column));
    }

    /// <summary>The line of a stage's "outputs: [out.txt]" in <see cref="KdGatGraph.Yaml"/>'s configuration.</summary>
    private int OutputsLine(string stage)
    {
        var lines = File.ReadAllLines(_p.ConfigFile);
        var entry = Array.IndexOf(lines, $"  {stage}:");
        return Array.FindIndex(lines, entry, l => l.StartsWith("    outputs:", StringComparison.Ordinal)) + 1;
    }

    [Fact]
    public async Task CorruptManifest_WarnsKdg2001AndReruns()
    {
        await Build();
        File.WriteAllText(ManifestPath("dqn_small_fusion"), "{ truncated");

        var (r, log) = await Build();

        // Rerun, or restored from the output cache after hash verification: never "up to date".
        Assert.Equal(["dqn_small_fusion"], With(r, Outcome.Ran).Concat(With(r, Outcome.Restored)));
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.CorruptManifest && d.Severity == Severity.Warning);
    }

    /// <summary>
    /// A code pattern that matches no file (a misspelt folder) fingerprinted no code, silently: no edit
    /// would rerun the stage (review). KDG1013 at the pattern's entry, once per build however many
    /// stages and datasets use it, said by the build task (the plan's check of one MSBuild build does
    /// not say it again); a pattern that matches files is not warned of.
    /// </summary>
    [Fact]
    public async Task CodePatternMatchingNothing_WarnsKdg1013Once_AtItsEntry_UntilAFileMatches()
    {
        var line = "defaults: { retries: 0, code: ['srcx/**/*.py', 'src/**/*.py'] }";
        _p.WriteConfig(KdGatGraph.Yaml(datasets: "[d1, d2]").Replace("defaults: { retries: 0 }", line));
        _p.Dir.Write("raw/d2/frames.csv", "frames of d2\n");
        _p.Dir.Write("src/model.py", "print(1)\n");
        async Task<(RecordingLog Plan, RecordingLog Build, BuildReport Report)> PlanThenBuild()
        {
            var session = new BuildSession();
            var request = _p.Request(KdGatGraph.Stages, datasets: "d1;d2");
            var plan = new RecordingLog();
            await new BuildEngine(session: session).PlanAsync(request, GraphSources.None, plan, default);
            var build = new RecordingLog();
            return (plan, build, await new BuildEngine(session: session).RunAsync(request, build, default));
        }

        var (plan1, build1, first) = await PlanThenBuild();

        Assert.True(first.Succeeded);
        Assert.DoesNotContain(plan1.Items, d => d.Code == ErrorCodes.CodePatternMatchesNothing);
        var w = Assert.Single(build1.Items, d => d.Code == ErrorCodes.CodePatternMatchesNothing);
        Assert.Equal(Severity.Warning, w.Severity);
        Assert.Contains("code pattern 'srcx/**/*.py' matches no file", w.Message);
        Assert.Contains("every stage", w.Message);
        Assert.Contains("Fix the pattern", w.Message);
        Assert.Equal((_p.ConfigFile, 6, line.IndexOf("'srcx", StringComparison.Ordinal) + 1), (w.File, w.Line, w.Column));
        var (_, build2, second) = await PlanThenBuild();
        Assert.Equal(26, second.Stages.Count(s => s.Outcome == Outcome.UpToDate));
        Assert.Equal([w], build2.Items.Where(d => d.Code == ErrorCodes.CodePatternMatchesNothing)); // the same, every build

        _p.Dir.Write("srcx/train.py", "print(2)\n");
        var (plan3, build3, third) = await PlanThenBuild();

        Assert.DoesNotContain(plan3.Items.Concat(build3.Items), d => d.Code == ErrorCodes.CodePatternMatchesNothing);
        Assert.Equal(26, third.Stages.Count(s => s.Outcome is Outcome.Ran or Outcome.Restored)); // the code every stage names changed
    }

    /// <summary>
    /// A review: an unswept output folder (a cache dir inside the stage's folder) that the sweep's
    /// points now write theirs into was deleted with the unswept result after the first point's
    /// commit, and both points' committed outputs with it. A folder holding a point's own is kept.
    /// </summary>
    [Fact]
    public async Task RetiringTheUnsweptResult_KeepsAFolderThePointsWriteInto()
    {
        const string unswept = """
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'runs/{dataset}/prep/cache' }
            stages:
              prep: { command: 'mkdir -p {cache_dir} && echo all > {cache_dir}/graphs.bin', outputs: ['{cache_dir}'] }
            """;
        using var p = new TestPipeline(unswept, "d1");
        var stages = new StageDeclaration[] { new("prep", []) };
        Assert.True((await new BuildEngine().RunAsync(p.Request(stages), new RecordingLog(), default)).Succeeded);
        p.WriteConfig(unswept.Replace(
            "prep: { command: 'mkdir -p {cache_dir} && echo all > {cache_dir}/graphs.bin', outputs: ['{cache_dir}'] }",
            "prep: { command: 'mkdir -p ../cache/{variant} && echo {variant} > ../cache/{variant}/graphs.bin', outputs: ['{cache_dir}/{variant}'], sweep: { seed: [0, 1] } }",
            StringComparison.Ordinal));

        var swept = await new BuildEngine().RunAsync(p.Request(stages) with { MaxParallelStages = 1 }, new RecordingLog(), default);

        Assert.Equal([Outcome.Ran, Outcome.Ran], swept.Stages.Select(x => x.Outcome));
        Assert.Equal("seed=0\n", File.ReadAllText(p.Dir["runs/d1/prep/cache/seed=0/graphs.bin"]));
        Assert.Equal("seed=1\n", File.ReadAllText(p.Dir["runs/d1/prep/cache/seed=1/graphs.bin"]));
        Assert.False(File.Exists(p.Dir[$"runs/d1/prep/{StageInstance.ManifestFileName}"])); // the unswept result is retired all the same
        Assert.True(File.Exists(p.Dir["runs/d1/prep/cache/graphs.bin"])); // a folder points write into is not entered during a build (Clean takes the rest)
        var again = await new BuildEngine().RunAsync(p.Request(stages), new RecordingLog(), default);
        Assert.Equal([Outcome.UpToDate, Outcome.UpToDate], again.Stages.Select(x => x.Outcome));
    }

    /// <summary>
    /// A first-contact review: a command writing {cache_dir}/all.txt failed with "Directory nonexistent";
    /// Snakemake makes the folders of a rule's outputs. So does KdGat now, never the outputs themselves.
    /// </summary>
    [Fact]
    public async Task TheFoldersOfDeclaredOutputs_AreMadeBeforeTheCommandRuns()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'echo x > {cache_dir}/all.txt && echo y > sub/dir/out.txt && test ! -e made', outputs: ['{cache_dir}/all.txt', sub/dir/out.txt, made] , optional_outputs: [] }
            """.Replace("&& test ! -e made', outputs: ['{cache_dir}/all.txt', sub/dir/out.txt, made] , optional_outputs: [] }", "&& test ! -e made && mkdir made', outputs: ['{cache_dir}/all.txt', sub/dir/out.txt, made] }", StringComparison.Ordinal), "d1");

        var r = await new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), default);

        Assert.True(r.Succeeded);
        Assert.Equal("x\n", File.ReadAllText(p.Dir["cache/d1/all.txt"]));
        Assert.Equal("y\n", File.ReadAllText(p.Dir["runs/d1/a/sub/dir/out.txt"]));
    }

    /// <summary>
    /// A differential review: the build that made a stage swept retired only the unswept manifest,
    /// params.json and the outputs in its run dir. A scratch file of the command stayed above the
    /// points, and an output it recorded under {cache_dir} stayed there: a tree no from-scratch
    /// build has (Clean already removed both).
    /// </summary>
    [Fact]
    public async Task TheBuildThatSweepsAStage_LeavesNothingOfItsUnsweptResult()
    {
        using var p = new TestPipeline(StageMadeSwept.Unswept, "d1");
        var stages = new StageDeclaration[] { new("b", []) };
        async Task<BuildReport> Build() => await new BuildEngine().RunAsync(p.Request(stages) with { MaxParallelStages = 1 }, new RecordingLog(), default);
        Assert.True((await Build()).Succeeded);
        Assert.True(File.Exists(p.Dir["cache/d1/side.txt"]));
        p.WriteConfig(StageMadeSwept.Swept);

        Assert.True((await Build()).Succeeded);

        Assert.Equal(["logs", "y=2", "y=3"], Directory.EnumerateFileSystemEntries(p.Dir["runs/d1/b"]).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.False(File.Exists(p.Dir["cache/d1/side.txt"]));
    }

    /// <summary>
    /// A review of the change above: the retirement entered the unswept result's {cache_dir} folder and
    /// deleted stage c's committed output there, c being outside the build's selection (-p:Stage=b).
    /// During a build it never enters a folder, and an output elsewhere goes only with the bytes it
    /// was recorded with.
    /// </summary>
    [Fact]
    public async Task RetiringTheUnsweptResult_KeepsAnotherStagesOutputInItsOldFolder_OutsideTheSelection()
    {
        const string unswept = """
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              b: { command: 'mkdir -p {cache_dir}/shared && echo old > {cache_dir}/shared/all.txt', params: { y: 1 }, outputs: ['{cache_dir}/shared'] }
            """;
        const string swept = """
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              b: { command: 'cd {root} && echo {params.y} > cache/d1/shared/b_{params.y}.txt', params: { y: 1 }, outputs: ['{cache_dir}/shared/b_{params.y}.txt'], sweep: { y: [2, 3] } }
              c: { command: 'cd {root} && echo c > cache/d1/shared/c.txt', outputs: ['{cache_dir}/shared/c.txt'] }
            """;
        using var p = new TestPipeline(unswept, "d1");
        Assert.True((await new BuildEngine().RunAsync(p.Request([new("b", [])]) with { MaxParallelStages = 1 }, new RecordingLog(), default)).Succeeded);
        p.WriteConfig(swept);
        var both = new StageDeclaration[] { new("b", []), new("c", []) };
        Assert.True((await new BuildEngine().RunAsync(p.Request(both) with { OnlyStage = "c" }, new RecordingLog(), default)).Succeeded);

        Assert.True((await new BuildEngine().RunAsync(p.Request(both) with { OnlyStage = "b", MaxParallelStages = 1 }, new RecordingLog(), default)).Succeeded);

        Assert.Equal("c\n", File.ReadAllText(p.Dir["cache/d1/shared/c.txt"]));
        Assert.False(File.Exists(p.Dir[$"runs/d1/b/{StageInstance.ManifestFileName}"])); // retired all the same
    }

    /// <summary>
    /// Points up to date with no commit in this build (their results put back by recovery after jobs
    /// that a removed sweep left; here the unswept result put back as a crash before its retirement
    /// leaves it) kept the unswept result above them, its metrics.json taken for the stage's (a review).
    /// </summary>
    [Fact]
    public async Task AnUnsweptResultBesideUpToDatePoints_IsRetiredByTheirBuild()
    {
        const string unswept = """
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'echo "$KDGAT_VARIANT" > metrics.json', outputs: [metrics.json] }
            """;
        using var p = new TestPipeline(unswept, "d1");
        var stages = new StageDeclaration[] { new("a", []) };
        Assert.True((await new BuildEngine().RunAsync(p.Request(stages), new RecordingLog(), default)).Succeeded);
        var keep = Directory.CreateTempSubdirectory("kdgat-unswept-").FullName;
        foreach (var f in new[] { "metrics.json", "params.json", StageInstance.ManifestFileName }) File.Copy(p.Dir[$"runs/d1/a/{f}"], Path.Combine(keep, f));
        p.WriteConfig(unswept.Replace("outputs: [metrics.json] }", "outputs: [metrics.json], sweep: { seed: [0, 1] } }", StringComparison.Ordinal));
        Assert.Equal([Outcome.Ran, Outcome.Ran], (await new BuildEngine().RunAsync(p.Request(stages), new RecordingLog(), default)).Stages.Select(x => x.Outcome));
        foreach (var f in Directory.GetFiles(keep)) File.Copy(f, p.Dir[$"runs/d1/a/{Path.GetFileName(f)}"]);
        Directory.Delete(keep, recursive: true);

        var again = await new BuildEngine().RunAsync(p.Request(stages), new RecordingLog(), default);

        Assert.Equal([Outcome.UpToDate, Outcome.UpToDate], again.Stages.Select(x => x.Outcome));
        Assert.False(File.Exists(p.Dir[$"runs/d1/a/{StageInstance.ManifestFileName}"]));
        Assert.False(File.Exists(p.Dir["runs/d1/a/metrics.json"]));
        Assert.False(File.Exists(p.Dir["runs/d1/a/params.json"]));
    }

    /// <summary>
    /// A review: after a point's commit, archiving the unswept manifest failed (a full disk; here its
    /// archive folder is a file) and reported the committed point failed (KDG3007). It is a warning,
    /// the point's result stands, and the unswept result stays until it can go.
    /// </summary>
    [Fact]
    public async Task RetiringTheUnsweptResult_WhenItCannotBeArchived_IsAWarning_ThePointSucceeds()
    {
        const string unswept = """
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              prep: { command: 'echo {params.v} > out.txt', params: { v: 1 }, outputs: [out.txt] }
            """;
        using var p = new TestPipeline(unswept, "d1");
        var stages = new StageDeclaration[] { new("prep", []) };
        Assert.True((await new BuildEngine().RunAsync(p.Request(stages), new RecordingLog(), default)).Succeeded);
        var archive = p.Dir[".kdgat/manifests/d1/prep"];
        if (Directory.Exists(archive)) Directory.Delete(archive, recursive: true);
        Directory.CreateDirectory(Path.GetDirectoryName(archive)!);
        File.WriteAllText(archive, "not a folder");
        p.WriteConfig(unswept.Replace("outputs: [out.txt] }", "outputs: [out.txt], sweep: { v: [2] } }", StringComparison.Ordinal));
        var log = new RecordingLog();

        var swept = await new BuildEngine().RunAsync(p.Request(stages), log, default);

        Assert.Equal([Outcome.Ran], swept.Stages.Select(x => x.Outcome));
        Assert.True(swept.Succeeded);
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.UnsweptResultNotRemoved && d.Severity == Severity.Warning);
        Assert.Equal("2\n", File.ReadAllText(p.Dir["runs/d1/prep/v=2/out.txt"]));
    }

    /// <summary>
    /// A user review: a stage added to run a script of theirs (python3 {root}/myscripts/summ.py), which
    /// no code: pattern covered (the bundled defaults cover the sample's C#); the script was edited and
    /// the build said up to date, the old summary current. The load now warns (KDG1040) at the stage's
    /// command, said again by the no-op certificate; once code: covers it the warning goes and an edit
    /// reruns the stage. A file under an input, a run dir, raw data or KdGat's folders is not asked.
    /// </summary>
    [Fact]
    public async Task AScriptTheCommandNamesThatNoCodePatternCovers_IsKdg1040_UntilCodeCoversIt()
    {
        const string yaml = """
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'sh {root}/myscripts/summ.sh > out.txt; cat {raw_dir}/frames.csv {root}/notes/missing.txt {root}/shared/ok.csv >> out.txt || true', inputs: ['shared/ok.csv', '{raw_dir}'], outputs: [out.txt] }
            """;
        using var p = new TestPipeline(yaml, "d1");
        p.Dir.Write("myscripts/summ.sh", "echo v1\n");
        p.Dir.Write("shared/ok.csv", "ok\n");
        p.Dir.Write("raw/d1/frames.csv", "f\n");
        var stages = new StageDeclaration[] { new("a", []) };
        var log = new RecordingLog();

        Assert.True((await new BuildEngine().RunAsync(p.Request(stages), log, default)).Succeeded);

        var warning = Assert.Single(log.Items, d => d.Code == ErrorCodes.UncoveredNamedFile);
        Assert.Equal(Severity.Warning, warning.Severity);
        Assert.Contains("its command names 'myscripts/summ.sh'", warning.Message);
        Assert.Equal((p.ConfigFile, 4), (warning.File, warning.Line));

        p.WriteConfig(yaml.Replace("outputs: [out.txt] }", "outputs: [out.txt], code: ['myscripts/*.sh'] }", StringComparison.Ordinal));
        var covered = new RecordingLog();
        Assert.True((await new BuildEngine().RunAsync(p.Request(stages), covered, default)).Succeeded);
        Assert.DoesNotContain(covered.Items, d => d.Code == ErrorCodes.UncoveredNamedFile);
        p.Dir.Write("myscripts/summ.sh", "echo v2\n");
        var edited = await new BuildEngine().RunAsync(p.Request(stages), new RecordingLog(), default);
        Assert.Equal([Outcome.Ran], edited.Stages.Select(x => x.Outcome));
        Assert.StartsWith("v2\n", File.ReadAllText(p.Dir["runs/d1/a/out.txt"]));
    }

    [Fact]
    public async Task StageLeavingABackgroundWriter_IsCommittedWithWhatItWroteByItsEnd_AndWarnsKdg3016()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: '(sleep 2; echo late > out.txt) & echo early > out.txt', outputs: [out.txt] }
            """, "d1");
        var log = new RecordingLog();

        var r = await new BuildEngine().RunAsync(p.Request([new("a", [])]), log, default);
        Assert.Empty(Sh.LiveInGroup(int.Parse(r.Stages.Single().JobId!["pid:".Length..]))); // no writer is left to write "late"
        var again = await new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), default);

        Assert.Equal([Outcome.Ran], r.Stages.Select(x => x.Outcome));
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.LeftoversKilled && d.Severity == Severity.Warning);
        Assert.Equal("early\n", File.ReadAllText(p.Dir["runs/d1/a/out.txt"]));
        Assert.Equal([Outcome.UpToDate], again.Stages.Select(x => x.Outcome)); // what was committed is what is there
        File.Delete(p.Dir["runs/d1/a/out.txt"]);
        var rebuilt = await new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), default);
        Assert.Equal([Outcome.Ran], rebuilt.Stages.Select(x => x.Outcome)); // not restored: an output a killed leftover wrote is not cached
    }

    /// <summary>
    /// The same, the stage failing (it found its upstream's model gone while another build had moved it
    /// aside): that was KDG3001, as if the stage were at fault (a crash review). It is KDG3017.
    /// </summary>
    [Fact]
    public async Task AnUpstreamChangedWhileAStageFailed_IsKdg3017_NotAStageFailure()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'echo v1 > out.txt', outputs: [out.txt] }
              b: { command: 'echo v2 > {upstream.a}/out.txt; echo "upstream model not found" >&2; exit 2', outputs: [out.txt] }
            """, "d1");
        var log = new RecordingLog();

        var r = await new BuildEngine().RunAsync(p.Request([new("a", []), new("b", ["a"])]), log, default);

        var b = r.Stages.Single(x => x.Stage == "b");
        Assert.Equal(Outcome.Failed, b.Outcome);
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.UpstreamChangedDuringRun && d.Message.Contains("while the outputs of its upstream a changed", StringComparison.Ordinal)
                                        && d.Message.Contains("upstream model not found", StringComparison.Ordinal));
        Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.StageFailed);
    }

    /// <summary>Stage a (params pa, writes out.txt) and stage b after it, running <paramref name="command"/>; trust_ctime as given.</summary>
    private static TestPipeline UpstreamAndStage(string command, bool trustCtime) => new($$"""
        datasets: [d1]
        trust_ctime: {{(trustCtime ? "true" : "false")}}
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        stages:
          a: { command: 'echo v1 > out.txt', params: { pa: 1 }, outputs: [out.txt] }
          b: { command: '{{command}}', outputs: [out.txt] }
        """, "d1");

    /// <summary>
    /// An upstream's output rewritten while the stage ran by something that is not a KdGat attempt (a copy by
    /// hand, `git checkout` there and back), its bytes put back before the stage ended: the stage read the other
    /// version, and was committed under the digest of the first (a review). Compared by identity, as inputs are; with
    /// `cp -p` of a backup (bytes, size and mtime back on the same inode), by its ctime (a later review) under
    /// trust_ctime, as for the stage's own inputs.
    /// </summary>
    [Theory]
    [InlineData("cp {upstream.a}/out.txt saved; echo other > {upstream.a}/out.txt; cat {upstream.a}/out.txt > out.txt; cat saved > {upstream.a}/out.txt; rm saved", false)]
    [InlineData("cp -p {upstream.a}/out.txt saved; echo other > {upstream.a}/out.txt; cat {upstream.a}/out.txt > out.txt; cp -p saved {upstream.a}/out.txt; rm saved", true)]
    public async Task AnUpstreamOutputRewrittenAndPutBackWhileAStageRan_DiscardsThatRun_Kdg3017(string command, bool trustCtime)
    {
        using var p = UpstreamAndStage(command, trustCtime);
        var log = new RecordingLog();

        var r = await new BuildEngine().RunAsync(p.Request([new("a", []), new("b", ["a"])]), log, default);

        Assert.Equal("v1\n", File.ReadAllText(p.Dir["runs/d1/a/out.txt"])); // its content is back
        Assert.Equal(Outcome.Failed, r.Stages.Single(x => x.Stage == "b").Outcome);
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.UpstreamChangedDuringRun && d.Message.Contains("upstream a", StringComparison.Ordinal));
        Assert.False(File.Exists(p.Dir[$"runs/d1/b/{StageInstance.ManifestFileName}"])); // nothing committed
    }

    /// <summary>
    /// A chmod of an upstream's output and params.json while a stage ran (a permissions cron job on a shared project
    /// folder) changes their ctimes alone: without trust_ctime no change, as for the stage's own inputs (a long run is
    /// not discarded for it); with it, KDG3017 (it cannot be told from an edit put back with `cp -p`).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnUpstreamOutputChmodedWhileAStageRan_CountsOnlyUnderTrustCtime(bool trustCtime)
    {
        using var p = UpstreamAndStage("cat {upstream.a}/out.txt > out.txt; chmod g+w {upstream.a}/out.txt {upstream.a}/params.json", trustCtime);
        var log = new RecordingLog();

        var r = await new BuildEngine().RunAsync(p.Request([new("a", []), new("b", ["a"])]), log, default);

        Assert.Equal(trustCtime ? Outcome.Failed : Outcome.Ran, r.Stages.Single(x => x.Stage == "b").Outcome);
        Assert.Equal(trustCtime, log.Items.Any(d => d.Code == ErrorCodes.UpstreamChangedDuringRun));
    }

    /// <summary>
    /// A hard link made to an upstream's output while a stage ran (as the output store makes when another clone restores
    /// the same result, or removes when CacheGc evicts it) changes its ctime too, and its link count: no KDG3017.
    /// </summary>
    [Fact]
    public async Task AnUpstreamOutputLinkedWhileAStageRan_IsNoKdg3017()
    {
        using var p = UpstreamAndStage("ln {upstream.a}/out.txt {root}/linked; cat {upstream.a}/out.txt > out.txt", trustCtime: true);
        var log = new RecordingLog();

        var r = await new BuildEngine().RunAsync(p.Request([new("a", []), new("b", ["a"])]), log, default);

        Assert.True(File.Exists(p.Dir["linked"]));
        Assert.Equal([Outcome.Ran, Outcome.Ran], r.Stages.Select(x => x.Outcome));
        Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.UpstreamChangedDuringRun);
    }

    /// <summary>
    /// An upstream's params.json (in its outputs digest: `{upstream.X}` hands the whole run dir, and a stage may read
    /// the upstream's hyperparameters there) edited by hand after the upstream ended, before or while the stage read it,
    /// or edited and put back while it ran (also with `cp -p`): the stage read what no build from scratch writes, and was committed under
    /// the digest of the file KdGat wrote, up to date in every later build (a review of edits during a build: the check
    /// took params.json from the configuration, not from the file). Discarded as for an output.
    /// </summary>
    [Theory]
    [InlineData("echo edited > {upstream.a}/params.json; cat {upstream.a}/params.json > out.txt", false)]
    [InlineData("cp {upstream.a}/params.json saved; echo edited > {upstream.a}/params.json; cat {upstream.a}/params.json > out.txt; cat saved > {upstream.a}/params.json; rm saved", false)]
    [InlineData("cp -p {upstream.a}/params.json saved; echo edited > {upstream.a}/params.json; cat {upstream.a}/params.json > out.txt; cp -p saved {upstream.a}/params.json; rm saved", true)] // only its ctime tells
    public async Task AnUpstreamsParamsJsonEditedWhileAStageRan_DiscardsThatRun_Kdg3017(string command, bool trustCtime)
    {
        using var p = UpstreamAndStage(command, trustCtime);
        var log = new RecordingLog();
        StageDeclaration[] graph = [new("a", []), new("b", ["a"])];

        var r = await new BuildEngine().RunAsync(p.Request(graph), log, default);

        Assert.Equal(Outcome.Failed, r.Stages.Single(x => x.Stage == "b").Outcome);
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.UpstreamChangedDuringRun && d.Message.Contains("upstream a", StringComparison.Ordinal));
        Assert.False(File.Exists(p.Dir[$"runs/d1/b/{StageInstance.ManifestFileName}"])); // nothing committed
    }

    /// <summary>
    /// The same edit made in a second terminal after the upstream ended and before the stage started (while another
    /// upstream of it ran): no file changed during the stage's run, but what it read is not what its fingerprint's
    /// digest of the upstream says.
    /// </summary>
    [Fact]
    public async Task AnUpstreamsParamsJsonEditedBeforeAStageStarted_DiscardsThatRun_Kdg3017()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'echo v1 > out.txt', params: { pa: 1 }, outputs: [out.txt] }
              c: { command: 'until [ -e {root}/go ]; do sleep 0.05; done; echo c > out.txt', outputs: [out.txt] }
              b: { command: 'cat {upstream.a}/params.json {upstream.c}/out.txt > out.txt', outputs: [out.txt] }
            """, "d1");
        var log = new RecordingLog();
        var build = new BuildEngine().RunAsync(p.Request([new("a", []), new("c", []), new("b", ["a", "c"])]), log, default);
        await Eventually.UntilAsync(() => File.Exists(p.Dir[$"runs/d1/a/{StageInstance.ManifestFileName}"]) || build.IsCompleted, TimeSpan.FromSeconds(30), "a committed");

        File.WriteAllText(p.Dir["runs/d1/a/params.json"], "{ \"pa\": 99 }\n");
        File.WriteAllText(p.Dir["go"], "");
        var r = await build;

        Assert.Equal(Outcome.Failed, r.Stages.Single(x => x.Stage == "b").Outcome);
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.UpstreamChangedDuringRun && d.Message.Contains("upstream a", StringComparison.Ordinal));
        Assert.False(File.Exists(p.Dir[$"runs/d1/b/{StageInstance.ManifestFileName}"])); // nothing committed
    }

    /// <summary>
    /// kdgat.yaml edited while a stage ran (a downstream's parameter changed in a second terminal, a `git checkout`):
    /// the build goes on with the configuration it read, and its manifests say so (the next build reruns the
    /// downstream), but it ended "succeeded" without a word and the edit looked built (a review of edits during a build).
    /// </summary>
    [Fact]
    public async Task KdgatYamlEditedWhileAStageRan_IsSaid_Kdg3024_AndTheNextBuildAppliesIt()
    {
        static string Yaml(int pb) => $$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'touch {root}/a-started; until [ -e {root}/go ]; do sleep 0.05; done; echo a > out.txt', outputs: [out.txt] }
              b: { command: 'cat {upstream.a}/out.txt {params_file} > out.txt', params: { pb: {{pb}} }, outputs: [out.txt] }
            """;
        using var p = new TestPipeline(Yaml(1), "d1");
        StageDeclaration[] graph = [new("a", []), new("b", ["a"])];
        var log = new RecordingLog();
        var build = new BuildEngine().RunAsync(p.Request(graph), log, default);
        await Eventually.UntilAsync(() => File.Exists(p.Dir["a-started"]) || build.IsCompleted, TimeSpan.FromSeconds(30), "a started");

        p.WriteConfig(Yaml(2));
        File.WriteAllText(p.Dir["go"], "");
        var r = await build;

        Assert.True(r.Succeeded);
        Assert.Contains("\"pb\": 1", File.ReadAllText(p.Dir["runs/d1/b/out.txt"]), StringComparison.Ordinal); // as the build read it
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.ConfigChangedDuringBuild && d.Severity == Severity.Warning && Path.GetFileName(d.File) == "kdgat.yaml" && d.Message.StartsWith("kdgat.yaml changed while this build ran", StringComparison.Ordinal));
        var next = await new BuildEngine().RunAsync(p.Request(graph), new RecordingLog(), default);
        Assert.Equal([Outcome.UpToDate, Outcome.Ran], next.Stages.Select(x => x.Outcome));
        Assert.Contains("\"pb\": 2", File.ReadAllText(p.Dir["runs/d1/b/out.txt"]), StringComparison.Ordinal);
    }

    /// <summary>A build that ran something with its configuration untouched says no KDG3024.</summary>
    [Fact]
    public async Task KdgatYamlLeftAlone_IsNoKdg3024()
    {
        var (r, log) = await Build();

        Assert.True(r.Succeeded);
        Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.ConfigChangedDuringBuild);
    }

    /// <summary>
    /// Another build restoring or rerunning an upstream while a stage runs (a crash-and-concurrency
    /// pass did it with two builds and an edit between their starts): the stage's result may come
    /// from either version, so it must not be committed (nor cached) under the fingerprint of the
    /// one it started with. Here the stage itself plays the other build.
    /// </summary>
    [Fact]
    public async Task AnUpstreamChangedWhileAStageRan_DiscardsThatRun_Kdg3017()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'echo v1 > out.txt', outputs: [out.txt] }
              b: { command: 'echo v2 > {upstream.a}/out.txt; cat {upstream.a}/out.txt > out.txt', outputs: [out.txt] }
            """, "d1");
        var log = new RecordingLog();

        var r = await new BuildEngine().RunAsync(p.Request([new("a", []), new("b", ["a"])]), log, default);

        Assert.Equal(Outcome.Ran, r.Stages.Single(x => x.Stage == "a").Outcome);
        Assert.Equal(Outcome.Failed, r.Stages.Single(x => x.Stage == "b").Outcome);
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.UpstreamChangedDuringRun && d.Message.Contains("upstream a", StringComparison.Ordinal));
        Assert.False(File.Exists(p.Dir[$"runs/d1/b/{StageInstance.ManifestFileName}"])); // nothing committed
        Assert.False(File.Exists(p.Dir["runs/d1/b/out.txt"])); // the attempt's output was discarded
        var explain = await new BuildEngine().RunAsync(p.Request([new("a", []), new("b", ["a"])]) with { Mode = BuildMode.Explain }, new RecordingLog(), default);
        Assert.Equal([Outcome.WouldRestore, Outcome.WouldRun], explain.Stages.Select(x => x.Outcome)); // a's output was modified (v1 is in the cache), b never committed
    }

    /// <summary>
    /// A stage about to start while another build reruns its upstream (that build's attempt journal is there, the
    /// outputs aside) would read nothing of it and be discarded at its end, after hours of training: it is not
    /// started (KDG3017), its previous result kept.
    /// </summary>
    [Fact]
    public async Task AStageWhoseUpstreamAnotherBuildIsRerunningNow_IsNotStarted_Kdg3017()
    {
        static string Yaml(string aCommand, int n) => $$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            defaults: { retries: 0 }
            stages:
              a: { command: '{{aCommand}}', outputs: [out.txt] }
              c:
                command: 'touch {root}/c-started; until [ -e {root}/c-go ]; do sleep 0.05; done; echo c > out.txt'
                params: { n: {{n}} }
                outputs: [out.txt]
              b:
                command: 'touch {root}/b-ran; cat {upstream.a}/out.txt > out.txt'
                params: { n: {{n}} }
                outputs: [out.txt]
            """;
        using var p = new TestPipeline(Yaml("echo v1 > out.txt", 1), "d1");
        File.WriteAllText(p.Dir["c-go"], "");
        StageDeclaration[] all = [new("a", []), new("c", []), new("b", ["a", "c"])];
        Assert.True((await new BuildEngine().RunAsync(p.Request(all), new RecordingLog(), default)).Succeeded);
        File.Delete(p.Dir["c-go"]);
        File.Delete(p.Dir["b-ran"]);
        // A journal of an attempt that crashed before it moved anything: the first build's check of a recovers it,
        // so its going tells that a has been checked (up to date) before the other build begins on a.
        var aJournal = p.Dir["runs/d1/.kdgat/a/attempt.json"];
        File.WriteAllText(aJournal, System.Text.Json.JsonSerializer.Serialize(new KdGat.Core.Execution.OutputGuard.JournalEntry("crashed-1", null, Environment.MachineName, 1) { Phase = "aside", BuildId = "crashed" }));

        p.WriteConfig(Yaml("echo v1 > out.txt", 2)); // b and c rerun, a is up to date
        var log = new RecordingLog();
        var first = new BuildEngine().RunAsync(p.Request(all), log, default);
        await Eventually.UntilAsync(() => (File.Exists(p.Dir["c-started"]) && !File.Exists(aJournal)) || first.IsCompleted, TimeSpan.FromSeconds(30), "a checked, c started");
        p.WriteConfig(Yaml("touch {root}/a-started; until [ -e {root}/a-go ]; do sleep 0.05; done; echo v1 > out.txt", 2));
        var other = new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), default);
        await Eventually.UntilAsync(() => File.Exists(p.Dir["a-started"]) || other.IsCompleted, TimeSpan.FromSeconds(30), "a started in the other build");
        File.WriteAllText(p.Dir["c-go"], "");
        var r = await first;
        File.WriteAllText(p.Dir["a-go"], "");
        await other;

        Assert.Equal(Outcome.Failed, r.Stages.Single(x => x.Stage == "b").Outcome);
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.UpstreamChangedDuringRun && d.Message.Contains("upstream a is being rerun or restored by another build", StringComparison.Ordinal));
        Assert.False(File.Exists(p.Dir["b-ran"])); // not started
        Assert.Equal("v1\n", File.ReadAllText(p.Dir["runs/d1/b/out.txt"]));
    }

    /// <summary>
    /// A code glob over the whole root (`**/*.py`) matched a stage's own generated output: its code "changed" as it ran,
    /// KDG3020 in every build, and it never settled (a review). A wildcard does not reach into the folders stages write
    /// (the runs folder, each dataset's cache dir); code elsewhere still counts.
    /// </summary>
    [Fact]
    public async Task ACodeGlobOverTheRoot_DoesNotTakeAStagesOwnOutputsAsCode_AndSettles()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            defaults: { code: ['**/*.py'] }
            stages:
              a: { command: 'echo "X = 1" > gen.py; mkdir -p {cache_dir}; echo "Y = 2" > {cache_dir}/made.py', outputs: [gen.py, '{cache_dir}/made.py'] }
            """, "d1");
        p.Dir.Write("src/train.py", "print(1)\n");
        StageDeclaration[] a = [new("a", [])];
        var log = new RecordingLog();

        Assert.Equal([Outcome.Ran], (await new BuildEngine().RunAsync(p.Request(a), log, default)).Stages.Select(x => x.Outcome));
        Assert.Equal([Outcome.UpToDate], (await new BuildEngine().RunAsync(p.Request(a), log, default)).Stages.Select(x => x.Outcome));
        Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun);
        p.Dir.Write("src/train.py", "print(2)\n");
        Assert.Equal([Outcome.Ran], (await new BuildEngine().RunAsync(p.Request(a), new RecordingLog(), default)).Stages.Select(x => x.Outcome));
    }

    /// <summary>
    /// Another build reruns the upstream while the stage runs and writes the same bytes again (an early cutoff), or
    /// fails and puts the old ones back: the outputs digest is the same at the end, yet the stage read the upstream's
    /// outputs while they were aside. Its result ("none") was committed and stayed up to date (a review). The
    /// upstream's generation, noted as the stage starts and asked again as it ends, tells.
    /// </summary>
    [Theory]
    [InlineData("echo v1 > out.txt")]
    [InlineData("exit 3")]
    public async Task AnUpstreamRerunByAnotherBuildWhileAStageRan_EvenToTheSameBytesOrRolledBack_DiscardsThatRun_Kdg3017(string rerun)
    {
        static string Yaml(string aCommand, int n) => $$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            defaults: { retries: 0 }
            stages:
              a: { command: '{{aCommand}}', outputs: [out.txt] }
              b:
                command: 'touch {root}/b-started; until [ -e {root}/read ]; do sleep 0.05; done; (cat {upstream.a}/out.txt || echo none) > out.txt; touch {root}/b-read; until [ -e {root}/end ]; do sleep 0.05; done'
                params: { n: {{n}} }
                outputs: [out.txt]
            """;
        using var p = new TestPipeline(Yaml("echo v1 > out.txt", 1), "d1");
        File.WriteAllText(p.Dir["read"], "");
        File.WriteAllText(p.Dir["end"], "");
        StageDeclaration[] both = [new("a", []), new("b", ["a"])];
        Assert.True((await new BuildEngine().RunAsync(p.Request(both), new RecordingLog(), default)).Succeeded);
        File.Delete(p.Dir["read"]);
        File.Delete(p.Dir["end"]);
        File.Delete(p.Dir["b-started"]);

        p.WriteConfig(Yaml("echo v1 > out.txt", 2)); // b reruns
        var log = new RecordingLog();
        var first = new BuildEngine().RunAsync(p.Request(both), log, default);
        await Eventually.UntilAsync(() => File.Exists(p.Dir["b-started"]) || first.IsCompleted, TimeSpan.FromSeconds(30), "b started");
        p.WriteConfig(Yaml($"touch {{root}}/a-started; until [ -e {{root}}/a-go ]; do sleep 0.05; done; {rerun}", 2)); // the other build reruns a
        var other = new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), default);
        await Eventually.UntilAsync(() => File.Exists(p.Dir["a-started"]) || other.IsCompleted, TimeSpan.FromSeconds(30), "a started in the other build");
        File.WriteAllText(p.Dir["read"], ""); // b reads a's outputs now: they are aside
        await Eventually.UntilAsync(() => File.Exists(p.Dir["b-read"]) || first.IsCompleted, TimeSpan.FromSeconds(30), "b read");
        File.WriteAllText(p.Dir["a-go"], "");
        var otherReport = await other;
        File.WriteAllText(p.Dir["end"], "");
        var r = await first;

        Assert.Equal(rerun == "exit 3" ? Outcome.Failed : Outcome.Ran, otherReport.Stages.Single().Outcome);
        Assert.Equal("v1\n", File.ReadAllText(p.Dir["runs/d1/a/out.txt"])); // a's bytes are what they were
        Assert.Equal(Outcome.Failed, r.Stages.Single(x => x.Stage == "b").Outcome);
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.UpstreamChangedDuringRun && d.Message.Contains("upstream a", StringComparison.Ordinal));
        Assert.Equal("v1\n", File.ReadAllText(p.Dir["runs/d1/b/out.txt"])); // the previous result, not "none"
    }

    /// <summary>
    /// An upstream's `outputs:` reordered, or one moved to `optional_outputs:`, leaves it up to date
    /// with the digest of its old list; a downstream that reruns must not take the new list's digest
    /// for a change during its run (a false KDG3017 on every rerun, found by review). A cache restore
    /// lists the outputs as declared, so it gives a run's digest.
    /// </summary>
    [Theory]
    [InlineData("outputs: [two.txt, one.txt]")]
    [InlineData("outputs: [one.txt], optional_outputs: [two.txt]")]
    public async Task AnUpstreamsOutputListReordered_IsNoChangeDuringADownstreamRun(string edited)
    {
        const string config = """
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'echo 1 > one.txt; echo 2 > two.txt', outputs: [one.txt, two.txt] }
              b: { command: 'cat {upstream.a}/one.txt {upstream.a}/two.txt > out.txt', params: { k: 1 }, outputs: [out.txt] }
            """;
        using var p = new TestPipeline(config, "d1");
        StageDeclaration[] graph = [new("a", []), new("b", ["a"])];
        Assert.True((await new BuildEngine().RunAsync(p.Request(graph), new RecordingLog(), default)).Succeeded);
        p.WriteConfig(config.Replace("outputs: [one.txt, two.txt]", edited).Replace("k: 1", "k: 2"));
        var log = new RecordingLog();

        var r = await new BuildEngine().RunAsync(p.Request(graph), log, default);

        Assert.True(r.Succeeded, string.Join("\n", log.Items.Select(d => d.Message)));
        Assert.Equal([Outcome.UpToDate, Outcome.Ran], r.Stages.Select(x => x.Outcome));
        Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.UpstreamChangedDuringRun);
    }

    /// <summary>
    /// A restore after an `outputs:` reorder (from an entry made under the old order) gives the
    /// digest a run from scratch under the new order gives: the downstream's fingerprint does not
    /// depend on whether its upstream ran or was restored (found by review).
    /// </summary>
    [Fact]
    public async Task ARestoreAfterAnOutputReorder_GivesTheDigestOfARunFromScratch()
    {
        const string config = """
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'echo {params.k} > one.txt; echo 2 > two.txt', params: { k: 1 }, outputs: [one.txt, two.txt] }
            """;
        var reordered = config.Replace("outputs: [one.txt, two.txt]", "outputs: [two.txt, one.txt]");
        StageDeclaration[] graph = [new("a", [])];
        using var p = new TestPipeline(config, "d1");
        await new BuildEngine().RunAsync(p.Request(graph), new RecordingLog(), default); // cached under the old order
        p.WriteConfig(reordered.Replace("k: 1", "k: 2"));
        await new BuildEngine().RunAsync(p.Request(graph), new RecordingLog(), default);
        p.WriteConfig(reordered);
        var restored = await new BuildEngine().RunAsync(p.Request(graph), new RecordingLog(), default);
        using var scratch = new TestPipeline(reordered, "d1");
        await new BuildEngine().RunAsync(scratch.Request(graph), new RecordingLog(), default);

        Assert.Equal(Outcome.Restored, Assert.Single(restored.Stages).Outcome);
        Assert.Equal(Digest(scratch), Digest(p));

        static string Digest(TestPipeline t) => ManifestStore.Read(t.Dir[$"runs/d1/a/{StageInstance.ManifestFileName}"]).Manifest!.OutputsDigest;
    }

    /// <summary>
    /// A declared input edited while its stage runs (here the stage plays the editor: a checkout, a
    /// second terminal): the stage may have read either version, so its result is up to date for
    /// neither: not for the new content (it may have read the old), and not, once the edit is undone,
    /// for the old (it may have read the new: recorded under the old fingerprint, that undo made it a
    /// stale result reported as current). Its output serves the build; nothing is cached.
    /// </summary>
    [Fact]
    public async Task AnInputChangedWhileAStageRan_IsUpToDateForNeitherVersion_Kdg3020()
    {
        using var p = OneStage("command: 'echo new > {root}/data/x.txt; cat {root}/data/x.txt > out.txt', inputs: ['data/x.txt'], outputs: [out.txt]");
        p.Dir.Write("data/x.txt", "old\n");
        var log = new RecordingLog();

        var r = await Run(p, log);

        Assert.Equal([Outcome.Ran], r.Stages.Select(x => x.Outcome));
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun && d.Severity == Severity.Warning && d.Message.Contains("input data/x.txt", StringComparison.Ordinal));
        Assert.Equal("new\n", File.ReadAllText(p.Dir["runs/d1/a/out.txt"]));
        var next = (await Explain(p)).Stages.Single();
        Assert.Equal(Outcome.WouldRun, next.Outcome);
        Assert.Equal(["input file data/x.txt changed after its last run's fingerprint was taken (KDG3020)"], next.Reasons);
        p.Dir.Write("data/x.txt", "old\n");
        Assert.Equal([Outcome.WouldRun], (await Explain(p)).Stages.Select(x => x.Outcome)); // not WouldRestore either: not cached
    }

    /// <summary>
    /// An edit undone before the run ends (a branch checked out and back, `git stash` and `stash pop`
    /// while a job ran): the content is as the fingerprint has it, but the stage may have read the
    /// edit. The file's identity tells (found by review: content alone did not).
    /// </summary>
    [Fact]
    public async Task AnInputEditedAndRestoredWhileAStageRan_IsStillKdg3020()
    {
        using var p = OneStage("command: 'echo newer > {root}/data/x.txt; cat {root}/data/x.txt > out.txt; echo old > {root}/data/x.txt', inputs: ['data/x.txt'], code: ['data/*.py'], outputs: [out.txt]");
        p.Dir.Write("data/x.txt", "old\n");
        p.Dir.Write("data/m.py", "pass\n");
        var log = new RecordingLog();

        await Run(p, log);

        Assert.Equal("old\n", File.ReadAllText(p.Dir["data/x.txt"]));
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun && d.Message.Contains("input data/x.txt (rewritten)", StringComparison.Ordinal));
        Assert.Equal([Outcome.WouldRun], (await Explain(p)).Stages.Select(x => x.Outcome));
    }

    /// <summary>
    /// An edit undone with its old mtime put back (cp -p of a backup over the file: the same inode,
    /// size and mtime) leaves only the file's ctime changed: with trust_ctime: true that counts, and
    /// says so (a review found it could not); by default it does not, since a chmod, chown or hard link
    /// changes ctimes too and would rerun the stage at every build (a second review).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnInputEditedAndRestoredWithItsMtime_IsKdg3020ByItsCtime_UnlessCtimeIsNotTrusted(bool trusted)
    {
        using var p = OneStage("command: 'cp -p {root}/data/x.txt {root}/bak; echo new > {root}/data/x.txt; cat {root}/data/x.txt > out.txt; cp -p {root}/bak {root}/data/x.txt', inputs: ['data/x.txt'], outputs: [out.txt]",
            trusted ? "\ntrust_ctime: true" : "");
        p.Dir.Write("data/x.txt", "old\n");
        File.SetLastWriteTimeUtc(p.Dir["data/x.txt"], DateTime.UtcNow.AddHours(-1));
        var id = KdGat.Core.Hashing.FileIdentity.Of(p.Dir["data/x.txt"]);
        var log = new RecordingLog();

        await Run(p, log);

        var after = KdGat.Core.Hashing.FileIdentity.Of(p.Dir["data/x.txt"]);
        Assert.Equal(id!.Value with { CtimeNs = 0 }, after!.Value with { CtimeNs = 0 }); // only the ctime tells
        Assert.Equal("new\n", File.ReadAllText(p.Dir["runs/d1/a/out.txt"]));
        if (trusted)
        {
            Assert.Contains(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun && d.Message.Contains("input data/x.txt (only its ctime)", StringComparison.Ordinal) && d.Message.Contains("remove trust_ctime", StringComparison.Ordinal));
            Assert.Equal([Outcome.WouldRun], (await Explain(p)).Stages.Select(x => x.Outcome));
        }
        else
        {
            Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun);
            Assert.Equal([Outcome.UpToDate], (await Explain(p)).Stages.Select(x => x.Outcome)); // the blind spot the default accepts
        }
    }

    /// <summary>
    /// -p:Wait=false: the job ran while no build watched, and the edit it read was undone before the
    /// build that collects it started. The identities noted at submission travel in the journal
    /// (found by review: the collecting build had only what it saw itself).
    /// </summary>
    [Fact]
    public async Task AnInputEditedAndRestoredBeforeTheCollectingBuild_IsKdg3020()
    {
        using var p = OneStage("command: 'echo new > {root}/data/x.txt; cat {root}/data/x.txt > out.txt', inputs: ['data/x.txt'], outputs: [out.txt]");
        p.Dir.Write("data/x.txt", "old\n");
        var batch = new UnwatchedBatch();
        var engine = new BuildEngine((_, _) => batch);

        var submitted = await engine.RunAsync(p.Request([new("a", [])]), new RecordingLog(), default);
        p.Dir.Write("data/x.txt", "old\n");
        var log = new RecordingLog();
        var collected = await new BuildEngine((_, _) => batch).RunAsync(p.Request([new("a", [])]), log, default);

        Assert.Equal([Outcome.Submitted], submitted.Stages.Select(x => x.Outcome));
        Assert.Equal([Outcome.Ran], collected.Stages.Select(x => x.Outcome));
        Assert.Equal("new\n", File.ReadAllText(p.Dir["runs/d1/a/out.txt"]));
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun && d.Message.Contains("input data/x.txt (rewritten)", StringComparison.Ordinal));
        Assert.Equal([Outcome.WouldRun], (await Explain(p)).Stages.Select(x => x.Outcome));
    }

    /// <summary>
    /// WAIT=false in the environment (MSBuild's Wait, KDG1225): a local stage below the job left running was
    /// skipped "(-p:Wait=false)", a -p: never passed (the fxmsgs brief). It names the variable, as KDG4006 does.
    /// </summary>
    [Fact]
    public async Task ALocalStageBelowAJobLeftRunning_NamesWhereWaitFalseCameFrom()
    {
        using var p = BatchSchedulingTests.LocalStageBelowAJob("echo a > out.txt");
        var request = p.Request([new("a", []), new("c", ["a"])]) with { Wait = false, FromEnvironment = [new("Wait", "WAIT", "false")] };

        var r = await new BuildEngine((_, _) => new UnwatchedBatch()).RunAsync(request, new RecordingLog(), default);

        var c = r.Stages.Single(x => x.Stage == "c");
        Assert.Equal(Outcome.Skipped, c.Outcome);
        var reason = Assert.Single(c.Reasons);
        Assert.Contains("(WAIT=false in the environment (the property Wait; no -p:Wait))", reason);
        Assert.DoesNotContain("-p:Wait=false", reason);
    }

    /// <summary>Another file of the tools folder rewritten while the stage ran: not the program it runs, so no KDG3020 (a review: any rewrite in the folder counted).</summary>
    [Fact]
    public async Task AnotherToolsFileRewrittenWhileAStageRan_IsNoKdg3020()
    {
        using var p = OneStage("command: 'cat {tools}/Prog.dll > out.txt; cp {root}/tools/Other.dll {root}/t; rm {root}/tools/Other.dll; mv {root}/t {root}/tools/Other.dll', outputs: [out.txt]");
        p.Dir.Write("tools/Prog.dll", "v1\n");
        p.Dir.Write("tools/Prog.deps.json", "{\"targets\": {}}\n");
        p.Dir.Write("tools/Other.dll", "other\n");
        var log = new RecordingLog();

        await Run(p, log);

        Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun);
        Assert.Equal([Outcome.UpToDate], (await Explain(p)).Stages.Select(x => x.Outcome));
    }

    /// <summary>The same for the tools: rebuilt while the job waited, and again from the edit undone before the collecting build (a review).</summary>
    [Fact]
    public async Task ToolsRewrittenWithTheSameBytesBeforeTheCollectingBuild_IsKdg3020()
    {
        using var p = OneStage("command: 'cat {tools}/Prog.dll > out.txt', outputs: [out.txt]");
        p.Dir.Write("tools/Prog.dll", "v1\n");
        var batch = new UnwatchedBatch();
        var request = p.Request([new("a", [])]) with { ToolsDir = p.ToolsDir + "/" }; // as MSBuild passes it (the walk of "tools/" saw no file)

        var submitted = await new BuildEngine((_, _) => batch).RunAsync(request, new RecordingLog(), default);
        File.Delete(p.Dir["tools/Prog.dll"]);
        p.Dir.Write("tools/Prog.dll", "v1\n");
        var log = new RecordingLog();
        var collected = await new BuildEngine((_, _) => batch).RunAsync(request, log, default);

        Assert.Equal([Outcome.Submitted], submitted.Stages.Select(x => x.Outcome));
        Assert.Equal([Outcome.Ran], collected.Stages.Select(x => x.Outcome));
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun && d.Message.Contains("{tools}", StringComparison.Ordinal));
        Assert.Equal([Outcome.WouldRun], (await Explain(p)).Stages.Select(x => x.Outcome));
    }

    /// <summary>
    /// A job cancelled from outside (scancel) while it ran: its KDG3004 says so, but the KDG3010 summary
    /// named the stage with its .err (only slurmstepd's "CANCELLED AT" line) and said to fix the
    /// failures; it now gives the cancel, as for a pending job cancelled the same way (no log).
    /// </summary>
    [Fact]
    public async Task AJobCancelledOutside_IsSummarizedByTheCancel_NotItsLog()
    {
        using var p = OneStage("command: 'echo x > out.txt', outputs: [out.txt]");
        var log = new RecordingLog();

        var r = await new BuildEngine((_, _) => new CancelledOutside()).RunAsync(p.Request([new("a", [])]), log, default);

        Assert.False(r.Succeeded);
        var summary = Assert.Single(log.Items, d => d.Code == ErrorCodes.BuildFailed);
        Assert.Contains("cancelled outside this build (scancel by uid 1000)", summary.Message);
        Assert.DoesNotContain(".err", summary.Message);
        Assert.DoesNotContain("fix the failures", summary.Message);
    }

    /// <summary>
    /// An upstream and its downstream both retried (NODE_FAIL): the downstream's retry was chained
    /// (afterok) on the upstream's first job, ended, so it started at once while the upstream's retry
    /// ran with its outputs aside, and failed (KDG3001, then KDG3010 blaming the stage). It now waits
    /// for the upstream's final result.
    /// </summary>
    [Fact]
    public async Task ARetryOfAChainedStage_WaitsForTheUpstreamsRetry_NotItsFirstJob()
    {
        using var p = ChainedPair();
        var batch = new RetriedTwice();

        var r = await new BuildEngine((_, _) => batch).RunAsync(p.Request([new("u", []), new("r", ["u"])]), new RecordingLog(), default);

        Assert.Equal([Outcome.Ran, Outcome.Ran], r.Stages.Select(x => x.Outcome));
        Assert.True(batch.UpstreamDoneWhenRetried, $"r's retry was submitted before u's retry ended (afterok {string.Join(",", batch.RetryAfterOk)})");
    }

    /// <summary>
    /// The other half of the test above: the upstream's retry fails for good. The downstream's retry is
    /// then not submitted at all (it would read no upstream outputs), and the build says it was skipped
    /// for that upstream, not that the stage failed.
    /// </summary>
    [Fact]
    public async Task ARetryOfAChainedStage_WhoseUpstreamFinallyFails_IsSkippedAndSaidSo()
    {
        using var p = ChainedPair();
        var batch = new UpstreamRetryFails();
        var log = new RecordingLog();

        var r = await new BuildEngine((_, _) => batch).RunAsync(p.Request([new("u", []), new("r", ["u"])]), log, default);

        Assert.False(r.Succeeded);
        Assert.Equal([Outcome.Failed, Outcome.Skipped], r.Stages.Select(x => x.Outcome));
        // r's retry never submitted (u's retry may go in before or after r's first job: the order is the thread pool's)
        Assert.Equal(["r#1", "u#1", "u#2"], batch.Submitted.Order(StringComparer.Ordinal));
        var skipped = Assert.Single(log.Items, d => d.Code == ErrorCodes.StageSkipped);
        Assert.Contains("d1/r skipped", skipped.Message);
        Assert.Contains("upstream u failed, so it was not retried", skipped.Message);
        var summary = Assert.Single(log.Items, d => d.Code == ErrorCodes.BuildFailed);
        Assert.Contains("Skipped (or cancelled) because of it: d1/r", summary.Message);
        Assert.False(File.Exists(p.Dir["runs/d1/r/out.txt"]));
    }

    /// <summary>Each stage's first job ends NODE_FAIL; u's retry (once r's first job is in) fails with exit code 1, which is not retried.</summary>
    private sealed class UpstreamRetryFails : FakeBatch
    {
        private readonly TaskCompletionSource _downstreamSubmitted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _ids;
        public readonly List<string> Submitted = [];
        public override async Task<KdGat.Core.Execution.ExecutionResult> RunAsync(KdGat.Core.Execution.StageJob job, CancellationToken cancel)
        {
            var h = KdGat.Core.Execution.AttemptHandle.BatchJob($"{Interlocked.Increment(ref _ids)}");
            lock (Submitted) Submitted.Add($"{job.Instance.Name}#{job.Attempt}");
            job.OnStarted?.Invoke(h);
            if (job.Instance.Name == "r") _downstreamSubmitted.TrySetResult();
            if (job.Attempt == 1) return new() { State = KdGat.Core.Execution.ExecState.NodeFail, Handle = h, Started = DateTimeOffset.UtcNow, Finished = DateTimeOffset.UtcNow, Detail = "node failure" };
            await Task.WhenAny(_downstreamSubmitted.Task, Task.Delay(TimeSpan.FromSeconds(3), cancel));
            return new() { State = KdGat.Core.Execution.ExecState.Failed, ExitCode = 1, Handle = h, Started = DateTimeOffset.UtcNow, Finished = DateTimeOffset.UtcNow, Detail = "exit code 1" };
        }
    }

    /// <summary>A batch system of the tests' own (attempts handed over at submission, chained afterok): each says what its jobs do.</summary>
    private abstract class FakeBatch : KdGat.Core.Execution.IStageExecutor
    {
        public string Name => "fake-batch";
        public int MaxParallel => 100;
        public bool SubmitsAhead => true;
        public abstract Task<KdGat.Core.Execution.ExecutionResult> RunAsync(KdGat.Core.Execution.StageJob job, CancellationToken cancel);
        public virtual Task<KdGat.Core.Execution.AttemptHandle?> FindSubmittedAsync(string attemptId) => Task.FromResult<KdGat.Core.Execution.AttemptHandle?>(null);
    }

    /// <summary>u, and r reading u's output from u's run dir.</summary>
    private static TestPipeline ChainedPair() => new("""
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        stages:
          u: { command: 'echo w > weights.txt', outputs: [weights.txt] }
          r: { command: 'cat {root}/runs/d1/u/weights.txt > out.txt', outputs: [out.txt] }
        """, "d1");

    /// <summary>Each stage's first job ends NODE_FAIL; u's retry takes up to 3 s, and says whether r's retry came after it.</summary>
    private sealed class RetriedTwice : FakeBatch
    {
        private readonly KdGat.Core.Execution.Local.LocalExecutor _local = new(2);
        private readonly TaskCompletionSource _downstreamRetried = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _ids;
        private volatile bool _upstreamDone;
        public bool UpstreamDoneWhenRetried;
        public IReadOnlyList<string> RetryAfterOk = [];
        public override async Task<KdGat.Core.Execution.ExecutionResult> RunAsync(KdGat.Core.Execution.StageJob job, CancellationToken cancel)
        {
            var h = KdGat.Core.Execution.AttemptHandle.BatchJob($"{Interlocked.Increment(ref _ids)}");
            job.OnStarted?.Invoke(h);
            if (job.Attempt == 1) return new() { State = KdGat.Core.Execution.ExecState.NodeFail, Handle = h, Started = DateTimeOffset.UtcNow, Finished = DateTimeOffset.UtcNow, Detail = "node failure" };
            if (job.Instance.Name == "r")
            {
                UpstreamDoneWhenRetried = _upstreamDone;
                RetryAfterOk = job.AfterOk;
                _downstreamRetried.TrySetResult();
            }
            else await Task.WhenAny(_downstreamRetried.Task, Task.Delay(TimeSpan.FromSeconds(3)));
            var done = await _local.RunAsync(job with { OnStarted = null }, cancel);
            if (job.Instance.Name == "u") _upstreamDone = true;
            return done with { Handle = h };
        }
    }

    /// <summary>A batch system whose job is cancelled by someone else while it runs; its .err holds slurmstepd's line.</summary>
    private sealed class CancelledOutside : FakeBatch
    {
        public override Task<KdGat.Core.Execution.ExecutionResult> RunAsync(KdGat.Core.Execution.StageJob job, CancellationToken cancel)
        {
            var h = KdGat.Core.Execution.AttemptHandle.BatchJob("77");
            job.OnStarted?.Invoke(h);
            Directory.CreateDirectory(Path.GetDirectoryName(job.StderrPath)!);
            File.WriteAllText(job.StderrPath, "slurmstepd: error: *** JOB 77 ON vm CANCELLED AT 2026-12-07T12:00:00 ***\n");
            return Task.FromResult(new KdGat.Core.Execution.ExecutionResult
            {
                State = KdGat.Core.Execution.ExecState.Cancelled, CancelledOutside = true, Handle = h, Started = DateTimeOffset.UtcNow, Finished = DateTimeOffset.UtcNow,
                Detail = "job 77 was cancelled outside this build (scancel by uid 1000), elapsed 3 s",
            });
        }
    }

    /// <summary>A batch system whose job runs at submission while the build returns (-p:Wait=false); the next build collects it.</summary>
    private sealed class UnwatchedBatch : FakeBatch
    {
        private readonly KdGat.Core.Execution.Local.LocalExecutor _local = new(2);
        private static readonly KdGat.Core.Execution.AttemptHandle Job = KdGat.Core.Execution.AttemptHandle.BatchJob("77");
        public override async Task<KdGat.Core.Execution.ExecutionResult> RunAsync(KdGat.Core.Execution.StageJob job, CancellationToken cancel)
        {
            if (job.AttachTo is { } h)
                return new() { State = KdGat.Core.Execution.ExecState.Completed, Handle = h, Started = DateTimeOffset.UtcNow, Finished = DateTimeOffset.UtcNow };
            job.OnStarted?.Invoke(Job);
            await _local.RunAsync(job with { OnStarted = null }, cancel);
            return new() { State = KdGat.Core.Execution.ExecState.LeftRunning, Handle = Job };
        }
        public override Task<KdGat.Core.Execution.AttemptHandle?> FindSubmittedAsync(string attemptId) => Task.FromResult<KdGat.Core.Execution.AttemptHandle?>(Job);
    }

    /// <summary>
    /// The same for the tools a command runs ({tools}): another build's bootstrap may replace them
    /// while a stage of this one runs (two builds of a clone after a source edit; here the stage does it).
    /// </summary>
    [Fact]
    public async Task ToolsReplacedWhileAStageRan_AreUpToDateForNeitherVersion_Kdg3020()
    {
        using var p = OneStage("command: 'echo v2 > {tools}/Prog.dll; cat {tools}/Prog.dll > out.txt', outputs: [out.txt]");
        p.Dir.Write("tools/Prog.dll", "v1\n");
        var log = new RecordingLog();

        var r = await Run(p, log);

        Assert.Equal([Outcome.Ran], r.Stages.Select(x => x.Outcome));
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun && d.Message.Contains("{tools}", StringComparison.Ordinal));
        p.Dir.Write("tools/Prog.dll", "v1\n");
        var next = (await Explain(p)).Stages.Single();
        Assert.Equal(Outcome.WouldRun, next.Outcome);
        Assert.Equal(["the tools its command runs ({tools}) changed after its last run's fingerprint was taken (KDG3020)"], next.Reasons);
    }

    /// <summary>
    /// Tools rebuilt from an edit and again from the edit undone while a job waited: their content is
    /// back as the fingerprint has it, but the stage ran the edited program (a review: collected as
    /// current, and cached). Their identities tell, as an input's do.
    /// </summary>
    [Fact]
    public async Task ToolsRewrittenWithTheSameBytesWhileAStageRan_IsStillKdg3020()
    {
        using var p = OneStage("command: 'echo v2 > {tools}/Prog.dll; cat {tools}/Prog.dll > out.txt; rm {tools}/Prog.dll; echo v1 > {tools}/Prog.dll', outputs: [out.txt]");
        p.Dir.Write("tools/Prog.dll", "v1\n");
        var log = new RecordingLog();

        await Run(p, log);

        Assert.Equal("v1\n", File.ReadAllText(p.Dir["tools/Prog.dll"]));
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun && d.Message.Contains("{tools}", StringComparison.Ordinal));
        Assert.Equal([Outcome.WouldRun], (await Explain(p)).Stages.Select(x => x.Outcome));
    }

    /// <summary>An attempt that fails (here: no output) keeps nothing, so it says nothing of outputs kept (found by review).</summary>
    [Fact]
    public async Task AnInputChangedByAFailingAttempt_IsKdg3002Only()
    {
        using var p = OneStage("command: 'echo new > {root}/data/x.txt', inputs: ['data/x.txt'], outputs: [out.txt]");
        p.Dir.Write("data/x.txt", "old\n");
        var log = new RecordingLog();

        var r = await Run(p, log);

        Assert.Equal([Outcome.Failed], r.Stages.Select(x => x.Outcome));
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.OutputMissing);
        Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun);
    }

    /// <summary>A stage that leaves what it reads alone: no warning, up to date next time (the check finds nothing to mark).</summary>
    [Fact]
    public async Task InputsAndToolsUnchangedDuringARun_NoKdg3020()
    {
        using var p = OneStage("command: 'cat {root}/data/x.txt {tools}/Prog.dll > out.txt', inputs: ['data/x.txt'], code: ['data/*.py'], outputs: [out.txt]");
        p.Dir.Write("data/x.txt", "old\n");
        p.Dir.Write("data/m.py", "pass\n");
        p.Dir.Write("tools/Prog.dll", "v1\n");
        var log = new RecordingLog();

        await Run(p, log);

        Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun);
        Assert.Equal([Outcome.UpToDate], (await Explain(p)).Stages.Select(x => x.Outcome));
    }

    /// <summary>
    /// What changes a file's identity but not what the stage reads is no KDG3020 (found by review):
    /// a file beside a glob input that it does not match, a chmod (a permissions cron job, a stage's
    /// own `chmod +x`), a hard link to an input (another workspace, the output store linking an
    /// upstream's output), made or made and removed again; unless trust_ctime: true, which counts them.
    /// </summary>
    [Theory]
    [InlineData("echo log >> {root}/data/side.log", "'data/*.csv'")]
    [InlineData("mkdir -p {root}/data/.cache && echo idx > {root}/data/.cache/x.idx", "'data/*.csv'")]
    [InlineData("chmod 644 {root}/data/x.csv", "'data/*.csv'")]
    [InlineData("ln -f {root}/data/x.csv {root}/elsewhere.csv", "data")]
    [InlineData("ln -f {root}/data/x.csv {root}/elsewhere.csv; rm {root}/elsewhere.csv", "data")]
    public async Task WhatDoesNotChangeWhatAStageReads_IsNoKdg3020(string sideEffect, string input)
    {
        using var p = OneStage($"command: '{sideEffect}; cat {{root}}/data/x.csv > out.txt', inputs: [{input}], outputs: [out.txt]");
        p.Dir.Write("data/x.csv", "1,2\n");
        p.Dir.Write("data/side.log", "start\n");
        p.Dir.Write("data/.cache/x.idx", "idx\n");
        File.SetUnixFileMode(p.Dir["data/x.csv"], UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var log = new RecordingLog();

        await Run(p, log);

        Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun);
        Assert.Equal([Outcome.UpToDate], (await Explain(p)).Stages.Select(x => x.Outcome));
    }

    /// <summary>An input that reads an upstream's outputs through a glob: the output store links and unlinks those files (their ctime moves), which is KDG3017's to judge.</summary>
    [Fact]
    public async Task AGlobInputOverAnUpstreamsOutputs_RelinkedMeanwhile_IsNoKdg3020()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              u: { command: 'echo w > weights.txt', outputs: [weights.txt] }
              r: { command: 'ln -f {root}/runs/d1/u/weights.txt {root}/store-link; cat {root}/runs/d1/u/weights.txt > out.txt', inputs: ['runs/d1/u/*.txt'], outputs: [out.txt] }
            """, "d1");
        var log = new RecordingLog();

        await new BuildEngine().RunAsync(p.Request([new("u", []), new("r", ["u"])]), log, default);

        Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.InputChangedDuringRun);
    }

    /// <summary>
    /// Explain of a stage whose upstream runs first names its own changes too (here its code file), as
    /// the build then does: it said only "upstream u is not up to date", and a user read that the stage
    /// runs only if u's outputs change (a first-contact review). One that has none says only that.
    /// </summary>
    [Fact]
    public async Task Explain_OfAStageBehindARerunningUpstream_NamesItsOwnChangesToo()
    {
        const string Yaml = """
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              u: { command: 'echo U > w.txt', outputs: [w.txt] }
              r: { command: 'cat {upstream.u}/w.txt > out.txt', code: ['r.py'], outputs: [out.txt] }
              q: { command: 'cat {upstream.u}/w.txt > out.txt', outputs: [out.txt] }
            """;
        using var p = new TestPipeline(Yaml, "d1");
        p.Dir.Write("r.py", "v1\n");
        StageDeclaration[] stages = [new("u", []), new("r", ["u"]), new("q", ["u"])];
        Assert.True((await new BuildEngine().RunAsync(p.Request(stages), new RecordingLog(), default)).Succeeded);
        p.WriteConfig(Yaml.Replace("echo U", "echo V"));
        p.Dir.Write("r.py", "v2\n");

        var explained = await new BuildEngine().RunAsync(p.Request(stages) with { Mode = BuildMode.Explain }, new RecordingLog(), default);

        var r = explained.Stages.Single(x => x.Stage == "r");
        Assert.Equal(Outcome.WouldRun, r.Outcome);
        Assert.Equal(["code file changed (r.py)", "upstream u is not up to date"], r.Reasons);
        Assert.Equal(["upstream u is not up to date"], explained.Stages.Single(x => x.Stage == "q").Reasons);
    }

    /// <summary>A pipeline of one stage 'a' ("command: ..., outputs: [...]") for dataset d1.</summary>
    private static TestPipeline OneStage(string stage, string top = "") => new($$"""
        datasets: [d1]{{top}}
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        stages:
          a: { {{stage}} }
        """, "d1");

    private static Task<BuildReport> Run(TestPipeline p, IBuildLog log) => new BuildEngine().RunAsync(p.Request([new("a", [])]), log, default);

    private static Task<BuildReport> Explain(TestPipeline p) =>
        new BuildEngine().RunAsync(p.Request([new("a", [])]) with { Mode = BuildMode.Explain }, new RecordingLog(), default);

    [Fact]
    public async Task OnlyStage_BuildsItAndItsUpstreamsOnly()
    {
        var (r, _) = await Build(onlyStage: "dqn_large_fusion");

        Assert.Equal(["dqn_large_fusion", "gat_large_curriculum", "preprocess", "vgae_large_autoencoder"], With(r, Outcome.Ran));
        Assert.Equal(4, r.Stages.Count);
    }

    [Fact]
    public async Task InterruptedAttemptFromACrashedBuild_IsRecoveredWithKdg2003()
    {
        await Build();
        var s = _p.Instances(KdGatGraph.Stages).Single(i => i.Name == "eval_large_evaluation");
        var guard = new KdGat.Core.Execution.OutputGuard(s);
        guard.Begin("crashed-1", "crashed-d1-eval_large_evaluation-1", "crashed");
        File.WriteAllText(s.Outputs[0], "half written");

        var (r, log) = await Build();

        Assert.True(r.Succeeded);
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.RecoveredAttempt);
        Assert.Equal(13, With(r, Outcome.UpToDate).Length); // the previous result was restored, not the half-written one
        Assert.StartsWith("eval_large_evaluation 1\n", Out("eval_large_evaluation"));
    }

    [Fact]
    public async Task Cancellation_StopsTheBuild_CancelledStageHasNoManifest()
    {
        _p.WriteConfig(KdGatGraph.Yaml(commandOverride: new Dictionary<string, string> { ["vgae_large_autoencoder"] = "touch ../started; sleep 60; echo x > out.txt" }));
        using var cts = new CancellationTokenSource();
        var started = _p.Dir["runs/d1/started"];

        var build = Build(cancel: cts.Token);
        await Eventually.UntilAsync(() => File.Exists(started), TimeSpan.FromSeconds(30), "the long stage started");
        cts.Cancel();
        var (r, log) = await build.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.False(r.Succeeded);
        var cancelled = r.Stages.Single(s => s.Stage == "vgae_large_autoencoder");
        Assert.Equal(Outcome.Cancelled, cancelled.Outcome);
        Assert.False(File.Exists(ManifestPath("vgae_large_autoencoder")));
        Assert.False(File.Exists(_p.Dir["runs/d1/vgae_large_autoencoder/out.txt"]));
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.StageCancelled);
        Assert.All(r.Stages.Where(s => s.Stage.Contains("large") || s.Stage.Contains("_kd")).Where(s => s.Stage != "vgae_large_autoencoder"),
            s => Assert.Contains(s.Outcome, new[] { Outcome.Skipped, Outcome.Cancelled }));
        Assert.All(r.Stages.Where(s => s.Outcome is Outcome.Skipped or Outcome.Cancelled), s => Assert.False(File.Exists(ManifestPath(s.Stage)), s.Stage));
        // The stopped attempt is an error at its stage, the cancel one line; what it kept from starting is no failure.
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.StageCancelled && d.File is not null && d.Message.Contains("vgae_large_autoencoder"));
        Assert.Single(log.Items, d => d.Code == ErrorCodes.StageCancelled && d.File is null && d.Message.Contains("vgae_large_autoencoder"));
        Assert.DoesNotContain(log.Items, d => d.Code is ErrorCodes.StageFailed or ErrorCodes.BuildFailed or ErrorCodes.StageSkipped);

        // The next build runs it (and what depends on it); the rest is up to date or runs now.
        _p.WriteConfig(KdGatGraph.Yaml());
        var (next, _) = await Build();
        Assert.True(next.Succeeded);
        Assert.Contains("vgae_large_autoencoder", With(next, Outcome.Ran));
    }

    [Fact]
    public async Task AfterACancel_NoQueuedStageStarts()
    {
        // One slot: vgae_large runs, the other branches wait for the slot when the cancel comes.
        _p.WriteConfig(KdGatGraph.Yaml(commandOverride: new Dictionary<string, string> { ["vgae_large_autoencoder"] = "touch ../started; sleep 60; echo x > out.txt" }));
        using var cts = new CancellationTokenSource();
        var log = new RecordingLog();
        var build = new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages, parallel: 1), log, cts.Token);
        await Eventually.UntilAsync(() => File.Exists(_p.Dir["runs/d1/started"]), TimeSpan.FromSeconds(30), "the long stage started");
        cts.Cancel();
        var r = await build.WaitAsync(TimeSpan.FromSeconds(30));

        // Was: each queued stage got the freed slot, started, and was killed at once ("were running and were stopped").
        var stopped = r.Stages.Where(x => x.Outcome == Outcome.Cancelled && x.Attempts > 0).Select(x => x.Stage).ToArray();
        Assert.Equal(["vgae_large_autoencoder"], stopped);
        Assert.All(r.Stages.Where(x => x.Outcome is not (Outcome.Cancelled or Outcome.Skipped)), x => Assert.Equal(Outcome.Ran, x.Outcome)); // before the cancel
    }

    [Fact]
    public async Task AFailedStageWithoutALog_IsSummarizedByItsError_NotAMissingLogPath()
    {
        // As a job sbatch refused, or one SLURM could not launch: no log was written.
        _p.WriteConfig(KdGatGraph.Yaml(commandOverride: new Dictionary<string, string> { ["preprocess"] = "rm -rf logs; exit 3" }));

        var (r, log) = await Build();

        Assert.False(r.Succeeded);
        var summary = Assert.Single(log.Items, d => d.Code == ErrorCodes.BuildFailed);
        Assert.Contains("exit code 3", summary.Message); // was only the path of the log that does not exist
    }

    [Fact]
    public async Task ACancelBeforeTheChecks_BlamesNoStage_OneKdg3004()
    {
        await Build();

        var (r, log) = await Build(cancel: new CancellationToken(canceled: true));

        Assert.False(r.Succeeded);
        Assert.All(r.Stages, s => Assert.Contains(s.Outcome, new[] { Outcome.Cancelled, Outcome.Skipped }));
        // Was: "KDG3001: d1/preprocess cancelled" and "KDG3010: build failed: d1/preprocess" for up-to-date stages.
        Assert.DoesNotContain(log.Items, d => d.Severity == Severity.Error && d.Code != ErrorCodes.StageCancelled);
        var line = Assert.Single(log.Items, d => d.Code == ErrorCodes.StageCancelled);
        Assert.Contains("13 were not started", line.Message);
        Assert.All(KdGatGraph.Names, name => Assert.True(File.Exists(ManifestPath(name)), name)); // results kept
    }

    [Fact]
    public async Task UnknownDataset_IsKdg1102BeforeAnythingRuns()
    {
        var e = await Assert.ThrowsAsync<KdgException>(() =>
            new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages, datasets: "d9"), new RecordingLog(), CancellationToken.None));

        Assert.Equal(ErrorCodes.UnknownDataset, e.Code);
        Assert.True(e.Line > 0, "placed at 'datasets:' in kdgat.yaml");
        Assert.False(Directory.Exists(_p.Dir["runs"]));
    }

    [Fact]
    public async Task MissingRawDataWithoutGenerator_IsKdg1103()
    {
        Directory.Delete(_p.Dir["raw/d1"], recursive: true);

        var e = await Assert.ThrowsAsync<KdgException>(() => Build());

        Assert.Equal(ErrorCodes.RawDataMissing, e.Code);
        // At the 'paths.raw' value (line 4: "  raw: raw/{dataset}"), not just the file (user review).
        Assert.Equal((_p.ConfigFile, 4, 8), (e.File, e.Line, e.Column));
        Assert.Contains("fix 'paths.raw' in kdgat.yaml", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Raw left at its default: KDG1103 points at 'paths' and says the default applies.</summary>
    [Fact]
    public async Task MissingRawDataAtTheDefaultPath_IsKdg1103AtPathsSayingSo()
    {
        _p.WriteConfig(KdGatGraph.Yaml().Replace("  raw: raw/{dataset}\n", "", StringComparison.Ordinal));

        var e = await Assert.ThrowsAsync<KdgException>(() => Build());

        Assert.Equal(ErrorCodes.RawDataMissing, e.Code);
        Assert.Equal((_p.ConfigFile, 2, 1), (e.File, e.Line, e.Column));
        Assert.Contains("it is not set, so the default 'data/automotive/{dataset}' applies", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Ctrl+C while the generator makes a dataset: one KDG3004 line, not an OperationCanceledException's stack trace (found by review).</summary>
    [Fact]
    public async Task ACancelWhileGeneratingRawData_IsKdg3004()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            generator: 'mkdir -p {raw_dir} && echo part > {raw_dir}/x && sleep 30'
            stages:
              a: { command: 'cat {raw_dir}/x > out.txt', inputs: ['{raw_dir}'], outputs: [out.txt] }
            """);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1));

        var e = await Assert.ThrowsAsync<KdgException>(() => new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), cancel.Token));

        Assert.Equal(ErrorCodes.StageCancelled, e.Code);
        Assert.Contains("generating the raw data of dataset 'd1'", e.Message);
        // What it wrote is no dataset: the message said "nothing was changed" and the next build used it (a review).
        Assert.Contains("What it wrote was deleted", e.Message);
        Assert.False(Directory.Exists(p.Dir["raw/d1"]));
    }

    private static TestPipeline GeneratedPipeline(string generator) => new($$"""
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        generator: '{{generator}}'
        stages:
          a: { command: 'cat {raw_dir}/x {raw_dir}/y > out.txt', inputs: ['{raw_dir}'], outputs: [out.txt] }
        """);

    private const string WholeGenerator = "mkdir -p {raw_dir} && echo whole > {raw_dir}/x && echo y > {raw_dir}/y";

    /// <summary>
    /// A generator that fails after writing part of the dataset (a download cut short): KDG1104, and what
    /// it wrote is deleted (the dataset was absent before it ran). The next build took the partial folder
    /// for the dataset and built on it without a word (a review).
    /// </summary>
    [Fact]
    public async Task AGeneratorThatFailsHalfWay_LeavesNoDataset_AndTheNextBuildGeneratesItWhole()
    {
        using var p = GeneratedPipeline("mkdir -p {raw_dir} && echo part > {raw_dir}/x && exit 3");

        var e = await Assert.ThrowsAsync<KdgException>(() => new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), CancellationToken.None));

        Assert.Equal(ErrorCodes.GeneratorFailed, e.Code);
        Assert.Equal((3, 12), (e.Line, e.Column)); // at the 'generator' value in kdgat.yaml
        Assert.Contains("What it wrote was deleted", e.Message);
        Assert.False(Directory.Exists(p.Dir["raw/d1"]));
        Assert.False(File.Exists(p.Dir["raw/.d1.kdgat-generating"]));

        p.WriteConfig(File.ReadAllText(p.ConfigFile).Replace("echo part > {raw_dir}/x && exit 3", "echo whole > {raw_dir}/x && echo y > {raw_dir}/y", StringComparison.Ordinal));
        var result = await new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal("whole\ny\n", File.ReadAllText(p.Dir["runs/d1/a/out.txt"]));
    }

    /// <summary>A raw_dir that is a link to an empty folder elsewhere (scratch) stays that link: a failed run empties the folder it points to.</summary>
    [Fact]
    public async Task AFailedGenerator_IntoALinkedRawDir_KeepsTheLink()
    {
        using var p = GeneratedPipeline("echo part > {raw_dir}/x && exit 3");
        Directory.CreateDirectory(p.Dir["scratch/d1"]);
        Directory.CreateDirectory(p.Dir["raw"]);
        File.CreateSymbolicLink(p.Dir["raw/d1"], p.Dir["scratch/d1"]);

        var e = await Assert.ThrowsAsync<KdgException>(() => new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), CancellationToken.None));

        Assert.Equal(ErrorCodes.GeneratorFailed, e.Code);
        Assert.NotNull(new FileInfo(p.Dir["raw/d1"]).LinkTarget);
        Assert.Empty(Directory.GetFileSystemEntries(p.Dir["scratch/d1"]));
    }

    /// <summary>A raw_dir that is a link to nothing (a purged scratch folder) is the user's: a failed generator leaves it, and says it deleted nothing.</summary>
    [Fact]
    public async Task AFailedGenerator_IntoADanglingLink_LeavesTheLink()
    {
        using var p = GeneratedPipeline("exit 3");
        Directory.CreateDirectory(p.Dir["raw"]);
        File.CreateSymbolicLink(p.Dir["raw/d1"], p.Dir["scratch/purged"]);

        var e = await Assert.ThrowsAsync<KdgException>(() => new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), CancellationToken.None));

        Assert.Equal(ErrorCodes.GeneratorFailed, e.Code);
        Assert.DoesNotContain("deleted", e.Message);
        Assert.NotNull(new FileInfo(p.Dir["raw/d1"]).LinkTarget);
    }

    /// <summary>
    /// A killed build's generator may still write: builds stop what carries its id. Not when the journal came
    /// with a copy of the tree (cp -a while the original generated, told by the inode of the folder it lies
    /// in): the copy's build killed the original's generator, which failed with exit code 137 (a review).
    /// </summary>
    /// <param name="newInode">The folder's inode differs from the journal's (alone: the tree moved to another file system and linked back, or restored).</param>
    /// <param name="copied">Its path too: the journal was written in another tree.</param>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task AnUnfinishedGeneratorsProcesses_AreStopped_UnlessItsJournalCameWithACopy(bool newInode, bool copied)
    {
        using var p = GeneratedPipeline(WholeGenerator);
        Directory.CreateDirectory(p.Dir["raw/d1"]);
        File.WriteAllText(p.Dir["raw/d1/x"], "part\n");
        var inode = KdGat.Core.Hashing.Statx.DirectoryInode(p.Dir["raw"])!.Value + (newInode ? 1UL : 0UL);
        var id = $"generator-d1-20261207T040000Z-{(newInode ? 2 : 1)}{(copied ? 2 : 1)}";
        File.WriteAllText(p.Dir["raw/.d1.kdgat-generating"], $"{id}\npid 1 on node since 2026-12-07 04:00:00 UTC\n{inode}\n{(copied ? "/elsewhere/raw" : Path.GetFullPath(p.Dir["raw"]))}\n");
        using var generator = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "60") { Environment = { ["KDGAT_ATTEMPT_ID"] = id } })!;
        try
        {
            var e = await Assert.ThrowsAsync<KdgException>(() => new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), CancellationToken.None));

            Assert.Equal(ErrorCodes.GeneratorUnfinished, e.Code);
            Assert.Equal(!copied, generator.WaitForExit(copied ? 500 : 10_000));
        }
        finally
        {
            if (!generator.HasExited) generator.Kill();
        }
    }

    /// <summary>
    /// A build killed while its generator ran (kill -9: nothing could clear what it wrote) leaves the
    /// generator's journal beside the dataset: Explain says the data is unfinished, and builds stop with
    /// KDG1106 instead of building on it, naming both ways out: empty the folder (generated again), or
    /// delete the journal when the data there is whole (the user's own, put there since).
    /// </summary>
    [Fact]
    public async Task RawDataAGeneratorLeftUnfinished_IsNotUsed_UntilEmptiedOrVouchedFor()
    {
        using var p = GeneratedPipeline(WholeGenerator);
        Directory.CreateDirectory(p.Dir["raw/d1"]);
        File.WriteAllText(p.Dir["raw/d1/x"], "part\n");
        var mark = p.Dir["raw/.d1.kdgat-generating"];
        File.WriteAllText(mark, "generator-d1-20261207T040000Z-1\npid 1 on node since 2026-12-07 04:00:00 UTC\n");

        var explained = await new BuildEngine().RunAsync(p.Request([new("a", [])]) with { Mode = BuildMode.Explain }, new RecordingLog(), CancellationToken.None);
        Assert.Contains("what a generator run that did not finish left", Assert.Single(Assert.Single(explained.Stages).Reasons));

        var e = await Assert.ThrowsAsync<KdgException>(() => new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), CancellationToken.None));
        Assert.Equal(ErrorCodes.GeneratorUnfinished, e.Code);
        Assert.Equal((3, 12), (e.Line, e.Column));
        Assert.Contains("pid 1 on node", e.Message);
        Assert.Contains("delete raw/.d1.kdgat-generating", e.Message);
        Assert.False(File.Exists(p.Dir["runs/d1/a/out.txt"]));

        File.Delete(p.Dir["raw/d1/x"]); // emptied: generated again
        Assert.True((await new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), CancellationToken.None)).Succeeded);
        Assert.Equal("whole\ny\n", File.ReadAllText(p.Dir["runs/d1/a/out.txt"]));
        Assert.False(File.Exists(mark));

        // Killed again; the user then puts a whole dataset of their own there: refused until they vouch for it by deleting the journal.
        File.WriteAllText(mark, "generator-d1-20261207T040000Z-1\n");
        File.WriteAllText(p.Dir["raw/d1/x"], "mine\n");
        Assert.Equal(ErrorCodes.GeneratorUnfinished, (await Assert.ThrowsAsync<KdgException>(() => new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), CancellationToken.None))).Code);
        File.Delete(mark);
        Assert.True((await new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), CancellationToken.None)).Succeeded);
        Assert.Equal("mine\ny\n", File.ReadAllText(p.Dir["runs/d1/a/out.txt"])); // the user's data, not generated again
    }

    /// <summary>Data of a dataset without a generator (the user's own) is used whatever journal is there.</summary>
    [Fact]
    public async Task AGeneratorJournal_WithoutAGenerator_ChangesNothing()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'cat {raw_dir}/x > out.txt', inputs: ['{raw_dir}'], outputs: [out.txt] }
            """);
        Directory.CreateDirectory(p.Dir["raw/d1"]);
        File.WriteAllText(p.Dir["raw/d1/x"], "mine\n");
        File.WriteAllText(p.Dir["raw/.d1.kdgat-generating"], "generator-d1-x\n");

        var result = await new BuildEngine().RunAsync(p.Request([new("a", [])]), new RecordingLog(), CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal("mine\n", File.ReadAllText(p.Dir["runs/d1/a/out.txt"]));
    }

    /// <summary>
    /// An unknown placeholder in 'generator' passed Explain, and the build stopped only when raw data was
    /// missing, at pipeline.proj and listing {stage} and {run_dir} as known (a review): KDG1007 at the value.
    /// </summary>
    [Fact]
    public async Task AnUnknownPlaceholderInTheGenerator_IsKdg1007AtItsValue_EvenInExplain()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            generator: 'make-data {raw_dir} {nope}'
            stages:
              a: { command: 'cat {raw_dir}/x > out.txt', inputs: ['{raw_dir}'], outputs: [out.txt] }
            """);
        Directory.CreateDirectory(p.Dir["raw/d1"]);
        File.WriteAllText(p.Dir["raw/d1/x"], "x");

        var e = await Assert.ThrowsAsync<KdgException>(() => new BuildEngine().RunAsync(p.Request([new("a", [])]) with { Mode = BuildMode.Explain }, new RecordingLog(), CancellationToken.None));

        Assert.Equal(ErrorCodes.UnknownPlaceholder, e.Code);
        Assert.Equal((p.ConfigFile, 3, 12), (e.File, e.Line, e.Column));
        Assert.Contains("generator: unknown placeholder '{nope}'", e.Message);
        Assert.Contains("Known here: {dataset}, {raw_dir}, {root}, {tools}, {vars.NAME}", e.Message);
    }

    [Fact]
    public async Task Explain_WithADatasetMissing_ReportsItsStagesAsWouldRun_InsteadOfFailing()
    {
        _p.WriteConfig(KdGatGraph.Yaml(commandOverride: new Dictionary<string, string> { ["preprocess"] = "cat {raw_dir}/frames.csv > out.txt" }));
        Directory.Delete(_p.Dir["raw/d1"], recursive: true);

        var log = new RecordingLog();
        var report = await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages) with { Mode = BuildMode.Explain }, log, CancellationToken.None);

        Assert.True(report.Succeeded);
        var preprocess = Assert.Single(report.Stages, s => s.Dataset == "d1" && s.Stage == "preprocess");
        Assert.Equal(Outcome.WouldRun, preprocess.Outcome);
        Assert.Contains(preprocess.Reasons, r => r.Contains("raw data not found", StringComparison.Ordinal) && r.Contains("KDG1103", StringComparison.Ordinal));
        Assert.All(report.Stages.Where(s => s.Dataset == "d1"), s => Assert.Equal(Outcome.WouldRun, s.Outcome));
    }

    [Fact]
    public async Task AFailingStage_NeverStopsAStageRunningBesideIt()
    {
        // Abort stops the processes of the failed attempt by its attempt id; ids were once only
        // per build, so a failing stage killed every stage running beside it.
        _p.WriteConfig(KdGatGraph.Yaml(commandOverride: new Dictionary<string, string>
        {
            ["vgae_small_autoencoder"] = "sleep 3; (echo {stage} {params.v}; cat {upstream.preprocess}/out.txt) > out.txt",
            ["gat_large_curriculum"] = "sleep 0.5; exit 3",
        }));

        var (r, _) = await Build();

        Assert.Equal(Outcome.Failed, r.Stages.Single(x => x.Stage == "gat_large_curriculum").Outcome);
        Assert.Equal(Outcome.Ran, r.Stages.Single(x => x.Stage == "vgae_small_autoencoder").Outcome);
    }
}
