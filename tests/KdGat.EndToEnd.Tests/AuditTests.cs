using System.Text;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit;

namespace KdGat.EndToEnd.Tests;

/// <summary>
/// -t:Audit on the real sample stages under the real strace. The sandbox's pipeline.proj and
/// kdgat.yaml are written here, not copied, so the test does not depend on the bundled DAG.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class AuditTests
{
    // The KD-GAT DAG with the Needs pipeline.proj had when issue 11 was filed: only the VGAE stages need preprocess.
    private static readonly (string Stage, string[] Needs)[] OldDag =
    [
        ("preprocess", []),
        ("vgae_large_autoencoder", ["preprocess"]),
        ("gat_large_curriculum", ["vgae_large_autoencoder"]),
        ("dqn_large_fusion", ["vgae_large_autoencoder", "gat_large_curriculum"]),
        ("vgae_small_autoencoder_kd", ["vgae_large_autoencoder", "preprocess"]),
        ("gat_small_curriculum_kd", ["gat_large_curriculum", "vgae_small_autoencoder_kd"]),
        ("dqn_small_fusion_kd", ["dqn_large_fusion", "vgae_small_autoencoder_kd", "gat_small_curriculum_kd"]),
        ("vgae_small_autoencoder", ["preprocess"]),
        ("gat_small_curriculum", ["vgae_small_autoencoder"]),
        ("dqn_small_fusion", ["vgae_small_autoencoder", "gat_small_curriculum"]),
        ("eval_large_evaluation", ["vgae_large_autoencoder", "gat_large_curriculum", "dqn_large_fusion"]),
        ("eval_small_evaluation_kd", ["vgae_small_autoencoder_kd", "gat_small_curriculum_kd", "dqn_small_fusion_kd"]),
        ("eval_small_evaluation", ["vgae_small_autoencoder", "gat_small_curriculum", "dqn_small_fusion"]),
    ];

    private static string Target(string stage) => stage == "preprocess" ? "preprocess_stage" : stage;

    private static string PipelineProj(bool everyStageNeedsPreprocess)
    {
        var sb = new StringBuilder("""
            <Project DefaultTargets="Evaluate">
              <PropertyGroup>
                <PreprocessDependsOn>preprocess_stage</PreprocessDependsOn>
                <TrainDependsOn>dqn_large_fusion;dqn_small_fusion_kd;dqn_small_fusion</TrainDependsOn>
                <LargeDependsOn>eval_large_evaluation</LargeDependsOn>
                <SmallKdDependsOn>eval_small_evaluation_kd</SmallKdDependsOn>
                <SmallNoKdDependsOn>eval_small_evaluation</SmallNoKdDependsOn>
                <EvaluateDependsOn>$(LargeDependsOn);$(SmallKdDependsOn);$(SmallNoKdDependsOn)</EvaluateDependsOn>
              </PropertyGroup>

            """);
        foreach (var (stage, old) in OldDag)
        {
            var needs = everyStageNeedsPreprocess && stage != "preprocess" ? old.Append("preprocess").Distinct().ToArray() : old;
            sb.Append($"""  <Target Name="{Target(stage)}" DependsOnTargets="{string.Join(';', needs.Select(Target))}">""")
              .Append($"""<ItemGroup><KdGatStage Include="{stage}" Needs="{string.Join(';', needs)}" /></ItemGroup></Target>""").Append('\n');
        }
        return sb.Append("""  <Import Project="targets/KdGat.Pipeline.targets" />""").Append("\n</Project>\n").ToString();
    }

    /// <summary>
    /// The sample stages, but those that do not need preprocess in the old DAG find the graph cache
    /// by a path they compute, as the real KD-GAT stages do from the dataset name: no {cache_dir},
    /// and no path the load-time check reads (a literal "../../../data/cache/hcrl_sa" is KDG1011).
    /// </summary>
    private static string Config()
    {
        const string cache = "$(cd ../../.. && pwd)/data/cache/hcrl_sa";
        string Train(string kind, string extra) =>
            $"'{{vars.sample}} {kind} --cache {cache} --params {{params_file}}{extra} --out {{run_dir}}'";
        string Eval(string v, string g, string d) =>
            $"'{{vars.sample}} evaluate --cache {cache} --vgae {{upstream.{v}}} --gat {{upstream.{g}}} --dqn {{upstream.{d}}} --out {{run_dir}}'";
        return $$"""
            datasets: [hcrl_sa]
            paths:
              runs: experimentruns
              raw: data/automotive/{dataset}
              cache: data/cache/{dataset}
            generator: '{vars.sample} generate --dataset {dataset} --out {raw_dir}'
            vars:
              sample: 'dotnet {tools}/KdGat.Sample.dll'
            defaults:
              retries: 0
            stages:
              preprocess:
                command: '{vars.sample} preprocess --raw {raw_dir} --out {cache_dir} --params {params_file}'
                inputs: ['{raw_dir}']
                outputs: ['{cache_dir}']
                params: { window: 50, stride: 25 }
              vgae_large_autoencoder:
                command: '{vars.sample} autoencoder --cache {cache_dir} --params {params_file} --out {run_dir}'
                params_file: models/vgae/large.yaml
                outputs: [model.ckpt, train_log.json]
              gat_large_curriculum:
                command: {{Train("curriculum", " --vgae {upstream.vgae_large_autoencoder}")}}
                params_file: models/gat/large.yaml
                outputs: [model.ckpt, train_log.json]
              dqn_large_fusion:
                command: {{Train("fusion", " --vgae {upstream.vgae_large_autoencoder} --gat {upstream.gat_large_curriculum}")}}
                params_file: models/dqn/large.yaml
                outputs: [model.ckpt, train_log.json]
              vgae_small_autoencoder_kd:
                teacher: vgae_large_autoencoder
                command: '{vars.sample} autoencoder --cache {cache_dir} --params {params_file} --teacher {teacher} --out {run_dir}'
                params_file: models/vgae/small.yaml
                params: { kd_alpha: 0.5, kd_temperature: 2.0 }
                outputs: [model.ckpt, train_log.json]
              gat_small_curriculum_kd:
                teacher: gat_large_curriculum
                command: {{Train("curriculum", " --vgae {upstream.vgae_small_autoencoder_kd} --teacher {teacher}")}}
                params_file: models/gat/small.yaml
                params: { kd_alpha: 0.5, kd_temperature: 2.0 }
                outputs: [model.ckpt, train_log.json]
              dqn_small_fusion_kd:
                teacher: dqn_large_fusion
                command: {{Train("fusion", " --vgae {upstream.vgae_small_autoencoder_kd} --gat {upstream.gat_small_curriculum_kd} --teacher {teacher}")}}
                params_file: models/dqn/small.yaml
                params: { kd_alpha: 0.5 }
                outputs: [model.ckpt, train_log.json]
              vgae_small_autoencoder:
                command: '{vars.sample} autoencoder --cache {cache_dir} --params {params_file} --out {run_dir}'
                params_file: models/vgae/small.yaml
                outputs: [model.ckpt, train_log.json]
              gat_small_curriculum:
                command: {{Train("curriculum", " --vgae {upstream.vgae_small_autoencoder}")}}
                params_file: models/gat/small.yaml
                outputs: [model.ckpt, train_log.json]
              dqn_small_fusion:
                command: {{Train("fusion", " --vgae {upstream.vgae_small_autoencoder} --gat {upstream.gat_small_curriculum}")}}
                params_file: models/dqn/small.yaml
                outputs: [model.ckpt, train_log.json]
              eval_large_evaluation:
                command: {{Eval("vgae_large_autoencoder", "gat_large_curriculum", "dqn_large_fusion")}}
                outputs: [metrics.json]
              eval_small_evaluation_kd:
                command: {{Eval("vgae_small_autoencoder_kd", "gat_small_curriculum_kd", "dqn_small_fusion_kd")}}
                outputs: [metrics.json]
              eval_small_evaluation:
                command: {{Eval("vgae_small_autoencoder", "gat_small_curriculum", "dqn_small_fusion")}}
                outputs: [metrics.json]
            """;
    }

    private static Sandbox AuditSandbox(bool fixedNeeds)
    {
        var s = Sandbox.Sample();
        File.WriteAllText(Path.Combine(s.Dir, "pipeline.proj"), PipelineProj(fixedNeeds));
        File.WriteAllText(s.Config, Config());
        return s;
    }

    private static readonly string[] AuditCodes = ["KDG6001", "KDG6002", "KDG6003", "KDG6006"];

    [Fact]
    public void HardCodedCachePath_WithOldNeeds_FailsNamingStageAndPreprocess_AndIsSilentOnceNeedsAreFixed()
    {
        using var s = AuditSandbox(fixedNeeds: false);

        var r = s.Build("-t:Audit", "-p:Dataset=hcrl_sa");

        Assert.True(r.ExitCode != 0, r.ToString());
        Assert.Contains("error KDG6001", r.Output);
        Assert.Contains("hcrl_sa/eval_large_evaluation read data/cache/hcrl_sa/", r.Output);
        Assert.Contains("preprocess is not in the Needs of eval_large_evaluation", r.Output);
        var lines = File.ReadAllLines(Path.Combine(s.Dir, "pipeline.proj")); // at the stage's target, where the fix goes (user review: the file alone before)
        var line = Array.FindIndex(lines, l => l.Contains("<Target Name=\"eval_large_evaluation\"", StringComparison.Ordinal)) + 1;
        Assert.Contains($"pipeline.proj({line},{lines[line - 1].IndexOf('<', StringComparison.Ordinal) + 1}): error KDG6001: hcrl_sa/eval_large_evaluation", r.Output);
        Assert.DoesNotContain("error KDG6001: hcrl_sa/vgae_large_autoencoder", r.Output); // it does need preprocess
        Assert.DoesNotContain("   at ", r.Output);
        Assert.True(File.Exists(Directory.GetFiles(Path.Combine(s.RunDir("hcrl_sa", "eval_large_evaluation"), "logs"), "*.strace").Single()));

        File.WriteAllText(Path.Combine(s.Dir, "pipeline.proj"), PipelineProj(everyStageNeedsPreprocess: true));
        var fixedAudit = s.Build("-t:Audit", "-p:Dataset=hcrl_sa");

        Assert.True(fixedAudit.ExitCode == 0, fixedAudit.ToString());
        foreach (var code in AuditCodes) Assert.DoesNotContain(code, fixedAudit.Output);
        Assert.Contains("KdGat: audit: 13 stage run(s) traced: 0 error(s), 0 warning(s)", fixedAudit.Output);
        Assert.Equal(13, Sandbox.With(s.LastBuild(), Outcome.Ran).Length); // up to date or not, every stage ran under strace

        // The audit's runs were normal runs: a build afterwards has nothing to do.
        var after = s.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.True(after.ExitCode == 0, after.ToString());
        Assert.Empty(Sandbox.With(s.LastBuild(), Outcome.Ran));
    }

    [Fact]
    public void AuditOfOneStage_TracesOnlyThatStage()
    {
        using var s = AuditSandbox(fixedNeeds: false);

        var r = s.Build("-t:Audit", "-p:Dataset=hcrl_sa", "-p:Stage=gat_large_curriculum");

        Assert.Contains("error KDG6001", r.Output);
        Assert.Contains("preprocess is not in the Needs of gat_large_curriculum", r.Output);
        Assert.Contains("KdGat: audit: 1 stage run(s) traced: 1 error(s), 0 warning(s)", r.Output);
        Assert.Empty(Directory.GetFiles(Path.Combine(s.RunDir("hcrl_sa", "vgae_large_autoencoder"), "logs"), "*.strace"));
    }

    [Fact]
    public void AuditWithSlurm_IsRefusedBeforeAnythingRuns()
    {
        using var s = AuditSandbox(fixedNeeds: true);

        var r = s.Build("-t:Audit", "-p:Dataset=hcrl_sa", "-p:Executor=slurm");

        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("error KDG6005", r.Output);
        Assert.Contains("-p:Executor=local", r.Output);
        Assert.False(Directory.Exists(Path.Combine(s.Dir, "experimentruns")));
    }
}
