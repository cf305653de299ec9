using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>The bundled pipeline swept over seeds (defaults.sweep): real builds with trivial commands.</summary>
[Trait("Category", "EndToEnd")]
public sealed class SweepTests
{
    private static Sandbox Seeds() => Sandbox.Trivial().WithSeeds();

    [Fact]
    public void ThreeSeeds_Run37Instances_ThenNone_AndAFourthSeedRunsOnlyItsTwelve()
    {
        using var s = Seeds();

        var first = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(first.ExitCode == 0, first.ToString());
        var ran = Sandbox.Instances(s.LastBuild(), Outcome.Ran);
        Assert.Equal(37, ran.Length);
        Assert.Contains("hcrl_sa/preprocess", ran);
        foreach (var seed in new[] { 0, 1, 2 })
            Assert.Equal(12, ran.Count(k => k.EndsWith($"/seed={seed}", StringComparison.Ordinal)));
        var evalRunDir = Path.Combine(s.RunDir("hcrl_sa", "eval_large_evaluation"), "seed=1");
        Assert.Equal("{\"f1\": 0.1", File.ReadAllText(Path.Combine(evalRunDir, "metrics.json"))[..10]);
        Assert.Contains("\"seed\": 1", File.ReadAllText(Path.Combine(s.RunDir("hcrl_sa", "gat_small_curriculum_kd"), "seed=1", "params.json")));

        var second = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Empty(Sandbox.Instances(s.LastBuild(), Outcome.Ran));
        Assert.Equal(37, Sandbox.Instances(s.LastBuild(), Outcome.UpToDate).Length);

        s.EditConfig(c => c.Replace("seed: [0, 1, 2]", "seed: [0, 1, 2, 3]"));
        var third = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(third.ExitCode == 0, third.ToString());
        var added = Sandbox.Instances(s.LastBuild(), Outcome.Ran);
        Assert.Equal(12, added.Length);
        Assert.All(added, k => Assert.EndsWith("/seed=3", k));
        Assert.Equal(37, Sandbox.Instances(s.LastBuild(), Outcome.UpToDate).Length);
    }

