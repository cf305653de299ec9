using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// -t:Adopt (the `snakemake --touch` of KdGat): outputs produced outside KdGat, with no manifests,
/// params.json or .kdgat state, become up to date without running anything.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class AdoptTests
{
    /// <summary>A built dataset stripped of everything KdGat wrote but the outputs: what a Snakemake run leaves.</summary>
    private static Sandbox BuiltThenForgotten()
    {
        var s = Sandbox.Trivial();
        var build = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(build.ExitCode == 0, build.ToString());
        var runs = Path.Combine(s.Dir, "experimentruns");
        foreach (var f in Directory.GetFiles(runs, "kdgat.manifest.json", SearchOption.AllDirectories)
                     .Concat(Directory.GetFiles(runs, "params.json", SearchOption.AllDirectories)))
            File.Delete(f);
        foreach (var d in Directory.GetDirectories(runs, ".kdgat", SearchOption.AllDirectories)) Directory.Delete(d, recursive: true);
        Directory.Delete(Path.Combine(s.Dir, ".kdgat"), recursive: true);
        Assert.Empty(Directory.GetFiles(runs, "kdgat.manifest.json", SearchOption.AllDirectories));
        return s;
    }

    [Fact]
    public void AdoptedResults_BuildRunsNothing_AndAParameterChangeRerunsExactlyItsSubtree()
    {
        using var s = BuiltThenForgotten();

        var adopt = s.Build("-t:Adopt", "-p:Dataset=hcrl_sa");
        Assert.True(adopt.ExitCode == 0, adopt.ToString());
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.Adopted).Length);
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.True(File.Exists(Path.Combine(s.RunDir("hcrl_sa", "gat_large_curriculum"), "params.json")));

        var build = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length);

        var history = s.Build("-t:History", "-p:Stage=gat_large_curriculum", "-p:Dataset=hcrl_sa");
        Assert.True(history.ExitCode == 0, history.ToString());
        Assert.Contains("adopted", history.Output);
        var status = s.Build("-t:Status", "-p:Dataset=hcrl_sa");
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Contains("produced outside KdGat", status.Output);

        var again = s.Build("-t:Adopt", "-p:Dataset=hcrl_sa");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length); // up-to-date instances are left alone

        var gatLarge = Path.Combine(s.Dir, "models", "gat", "large.yaml");
        File.WriteAllText(gatLarge, File.ReadAllText(gatLarge).Replace("lr: 0.001", "lr: 0.002"));
        var changed = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(changed.ExitCode == 0, changed.ToString());
        Assert.Equal(IncrementalBuildTests.GatLargeDownstream, Sandbox.With(s.LastBuild(), Outcome.Ran));
    }

    [Fact]
    public void MissingOutputs_AreRefusedAndListed_TheRestIsAdopted()
    {
        using var s = BuiltThenForgotten();
        File.Delete(Path.Combine(s.RunDir("hcrl_sa", "gat_large_curriculum"), "model.ckpt"));

        var adopt = s.Build("-t:Adopt", "-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, adopt.ExitCode);
        Assert.Contains("KDG2015", adopt.Output);
        Assert.Contains("hcrl_sa/gat_large_curriculum", adopt.Output);
        Assert.Contains("experimentruns/hcrl_sa/gat_large_curriculum/model.ckpt", adopt.Output);
        var report = s.LastBuild();
        Assert.Equal(["hcrl_sa/gat_large_curriculum"], Sandbox.With(report, Outcome.Failed));
        // Its downstream is not adopted against outputs that are not there; independent stages are.
        Assert.Equal(IncrementalBuildTests.GatLargeDownstream.Where(x => x != "hcrl_sa/gat_large_curriculum"), Sandbox.With(report, Outcome.Skipped));
        Assert.Equal(7, Sandbox.With(report, Outcome.Adopted).Length);
        Assert.False(File.Exists(Path.Combine(s.RunDir("hcrl_sa", "gat_large_curriculum"), "kdgat.manifest.json")));

        var explain = s.Build("-t:Explain", "-p:Dataset=hcrl_sa");
        Assert.True(explain.ExitCode == 0, explain.ToString());
        Assert.Equal(IncrementalBuildTests.GatLargeDownstream, Sandbox.With(s.LastBuild(), Outcome.WouldRun));
    }

    [Fact]
    public void ManifestThatSaysOtherwise_IsKept_UnlessAdoptOverwrite()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        // Results re-produced outside KdGat: the output no longer matches what the manifest records.
        var metrics = Path.Combine(s.RunDir("hcrl_sa", "eval_large_evaluation"), "metrics.json");
        File.WriteAllText(metrics, "{\"f1\": 0.9}");
        var manifest = Path.Combine(s.RunDir("hcrl_sa", "eval_large_evaluation"), "kdgat.manifest.json");
        var before = File.ReadAllBytes(manifest);

        var adopt = s.Build("-t:Adopt", "-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, adopt.ExitCode);
        Assert.Contains("KDG2016", adopt.Output);
        Assert.Contains("hcrl_sa/eval_large_evaluation", adopt.Output);
        Assert.Contains("AdoptOverwrite", adopt.Output);
        Assert.Equal(["hcrl_sa/eval_large_evaluation"], Sandbox.With(s.LastBuild(), Outcome.Failed));
        Assert.Equal(12, Sandbox.With(s.LastBuild(), Outcome.UpToDate).Length);
        Assert.Equal(before, File.ReadAllBytes(manifest));

        var overwrite = s.Build("-t:Adopt", "-p:Dataset=hcrl_sa", "-p:AdoptOverwrite=true");
        Assert.True(overwrite.ExitCode == 0, overwrite.ToString());
        Assert.Equal(["hcrl_sa/eval_large_evaluation"], Sandbox.With(s.LastBuild(), Outcome.Adopted));
        var build = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
        Assert.Equal("{\"f1\": 0.9}", File.ReadAllText(metrics));
    }

    /// <summary>
    /// Review: after KDG2017 refused the downstream of a model replaced by hand, deleting its manifest
    /// and adopting it alone made its old outputs (made from the old model) current. The manifest
    /// archive still records them as made from the old model: refused, naming that record.
    /// </summary>
    [Fact]
    public void DeletedManifest_OfOutputsMadeFromAReplacedModel_IsStillRefused()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        File.AppendAllText(Path.Combine(s.RunDir("hcrl_sa", "gat_large_curriculum"), "model.ckpt"), "retrained by hand\n");
        var overwrite = s.Build("-t:Adopt", "-p:Dataset=hcrl_sa", "-p:AdoptOverwrite=true");
        Assert.NotEqual(0, overwrite.ExitCode);
        Assert.Contains("KDG2017", overwrite.Output);
        Assert.Contains("hcrl_sa/dqn_large_fusion", Sandbox.With(s.LastBuild(), Outcome.Failed));
        File.Delete(Path.Combine(s.RunDir("hcrl_sa", "dqn_large_fusion"), "kdgat.manifest.json"));

        var adopt = s.Build("-t:Adopt", "-p:Dataset=hcrl_sa", "-p:Stage=dqn_large_fusion");

        Assert.NotEqual(0, adopt.ExitCode);
        Assert.Contains("KDG2017", adopt.Output);
        Assert.Contains(".kdgat/manifests/hcrl_sa/dqn_large_fusion/", adopt.Output);
        Assert.Contains("upstream gat_large_curriculum", adopt.Output);
        Assert.Equal(["hcrl_sa/dqn_large_fusion"], Sandbox.With(s.LastBuild(), Outcome.Failed));
        Assert.False(File.Exists(Path.Combine(s.RunDir("hcrl_sa", "dqn_large_fusion"), "kdgat.manifest.json")));
    }
    /// <summary>
    /// Review: a parameter changed, then Adopt with the AdoptOverwrite KDG2016 suggested made the model
    /// trained with the old value current, and every metric after it stale and "up-to-date". The
    /// manifest records those very bytes as made with the old value: refused (KDG2017), and the build reruns.
    /// </summary>
    [Fact]
    public void AChangedParameter_ThenAdoptWithOverwrite_IsRefused_AndTheNextBuildReruns()
    {
        using var s = Sandbox.Trivial();
        Assert.Equal(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);
        File.AppendAllText(Path.Combine(s.Dir, "models", "gat", "large.yaml"), "\nextra_knob: 1\n");

        var adopt = s.Build("-t:Adopt", "-p:Dataset=hcrl_sa", "-p:Stage=gat_large_curriculum", "-p:AdoptOverwrite=true");

        Assert.NotEqual(0, adopt.ExitCode);
        Assert.Contains("KDG2017", adopt.Output);
        Assert.Contains("extra_knob", adopt.Output);
        Assert.Equal(["hcrl_sa/gat_large_curriculum"], Sandbox.With(s.LastBuild(), Outcome.Failed));
        var build = s.Build("-p:Dataset=hcrl_sa");
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.Equal(IncrementalBuildTests.GatLargeDownstream, Sandbox.With(s.LastBuild(), Outcome.Ran));
    }
}
