using System.Text.Json;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>MSBuild's own contracts: -question, Explain's items and CI gate, Rebuild -p:Stage, the binlog.</summary>
[Trait("Category", "EndToEnd")]
public sealed class MSBuildSemanticsTests
{
    private static readonly string[] GatLargeDownstream = IncrementalBuildTests.GatLargeDownstream;

    private static void ChangeGatLargeLr(Sandbox s)
    {
        var file = Path.Combine(s.Dir, "models", "gat", "large.yaml");
        File.WriteAllText(file, File.ReadAllText(file).Replace("lr: 0.001", "lr: 0.002"));
    }

    private static string ManifestText(Sandbox s, string stage) => File.ReadAllText(Path.Combine(s.RunDir("hcrl_sa", stage), "kdgat.manifest.json"));

    /// <summary>
    /// -warnAsError:KDG1013 (a code pattern that matches nothing, a warning about the configuration): MSBuild failed
    /// the build (exit 1), but KdGat ran the stale stages, ran on_success and wrote "succeeded": true to
    /// last-build.json, which CI reads (rvswitches). It now stops before the stages, as an error in kdgat.yaml does,
    /// and the report and hook say failed; also where a no-op certificate of the build without the switch answered.
    /// -warnAsMessage and -noWarn keep it a warning.
    /// </summary>
    [Fact]
    public void WarnAsError_OnAConfigurationWarning_StopsBeforeTheStages_AndTheReportSaysFailed()
    {
        using var s = Sandbox.Trivial();
        const string bundled = "code: ['src/KdGat.Sample/**/*.cs']";
        s.EditConfig(c => c.Contains(bundled, StringComparison.Ordinal) ? c.Replace(bundled, "code: ['scriptz/**/*.sh']") : throw new InvalidOperationException("the bundled code line is not there"));
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(0, s.BuildSettled("-p:Dataset=hcrl_sa").ExitCode); // writes the no-op certificate
        s.Env.Remove("KDGAT_NOOP_CERTIFICATE"); // the certificate answers alone, as users run it
        Assert.True(s.Build("-p:Dataset=hcrl_sa").ExitCode == 0 && s.LastBuild().NoOpCertificate == true);

        var certified = s.Build("-p:Dataset=hcrl_sa", "-warnAsError:KDG1013");

        Assert.True(certified.ExitCode != 0 && certified.Output.Contains("error KDG1013", StringComparison.Ordinal), certified.ToString());
        Assert.True(!s.LastBuild().Succeeded && s.LastBuild().Stages.Count == 0 && s.LastBuild().NoOpCertificate is null, certified.ToString());

        s.EditConfig(c => c.TrimEnd() + "\non_success: 'echo success >> hook.txt'\non_failure: 'echo failure >> hook.txt'\n");
        ChangeGatLargeLr(s);
        var before = ManifestText(s, "gat_large_curriculum");
        var stale = s.Build("-p:Dataset=hcrl_sa", "-warnAsError:KDG1013");

        Assert.True(stale.ExitCode != 0 && stale.Output.Contains("nothing was checked or run: KDG1013", StringComparison.Ordinal), stale.ToString());
        Assert.False(s.LastBuild().Succeeded);
        Assert.Equal(before, ManifestText(s, "gat_large_curriculum")); // not run
        Assert.Equal("failure\n", File.ReadAllText(Path.Combine(s.Dir, "hook.txt")));

        var asMessage = s.Build("-p:Dataset=hcrl_sa", "-warnAsError", "-warnAsMessage:KDG1013");
        Assert.True(asMessage.ExitCode == 0 && s.LastBuild().Succeeded, asMessage.ToString());
        Assert.Equal(GatLargeDownstream, Sandbox.Instances(s.LastBuild(), Outcome.Ran));
        var noWarn = s.Build("-p:Dataset=hcrl_sa", "-warnAsError", "-noWarn:KDG1013");
        Assert.True(noWarn.ExitCode == 0 && s.LastBuild().Succeeded, noWarn.ToString());
        Assert.Equal("failure\nsuccess\nsuccess\n", File.ReadAllText(Path.Combine(s.Dir, "hook.txt")));
    }