    [Fact]
    public void SweepSelection_ExplainsAndRunsOnlyThatSeed_AndCompareShowsMeanAndStd()
    {
        using var s = Seeds();

        var explain = s.Build("-t:Explain", "-p:Dataset=hcrl_sa", "-p:Sweep=seed=1");
        Assert.True(explain.ExitCode == 0, explain.ToString());
        var planned = Sandbox.Instances(s.LastBuild(), Outcome.WouldRun);
        Assert.Equal(13, planned.Length);
        Assert.Equal(12, planned.Count(k => k.EndsWith("/seed=1", StringComparison.Ordinal)));
        Assert.Contains("hcrl_sa/preprocess", planned);
        Assert.Contains("hcrl_sa/dqn_small_fusion_kd/seed=1", explain.Output); // the Explain table names instances with their variant

        var one = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa", "-p:Sweep=seed=1");
        Assert.True(one.ExitCode == 0, one.ToString());
        Assert.Equal(planned, Sandbox.Instances(s.LastBuild(), Outcome.Ran));
        Assert.False(Directory.Exists(Path.Combine(s.RunDir("hcrl_sa", "vgae_large_autoencoder"), "seed=0")));

        var bad = s.Build("-t:Explain", "-p:Dataset=hcrl_sa", "-p:Sweep=seed=7");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("KDG1033", bad.Output);
        // MSBuild splits -p: values at ',': "seed=1,seed=2" arrives as Sweep=seed=1 and a property seed.
        var split = s.Build("-t:Explain", "-p:Dataset=hcrl_sa", "-p:Sweep=seed=1,seed=2");
        Assert.NotEqual(0, split.ExitCode);
        Assert.Contains("KDG1033", split.Output);
        Assert.Contains("arrived without 'seed'", split.Output);

        Assert.Equal(0, s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa").ExitCode);
        var status = s.Build("-t:Status", "-p:Dataset=hcrl_sa", "-p:Sweep=seed=2");
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Matches(@"hcrl_sa/gat_small_curriculum_kd/seed=2\s+up-to-date", status.Output);
        Assert.DoesNotContain("seed=1", status.Output);

        // The picture has one box per instance; the seed=1 KD student is drawn from the seed=1 teacher only.
        var graph = s.Build("-t:Graph", "-p:Dataset=hcrl_sa");
        Assert.True(graph.ExitCode == 0, graph.ToString());
        var dot = File.ReadAllText(Path.Combine(s.Dir, ".kdgat", "graph.dot"));
        Assert.Contains("\"hcrl_sa/vgae_large_autoencoder/seed=1\" -> \"hcrl_sa/vgae_small_autoencoder_kd/seed=1\"", dot);
        Assert.DoesNotContain("\"hcrl_sa/vgae_large_autoencoder/seed=0\" -> \"hcrl_sa/vgae_small_autoencoder_kd/seed=1\"", dot);
        Assert.Contains("\"hcrl_sa/preprocess\" -> \"hcrl_sa/vgae_small_autoencoder_kd/seed=1\"", dot);

        // -p:RunId is History's: Compare still shows current results, and says so (KDG5014).
        var compare = s.Build("-t:Compare", "-p:Dataset=hcrl_sa", "-p:Metrics=f1", "-p:RunId=some-run");
        Assert.True(compare.ExitCode == 0, compare.ToString());
        Assert.Contains("warning KDG5014", compare.Output);
        // f1 is 0.0, 0.1, 0.2 for seeds 0, 1, 2: mean 0.1, sample std 0.1.
        Assert.Matches(@"hcrl_sa\s+f1\s+0\.1 ± 0\.1 \(n=3\)\s+0\.1 ± 0\.1 \(n=3\)\s+0\.1 ± 0\.1 \(n=3\)", compare.Output);
    }

    /// <summary>
    /// A stage that was swept and no longer is: its unswept run dir is the parent of the old points'
    /// folders (seed=0/, seed=1/). They were left in place, so a command resuming from `*/model.ckpt`
    /// found seed=0's and that was recorded as current, while Clean and a build gave a fresh result
    /// (found by review). Now the attempt sees the run dir a from-scratch build gives it, and the
    /// commit drops the old points' folders (README, Design choices).
    /// </summary>
    [Fact]
    public void AStageThatIsNoLongerSwept_DoesNotSeeItsOldPointsFolders()
    {
        using var s = Sandbox.Trivial();
        const string sweep = "    sweep: { seed: [0, 1] }\n";
        s.EditConfig(c => c.Replace("  vgae_large_autoencoder:\n", "  vgae_large_autoencoder:\n" + sweep, StringComparison.Ordinal));
        s.PrefixCommand("vgae_large_autoencoder", "if ls */model.ckpt >/dev/null 2>&1; then echo resumed; else echo fresh; fi > origin.txt; ");
        var swept = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(swept.ExitCode == 0, swept.ToString());
        var runDir = s.RunDir("hcrl_sa", "vgae_large_autoencoder");
        Assert.Equal("fresh\n", File.ReadAllText(Path.Combine(runDir, "seed=0", "origin.txt")));

        s.EditConfig(c => c.Replace(sweep, "", StringComparison.Ordinal));
        var unswept = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(unswept.ExitCode == 0, unswept.ToString());

        Assert.Contains("hcrl_sa/vgae_large_autoencoder", Sandbox.Instances(s.LastBuild(), Outcome.Ran));
        Assert.Equal("fresh\n", File.ReadAllText(Path.Combine(runDir, "origin.txt")));
        Assert.False(Directory.Exists(Path.Combine(runDir, "seed=0")));
        Assert.False(Directory.Exists(Path.Combine(s.RunDir("hcrl_sa", "eval_large_evaluation"), "seed=1"))); // a downstream's too, when it ran unswept
        var again = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Empty(Sandbox.Instances(s.LastBuild(), Outcome.Ran));
    }
    /// <summary>
    /// A stage built unswept, then swept, then unswept again: its manifest from before the sweep still
    /// matched, so it was up to date again with the points' folders beside its outputs, a run dir no
    /// from-scratch build has (found by review); while swept, its model.ckpt sat above the points'.
    /// The points' first attempts retire the unswept result; removing the sweep brings it back (from
    /// the cache, or by a run) and that commit drops the points' folders.
    /// </summary>
    [Fact]
    public void ASweptStageUnsweptAgain_IsNotUpToDateBesideItsPointsFolders()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa").ExitCode);
        var runDir = s.RunDir("hcrl_sa", "vgae_large_autoencoder");
        Assert.True(File.Exists(Path.Combine(runDir, "model.ckpt")));

        const string sweep = "    sweep: { seed: [0, 1] }\n";
        s.EditConfig(c => c.Replace("  vgae_large_autoencoder:\n", "  vgae_large_autoencoder:\n" + sweep, StringComparison.Ordinal));
        var swept = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(swept.ExitCode == 0, swept.ToString());
        Assert.True(File.Exists(Path.Combine(runDir, "seed=1", "model.ckpt")));
        Assert.Equal(["logs", "seed=0", "seed=1"], Directory.GetFileSystemEntries(runDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        s.EditConfig(c => c.Replace(sweep, "", StringComparison.Ordinal));
        var unswept = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(unswept.ExitCode == 0, unswept.ToString());
        Assert.Contains("hcrl_sa/vgae_large_autoencoder", Sandbox.Instances(s.LastBuild(), Outcome.Ran).Concat(Sandbox.Instances(s.LastBuild(), Outcome.Restored)));
        Assert.False(Directory.Exists(Path.Combine(runDir, "seed=0")));
        Assert.True(File.Exists(Path.Combine(runDir, "model.ckpt")));
    }
    /// <summary>
    /// A review: a newly swept stage whose first point failed had its unswept result deleted before
    /// the attempt, although the build said "the previous result is kept"; with the cache off (hours
    /// of training) removing the sweep again ran the stage anew. Retired only once a point has a result.
    /// </summary>
    [Fact]
    public void ANewlySweptStageWhosePointFails_KeepsItsUnsweptResult()
    {
        using var s = Sandbox.Trivial();
        s.Env["KDGAT_CACHE"] = "off";
        Assert.Equal(0, s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa").ExitCode);
        var runDir = s.RunDir("hcrl_sa", "vgae_large_autoencoder");
        var model = File.ReadAllBytes(Path.Combine(runDir, "model.ckpt"));

        const string sweep = "    sweep: { seed: [0] }\n";
        s.EditConfig(c => c.Replace("  vgae_large_autoencoder:\n", "  vgae_large_autoencoder:\n" + sweep, StringComparison.Ordinal));
        s.PrefixCommand("vgae_large_autoencoder", "exit 3; ");
        var failed = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains("hcrl_sa/vgae_large_autoencoder/seed=0", Sandbox.Instances(s.LastBuild(), Outcome.Failed));
        Assert.Equal(model, File.ReadAllBytes(Path.Combine(runDir, "model.ckpt")));
        Assert.True(File.Exists(Path.Combine(runDir, "kdgat.manifest.json")));

        s.EditConfig(c => c.Replace(sweep, "", StringComparison.Ordinal).Replace("exit 3; ", "", StringComparison.Ordinal));
        var unswept = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(unswept.ExitCode == 0, unswept.ToString());
        Assert.Empty(Sandbox.Instances(s.LastBuild(), Outcome.Ran));
    }

    /// <summary>
    /// An unswept result beside folders of former sweep points that no point's attempt retired (a
    /// result put back by recovery after an interrupted attempt, a batch job still running when the
    /// stage was swept, a tree from before the retiring; a review reproduced the first) is not up
    /// to date: it runs again and its commit drops them. A folder or file merely named with a '='
    /// and no KdGat manifest in it is the stage's own business.
    /// </summary>
    [Fact]
    public void AnUnsweptResultBesideFormerPointsFolders_RunsAgainAndDropsThem()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa").ExitCode);
        var runDir = s.RunDir("hcrl_sa", "vgae_large_autoencoder");
        Directory.CreateDirectory(Path.Combine(runDir, "fold=1"));
        File.WriteAllText(Path.Combine(runDir, "note=x.txt"), "");
        Assert.Equal(0, s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa").ExitCode);
        Assert.Empty(Sandbox.Instances(s.LastBuild(), Outcome.Ran));

        var point = Directory.CreateDirectory(Path.Combine(runDir, "seed=0")).FullName;
        File.Copy(Path.Combine(runDir, "kdgat.manifest.json"), Path.Combine(point, "kdgat.manifest.json"));
        var explain = s.Build("-t:Explain", "-p:Dataset=hcrl_sa");
        Assert.Matches(@"hcrl_sa/vgae_large_autoencoder\s+would-\w+\s+its run dir holds folders of former sweep points \(seed=0/\)", explain.Output);

        var again = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("hcrl_sa/vgae_large_autoencoder", Sandbox.Instances(s.LastBuild(), Outcome.Ran).Concat(Sandbox.Instances(s.LastBuild(), Outcome.Restored)));
        Assert.False(Directory.Exists(point));
        Assert.Equal(0, s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa").ExitCode);
        Assert.Empty(Sandbox.Instances(s.LastBuild(), Outcome.Ran));

        // A former point's folder the stage declares as an input is its own, never dropped: counted, it reran at every build (a review).
        Directory.CreateDirectory(point);
        File.Copy(Path.Combine(runDir, "kdgat.manifest.json"), Path.Combine(point, "kdgat.manifest.json"));
        s.EditConfig(c => c.Replace("    params_file: models/vgae/large.yaml\n", "    params_file: models/vgae/large.yaml\n    inputs: ['experimentruns/{dataset}/vgae_large_autoencoder/seed=0']\n", StringComparison.Ordinal));
        Assert.Equal(0, s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa").ExitCode); // runs: its inputs changed
        Assert.Equal(0, s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa").ExitCode);
        Assert.Empty(Sandbox.Instances(s.LastBuild(), Outcome.Ran).Concat(Sandbox.Instances(s.LastBuild(), Outcome.Restored)));
        Assert.True(File.Exists(Path.Combine(point, "kdgat.manifest.json")));
    }
}
