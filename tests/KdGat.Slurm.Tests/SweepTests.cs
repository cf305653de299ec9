using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit.Abstractions;

namespace KdGat.Slurm.Tests;

/// <summary>The bundled pipeline swept over 3 seeds, every instance a job on the local cluster.</summary>
[Trait("Category", "Slurm")]
public sealed class SweepTests(ITestOutputHelper output)
{
    private ProcessResult Build(Sandbox sb, params string[] args) => SlurmSandbox.Build(sb, output, args);

    [SlurmFact]
    public void Three_seeds_run_as_37_jobs_a_fourth_seed_submits_only_its_12_and_Compare_aggregates()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial().WithSeeds();

        var r = Build(sb, "-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, r.ExitCode);
        var report = sb.LastBuild();
        Assert.Equal("slurm", report.Executor);
        Assert.Equal(37, Sandbox.Instances(report, Outcome.Ran).Length);
        Assert.All(report.Stages, s => Assert.False(string.IsNullOrEmpty(s.JobId)));
        var jobs = Cluster.JobsUnder(sb.Dir, 37);
        Assert.Equal(37, jobs.Count);
        Assert.All(jobs, j => Assert.Equal("COMPLETED", j.State));
        // Each instance its own job, named and run in its own run dir.
        Assert.Contains(jobs, j => j.Name == "kdgat-hcrl_sa-gat_small_curriculum_kd.seed_1"
                                   && j.WorkDir == Path.Combine(sb.RunDir("hcrl_sa", "gat_small_curriculum_kd"), "seed=1"));
        Assert.Equal(37, jobs.Select(j => j.Name).Distinct().Count());

        var again = Build(sb, "-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(37, Sandbox.Instances(sb.LastBuild(), Outcome.UpToDate).Length);
        Assert.Equal(37, Cluster.LiveJobsUnder(sb.Dir).Count); // no new job

        sb.EditConfig(c => c.Replace("seed: [0, 1, 2]", "seed: [0, 1, 2, 3]"));
        var more = Build(sb, "-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, more.ExitCode);
        var added = Sandbox.Instances(sb.LastBuild(), Outcome.Ran);
        Assert.Equal(12, added.Length);
        Assert.All(added, k => Assert.EndsWith("/seed=3", k));
        Assert.Equal(49, Cluster.JobsUnder(sb.Dir, 49).Count);

        var compare = Build(sb, "-t:Compare", "-p:Dataset=hcrl_sa", "-p:Metrics=f1");
        Assert.Equal(0, compare.ExitCode);
        // f1 is 0.0 .. 0.3 for seeds 0 .. 3: mean 0.15, sample std 0.1291.
        Assert.Matches(@"hcrl_sa\s+f1\s+0\.15 ± 0\.1291 \(n=4\)", compare.Output);
    }
}