    [Fact]
    public void Question_ReportsEachStaleStageAsAnError_AndRunsNothing()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa", "-question").ExitCode); // everything up to date: the question passes
        ChangeGatLargeLr(s);
        var before = ManifestText(s, "gat_large_curriculum");

        var r = s.Build("-p:Dataset=hcrl_sa", "-question");

        Assert.NotEqual(0, r.ExitCode);
        foreach (var key in GatLargeDownstream) Assert.Contains($"error KDG3011: {key} is not up to date", r.Output);
        Assert.DoesNotContain("error KDG3011: hcrl_sa/preprocess", r.Output);
        Assert.Equal(before, ManifestText(s, "gat_large_curriculum"));
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.Equal(GatLargeDownstream, Sandbox.With(s.LastBuild(), Outcome.WouldRun));
    }

    [Fact]
    public void Explain_ReturnsItsItems_AndFailIfStale_IsACiGate()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        ChangeGatLargeLr(s);

        var items = s.Build("-t:Explain", "-p:Dataset=hcrl_sa", "-getTargetResult:Explain", "-noWarn:KDG1013");
        Assert.True(items.ExitCode == 0, items.ToString());
        var results = Sandbox.MSBuildJson(items).GetProperty("TargetResults").GetProperty("Explain").GetProperty("Items").EnumerateArray()
            .ToDictionary(i => $"{i.GetProperty("Dataset").GetString()}/{i.GetProperty("Stage").GetString()}", i => i);
        Assert.Equal(13, results.Count);
        Assert.Equal(GatLargeDownstream, results.Where(kv => kv.Value.GetProperty("Outcome").GetString() == Outcome.WouldRun).Select(kv => kv.Key).Order(StringComparer.Ordinal));
        Assert.Contains("parameter lr changed", results["hcrl_sa/gat_large_curriculum"].GetProperty("Reasons").GetString());

        var gate = s.Build("-t:Explain", "-p:Dataset=hcrl_sa", "-p:FailIfStale=true");
        Assert.NotEqual(0, gate.ExitCode);
        Assert.Contains("error KDG3011: hcrl_sa/gat_large_curriculum is not up to date", gate.Output);
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
        // The same gate on a target that runs stages: it ran them, and passed (a review).
        var before = ManifestText(s, "gat_large_curriculum");
        var onBuild = s.Build("-p:Dataset=hcrl_sa", "-p:FailIfStale=true");
        Assert.NotEqual(0, onBuild.ExitCode);
        Assert.Contains("error KDG3011: hcrl_sa/gat_large_curriculum is not up to date", onBuild.Output);
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.Equal(before, ManifestText(s, "gat_large_curriculum"));

        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        var passes = s.Build("-t:Explain", "-p:Dataset=hcrl_sa", "-p:FailIfStale=true");
        Assert.True(passes.ExitCode == 0, passes.ToString());
    }

    /// <summary>
    /// -question asks; it changes nothing: -t:Clean -question deleted every selected result, -t:Rebuild
    /// -question answered its own deletion, -t:CacheGc -question evicted entries (a review).
    /// </summary>
    [Theory]
    [InlineData("-t:Clean")]
    [InlineData("-t:Rebuild")]
    [InlineData("-t:CacheGc", "-p:CacheMaxSize=1K")]
    [InlineData("-t:Rebuild", "-p:FailIfStale=true")] // -p:FailIfStale=true, the same gate without -question: it deleted every result, then refused to build (a review)
    public void Question_OfATargetThatDeletes_IsKdg1218_AndDeletesNothing(params string[] target)
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        var before = Directory.GetFiles(s.Dir, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/.kdgat/", StringComparison.Ordinal) || f.Contains("/.kdgat/store/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();

        var r = s.Build([.. target, "-p:Dataset=hcrl_sa", .. target.Contains("-p:FailIfStale=true") ? Array.Empty<string>() : ["-question"]]);

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error KDG1218", r.Output);
        Assert.Equal(before, Directory.GetFiles(s.Dir, "*", SearchOption.AllDirectories).Where(f => !f.Contains("/.kdgat/", StringComparison.Ordinal) || f.Contains("/.kdgat/store/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa", "-question").ExitCode); // still up to date
    }

    /// <summary>
    /// The targets that only look, under -question: -t:Graph, -t:Report, -t:Status and -t:RebuildIndex wrote
    /// graph.dot/graph.svg, report.html and index.db (a review). They write nothing now, and fail (KDG1218) when a run
    /// without -question would write a file that differs from what is there; what is already there passes.
    /// </summary>
    [Fact]
    public void Question_OfTheTargetsThatLook_WritesNothing_AndFailsOnlyWhereTheFileWouldChange()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(0, s.Build("-t:Status", "-p:Dataset=hcrl_sa").ExitCode); // the index and Status's report as they are
        s.WaitPastRacyMargin(); // so that a check now would save hash cache rows the build left racy: Graph's did, under -question
        Dictionary<string, string> Tree() => Directory.GetFiles(s.Dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(s.Dir, f), f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));
        var before = Tree();

        foreach (var target in new[] { "-t:Graph", "-t:RebuildIndex" })
        {
            var r = s.Build(target, "-p:Dataset=hcrl_sa", "-question");
            Assert.True(r.ExitCode != 0 && r.Output.Contains("error KDG1218", StringComparison.Ordinal), r.ToString());
            Assert.Equal(before, Tree());
        }
        // Status wrote the report Report would write, and the index is up to date: nothing to write.
        foreach (var target in new[] { "-t:Report", "-t:Status" })
        {
            var r = s.Build(target, "-p:Dataset=hcrl_sa", "-question");
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.Equal(before, Tree());
        }
        File.Delete(Path.Combine(s.Dir, ".kdgat", "index.db"));
        Assert.NotEqual(0, s.Build("-t:Status", "-p:Dataset=hcrl_sa", "-question").ExitCode); // the index would be made again
        Assert.False(File.Exists(Path.Combine(s.Dir, ".kdgat", "index.db")));

        // What a run without -question wrote passes; a state that changed since does not.
        Assert.Equal(0, s.Build("-t:Graph", "-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(0, s.Build("-t:Report", "-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(0, s.Build("-t:Graph", "-p:Dataset=hcrl_sa", "-question").ExitCode);
        Assert.Equal(0, s.Build("-t:Report", "-p:Dataset=hcrl_sa", "-question").ExitCode);
        ChangeGatLargeLr(s);
        before = Tree();
        Assert.NotEqual(0, s.Build("-t:Graph", "-p:Dataset=hcrl_sa", "-question").ExitCode);
        Assert.NotEqual(0, s.Build("-t:Report", "-p:Dataset=hcrl_sa", "-question").ExitCode);
        Assert.Equal(before, Tree());
    }

    /// <summary>
    /// A build's -question (and -t:Explain -question) saved the hash cache (the rows a build left racy that had settled
    /// since), as -t:Graph -question did before 06d6a95; README: -question writes nothing (a diff review).
    /// </summary>
    [Fact]
    public void Question_OfABuild_SavesNoHashCache()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        s.WaitPastRacyMargin(); // so that a check now would save the rows the build left racy
        var cache = Path.Combine(s.Dir, ".kdgat", "hash-cache.tsv");
        var before = File.ReadAllBytes(cache);
        foreach (var args in new[] { new[] { "-question" }, new[] { "-t:Explain", "-question" } })
        {
            var r = s.Build([.. args, "-p:Dataset=hcrl_sa"]);
            Assert.True(r.ExitCode == 0, r.ToString());
            Assert.True(before.AsSpan().SequenceEqual(File.ReadAllBytes(cache)), $"{string.Join(' ', args)} saved the hash cache");
        }
    }

    /// <summary>A relative -p:KdGatToolsDir or -p:KdGatSourceDir is the project's, as MSBuild paths are: it was the shell's directory's (a review).</summary>
    [Fact]
    public void RelativeToolsAndSourceDirs_AreRelativeToTheProject_NotTheShellsDirectory()
    {
        using var s = Sandbox.Trivial();
        var elsewhere = Directory.CreateTempSubdirectory("kdgat-cwd-").FullName;
        try
        {
            var r = ProcessRunner.Run("dotnet", ["msbuild", Path.Combine(s.Dir, "pipeline.proj"), "-nologo", "-getProperty:_KdGatToolsDir", "-getProperty:_KdGatSourceDir",
                "-p:KdGatToolsDir=rel/tools", "-p:KdGatSourceDir=../src"], elsewhere, TimeSpan.FromMinutes(2), s.Env);

            Assert.True(r.ExitCode == 0, r.ToString());
            var properties = Sandbox.MSBuildJson(r).GetProperty("Properties");
            Assert.Equal(Path.Combine(s.Dir, "rel", "tools") + "/", properties.GetProperty("_KdGatToolsDir").GetString());
            Assert.Equal(Path.GetFullPath(Path.Combine(s.Dir, "..", "src")) + "/", properties.GetProperty("_KdGatSourceDir").GetString());
        }
        finally { Directory.Delete(elsewhere, recursive: true); }
    }

    [Fact]
    public void RebuildOneStage_CleansAndBuildsTheSameScope()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);

        var r = s.Build("-t:Rebuild", "-p:Stage=gat_large_curriculum", "-p:Dataset=hcrl_sa");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(GatLargeDownstream, Sandbox.With(s.LastBuild(), Outcome.Ran));
        foreach (var key in GatLargeDownstream)
            Assert.True(File.Exists(Path.Combine(s.Dir, "experimentruns", key, "kdgat.manifest.json")), key);
        var after = s.Build("-t:Explain", "-p:Dataset=hcrl_sa", "-p:FailIfStale=true");
        Assert.True(after.ExitCode == 0, after.ToString()); // nothing left stale or deleted
    }

    [Fact]
    public void Binlog_HoldsPerStageOutcomeReasonAndDuration()
    {
        using var s = Sandbox.Trivial();
        var binlog = Path.Combine(s.Dir, "build.binlog");
        Assert.Equal(0, s.Build("-t:Large", "-p:Dataset=hcrl_sa", $"-bl:{binlog}").ExitCode);

        var replay = ProcessRunner.Run("dotnet", ["msbuild", binlog, "-v:diag", "-nologo"], s.Dir);

        Assert.Equal(0, replay.ExitCode);
        var output = replay.Output[replay.Output.IndexOf("KdGatStageResult=", StringComparison.Ordinal)..];
        Assert.Matches(@"hcrl_sa/gat_large_curriculum\s+Attempts=1\s+Dataset=hcrl_sa\s+ExitCode=0\s+JobId=\S+\s+Log=\S+\s+Outcome=ran\s+ReasonKinds=never-run\s+Reasons=no manifest[^\n]*\s+Seconds=\d+(\.\d+)?\s+Stage=gat_large_curriculum", output);
    }

    /// <summary>
    /// Stages run once per build: a second public target in -t: used to collect its stages after the
    /// run and end "succeeded" without running them (found by review). It is KDG1213 now.
    /// </summary>
    [Fact]
    public void TwoTargetsThatRunStages_InOneBuild_AreKdg1213_NotASilentPartialBuild()
    {
        using var s = Sandbox.Trivial();

        var r = s.Build("-t:Preprocess;Train", "-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error KDG1213: stage(s) vgae_large_autoencoder,", r.Output);
        Assert.Equal(["hcrl_sa/preprocess"], Sandbox.Instances(s.LastBuild(), Outcome.Ran));

        // Adopt or Audit after a target that ran the stages would adopt or trace nothing, and succeed.
        var audit = s.Build("-t:Evaluate;Audit", "-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, audit.ExitCode);
        Assert.Contains("error KDG1213: -t: names Adopt or Audit after another target", audit.Output);
    }

    /// <summary>
    /// -t: naming a stage target (what `snakemake gat_large_curriculum` would be) only collected its
    /// stage: nothing ran, nothing was said, and MSBuild said "Build succeeded". It is KDG1216 now,
    /// and the target it points to runs that stage and what it needs.
    /// </summary>
    [Theory]
    [InlineData("gat_large_curriculum")]
    [InlineData("preprocess_stage")]
    public void AStageTargetAlone_IsKdg1216_AndRunsNothing(string stageTarget)
    {
        using var s = Sandbox.Trivial();

        var r = s.Build($"-t:{stageTarget}", "-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error KDG1216:", r.Output);
        Assert.False(Directory.Exists(s.RunDir("hcrl_sa", "preprocess")), "a stage ran:\n" + r.Output);

        var run = s.Build("-t:RunStage", "-p:Stage=gat_large_curriculum", "-p:Dataset=hcrl_sa");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["hcrl_sa/gat_large_curriculum", "hcrl_sa/preprocess", "hcrl_sa/vgae_large_autoencoder"], Sandbox.Instances(s.LastBuild(), Outcome.Ran).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// A stage target whose DependsOnTargets names a stage whose name is a public target's
    /// ('preprocess' is Preprocess: target names ignore case), as KDG1011's fix once said to:
    /// Evaluate ran part of the stages and succeeded, and Explain ran stages. Now both stop with
    /// KDG1213 before anything runs.
    /// </summary>
    /// <summary>
    /// A first-contact review: in a KdGat.Sdk pipeline (EvaluateDependsOn only), -t:train (target names
    /// ignore case: Train) ran nothing and succeeded. KDG1221 before anything runs.
    /// </summary>
    [Fact]
    public void APublicTargetWhoseListNamesNoStage_IsKdg1221_AndRunsNothing()
    {
        using var s = Sandbox.Trivial();
        var proj = Path.Combine(s.Dir, "pipeline.proj");
        const string was = "<TrainDependsOn>dqn_large_fusion;dqn_small_fusion_kd;dqn_small_fusion</TrainDependsOn>";
        Assert.Contains(was, File.ReadAllText(proj));
        File.WriteAllText(proj, File.ReadAllText(proj).Replace(was, "<TrainDependsOn></TrainDependsOn>"));

        var r = s.Build("-t:train", "-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error KDG1221", r.Output);
        Assert.Contains("-t:RunStage -p:Stage=NAME", r.Output);
        Assert.False(Directory.Exists(s.RunDir("hcrl_sa", "preprocess")), "a stage ran:\n" + r.Output);
    }

    [Theory]
    [InlineData("Evaluate")]
    [InlineData("Explain")]
    [InlineData("Clean")]
    public void AStageTargetDependingOnAPublicTarget_IsKdg1213_AndRunsNothing(string target)
    {
        using var s = Sandbox.Trivial();
        var proj = Path.Combine(s.Dir, "pipeline.proj");
        const string was = "<Target Name=\"vgae_small_autoencoder\" DependsOnTargets=\"preprocess_stage\"";
        Assert.Contains(was, File.ReadAllText(proj));
        File.WriteAllText(proj, File.ReadAllText(proj).Replace(was, "<Target Name=\"vgae_small_autoencoder\" DependsOnTargets=\"preprocess\""));

        var r = s.Build($"-t:{target}", "-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error KDG1213: a target that runs stages", r.Output);
        Assert.False(Directory.Exists(s.RunDir("hcrl_sa", "preprocess")), "a stage ran:\n" + r.Output);
    }

    /// <summary>
    /// A stage target named like a public target, named in a *DependsOn list: MSBuild stopped with
    /// an uncoded MSB4006 circular dependency inside KdGat's targets (found by review: 'report' and
    /// 'evaluate' are natural stage names). KDG1215 names it and says what to rename, before anything runs.
    /// </summary>
    [Theory]
    [InlineData("-t:Evaluate")]
    [InlineData("-t:Explain")]
    public void AStageTargetNamedLikeAPublicTarget_IsKdg1215_NotMsb4006(string target)
    {
        using var s = Sandbox.Trivial();
        var proj = Path.Combine(s.Dir, "pipeline.proj");
        File.WriteAllText(proj, File.ReadAllText(proj)
            .Replace("<LargeDependsOn>eval_large_evaluation</LargeDependsOn>", "<LargeDependsOn>report</LargeDependsOn>")
            .Replace("<Target Name=\"eval_large_evaluation\"", "<Target Name=\"report\"")
            .Replace("<Project DefaultTargets=\"Evaluate\">", "<Project DefaultTargets=\"Evaluate\">\n  <!-- before: <Target Name=\"report\"> -->")); // a commented-out one is not the place

        var r = s.Build(target, "-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error KDG1215: a *DependsOn list names the target 'report'", r.Output);
        // At that target's line and column in pipeline.proj (user review: the file alone before).
        var lines = File.ReadAllLines(proj);
        var line = Array.FindIndex(lines, l => l.StartsWith("  <Target Name=\"report\"", StringComparison.Ordinal)) + 1;
        var column = lines[line - 1].IndexOf('<', StringComparison.Ordinal) + 1;
        Assert.Contains($"pipeline.proj({line},{column}): error KDG1215:", r.Output);
        Assert.DoesNotContain("error MSB4006", r.Output);
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns")), "a stage ran:\n" + r.Output);
    }
    /// <summary>
    /// A stage whose KdGatStageDefinition has no StageTarget and whose target has the stage's name,
    /// 'preprocess' (as a new KdGat.Sdk user names a target after its stage), named in no *DependsOn
    /// list but in the DependsOnTargets of the stages after it: that target is Preprocess (names
    /// ignore case), and MSBuild stopped with an uncoded MSB4006 ('evaluate') or KDG1221 about a
    /// -t:Train no one typed ('train'). KDG1215 at that target names the clash and the fix, before
    /// anything runs, for the IDE's KdGatStages too.
    /// </summary>
    [Theory]
    [InlineData("-t:Evaluate")]
    [InlineData("-t:KdGatStages")]
    public void ADefinedStageTargetNamedLikeAPublicTarget_IsKdg1215_NotMsb4006(string target)
    {
        using var s = Sandbox.Trivial();
        var proj = Path.Combine(s.Dir, "pipeline.proj");
        const string definition = "<KdGatStageDefinition Include=\"preprocess\" StageTarget=\"preprocess_stage\" />";
        Assert.Contains(definition, File.ReadAllText(proj));
        File.WriteAllText(proj, File.ReadAllText(proj)
            .Replace(definition, "<KdGatStageDefinition Include=\"preprocess\" />")
            .Replace("preprocess_stage", "preprocess")
            .Replace("<PreprocessDependsOn>preprocess</PreprocessDependsOn>", "<PreprocessDependsOn>vgae_large_autoencoder</PreprocessDependsOn>"));

        var r = s.Build(target, "-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error KDG1215: a KdGatStageDefinition item names the stage target 'preprocess'", r.Output);
        Assert.Contains("StageTarget=\"preprocess_stage\"", r.Output);
        var line = Array.FindIndex(File.ReadAllLines(proj), l => l.StartsWith("  <Target Name=\"preprocess\"", StringComparison.Ordinal)) + 1;
        Assert.Contains($"pipeline.proj({line},3): error KDG1215:", r.Output);
        Assert.DoesNotContain("error MSB4006", r.Output);
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns")), "a stage ran:\n" + r.Output);
    }
}
