using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// Issue 11: a stage reading another stage's outputs must need it (KDG1011, before anything runs);
/// parameters compare by value (also when written through YAML merge keys); a path outside the checkout fingerprints the same from any clone.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class SoundnessTests
{
    [Fact]
    public void OldDagWithoutPreprocessInNeeds_IsKdg1011ForEveryTarget_BeforeAnythingRuns()
    {
        using var s = Sandbox.Trivial();
        // pipeline.proj as it was: GAT, DQN and evaluation read {cache_dir} but do not need preprocess.
        var proj = Path.Combine(s.Dir, "pipeline.proj");
        File.WriteAllText(proj, File.ReadAllText(proj).Replace("DependsOnTargets=\"preprocess_stage;", "DependsOnTargets=\"").Replace("Needs=\"preprocess;", "Needs=\""));

        foreach (var target in new[] { "-t:Evaluate", "-t:Explain", "-t:Status", "-t:Large" })
        {
            var r = s.Build(target, "-p:Dataset=hcrl_sa");
            Assert.True(r.ExitCode != 0, r.ToString());
            Assert.Contains("error KDG1011", r.Output);
            Assert.Matches(@"kdgat\.yaml\(\d+,\d+\): error KDG1011: stage 'gat_large_curriculum' .*stage 'preprocess'.*Add 'preprocess' to the Needs of stage 'gat_large_curriculum' in pipeline\.proj .*preprocess_stage", r.Output);
        }
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns")), "a stage ran");
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "data")), "raw data was generated");
    }

    /// <summary>
    /// A misspelt Needs (Need=) dropped the dependency without a word: the downstream stayed up to
    /// date on its upstream's old result (found by review). Any metadata but Needs is KDG1214.
    /// </summary>
    [Fact]
    public void AMisspeltNeeds_IsKdg1214_BeforeAnythingRuns()
    {
        using var s = Sandbox.Trivial();
        var proj = Path.Combine(s.Dir, "pipeline.proj");
        const string was = "<KdGatStage Include=\"gat_large_curriculum\" Needs=";
        Assert.Contains(was, File.ReadAllText(proj));
        File.WriteAllText(proj, File.ReadAllText(proj).Replace(was, "<KdGatStage Include=\"gat_large_curriculum\" Need="));

        var r = s.Build("-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, r.ExitCode);
        // At the item (line, column of its '<'), not the file alone (a user review).
        var lines = File.ReadAllLines(proj);
        var line = Array.FindIndex(lines, l => l.Contains("<KdGatStage Include=\"gat_large_curriculum\" Need=", StringComparison.Ordinal)) + 1;
        var column = lines[line - 1].IndexOf("<KdGatStage", StringComparison.Ordinal) + 1;
        Assert.Contains($"pipeline.proj({line},{column}): error KDG1214: the KdGatStage item of stage 'gat_large_curriculum' has metadata 'Need'", r.Output);
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns")), "a stage ran:\n" + r.Output);
    }

    [Fact]
    public void LearningRateWrittenAsExponent_RerunsNothing_AndStagesSeeTheSameParams()
    {
        using var s = Sandbox.Trivial();
        s.Env["KDGAT_CACHE"] = "off"; // up to date, not restored
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        var paramsJson = Path.Combine(s.RunDir("hcrl_sa", "gat_large_curriculum"), "params.json");
        var before = File.ReadAllBytes(paramsJson);
        var gat = Path.Combine(s.Dir, "models", "gat", "large.yaml");
        File.WriteAllText(gat, File.ReadAllText(gat).Replace("lr: 0.001", "lr: 1e-3"));

        var r = s.Build("-p:Dataset=hcrl_sa");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length);
        Assert.Equal(before, File.ReadAllBytes(paramsJson));
    }

    [Fact]
    public void ParamsWrittenWithYamlMergeKeys_RerunNothing_AndParamsJsonHasTheMergedNames()
    {
        using var s = Sandbox.Trivial();
        s.Env["KDGAT_CACHE"] = "off"; // up to date, not restored
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        var paramsJson = new[] { "gat_large_curriculum", "gat_small_curriculum_kd" }.Select(st => Path.Combine(s.RunDir("hcrl_sa", st), "params.json")).ToArray();
        var before = paramsJson.Select(File.ReadAllBytes).ToArray();
        // The same values through merge keys: in a params file (keys written in the mapping win,
        // earlier mappings of the list win) and in kdgat.yaml (one stage's params merged into another's).
        File.WriteAllText(Path.Combine(s.Dir, "models", "gat", "large.yaml"), """
            <<: [{hidden: 32, heads: 8, lr: 0.003}, {epochs: 20, curriculum_stages: 4, lr: 0.1}]
            heads: 4
            lr: 0.001
            seed: 11
            """);
        const string kd = "params: { kd_alpha: 0.5, kd_temperature: 2.0 }";
        s.EditConfig(c =>
        {
            var first = c.IndexOf(kd, StringComparison.Ordinal);
            var second = c.IndexOf(kd, first + kd.Length, StringComparison.Ordinal);
            Assert.True(first >= 0 && second > first, "the two KD stages' params lines are not in kdgat.yaml");
            return c[..first] + "params: &kd { kd_alpha: 0.5, kd_temperature: 2.0 }" + c[(first + kd.Length)..second] + "params: { <<: *kd }" + c[(second + kd.Length)..];
        });

        var r = s.Build("-p:Dataset=hcrl_sa");

        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length);
        Assert.Equal(before, paramsJson.Select(File.ReadAllBytes).ToArray());
        var gat = File.ReadAllText(paramsJson[0]);
        Assert.Contains("\"lr\": 0.001", gat);
        Assert.Contains("\"epochs\": 20", gat);
        Assert.DoesNotContain("u003C", gat); // no parameter named <<.lr
    }

    [Fact]
    public void ClonesAtDifferentDepths_WithRawDataOutsideBoth_ShareTheCache_SecondRunsNothing()
    {
        var top = Path.Combine(Path.GetTempPath(), "kdgat-e2e-depth-" + Guid.NewGuid().ToString("N")[..8]);
        var raw = Path.Combine(top, "shared-raw");
        var store = Path.Combine(top, "store");
        var deep = Path.Combine(top, "a", "b", "c", "clone");
        try
        {
            using var first = Sandbox.Trivial();
            first.EditConfig(c => c.Replace("raw: data/automotive/{dataset}", $"raw: '{raw}/{{dataset}}'"));
            first.Env["KDGAT_CACHE"] = store;
            var r1 = first.Build("-p:Dataset=hcrl_sa");
            Assert.True(r1.ExitCode == 0, r1.ToString());
            Assert.Equal(13, Sandbox.With(first.LastBuild(), Outcome.Ran).Length);
            Assert.True(File.Exists(Path.Combine(raw, "hcrl_sa", "frames.csv")));

            // The same pipeline files, three directories deeper than the first clone.
            Directory.CreateDirectory(deep);
            foreach (var f in new[] { "pipeline.proj", "kdgat.yaml", "Directory.Build.rsp" }) File.Copy(Path.Combine(first.Dir, f), Path.Combine(deep, f));
            foreach (var d in new[] { "targets", "models" }) Sandbox.CopyTree(Path.Combine(first.Dir, d), Path.Combine(deep, d));
            var r2 = ProcessRunner.Run("dotnet", first.MSBuildArgs(["-p:Dataset=hcrl_sa"]), deep, TimeSpan.FromMinutes(5), first.Env);

            Assert.True(r2.ExitCode == 0, r2.ToString());
            var second = BuildReport.Read(Path.Combine(deep, ".kdgat", "last-build.json"))!;
            Assert.Empty(Sandbox.With(second, Outcome.Ran));
            Assert.Equal(13, Sandbox.With(second, Outcome.Restored).Length);
        }
        finally
        {
            try { Directory.Delete(top, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
