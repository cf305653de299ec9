using KdGat.Core.Reporting;
using KdGat.Testing;
using Xunit.Abstractions;

namespace KdGat.Slurm.Tests;

/// <summary>Builds through real `dotnet msbuild` whose stages run as jobs on the local cluster.</summary>
[Collection("cluster")]
public sealed class EndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public void Trivial_pipeline_runs_as_slurm_jobs_and_a_second_build_submits_nothing()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        var t0 = DateTime.UtcNow;
        var r = sb.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        output.WriteLine($"first build {(DateTime.UtcNow - t0).TotalSeconds:0.0} s\n{r}");
        Assert.Equal(0, r.ExitCode);
        var report = sb.LastBuild();
        Assert.Equal("slurm", report.Executor);
        Assert.Equal(13, Sandbox.With(report, Outcome.Ran).Length);
        Assert.All(report.Stages, s => Assert.False(string.IsNullOrEmpty(s.JobId)));
        var jobs = Cluster.JobsUnder(sb.Dir);
        Assert.Equal(13, jobs.Count);
        Assert.All(jobs, j => Assert.Equal("COMPLETED", j.State));

        var again = sb.Build("-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(13, Sandbox.With(sb.LastBuild(), Outcome.UpToDate).Length);
        Assert.Equal(13, Cluster.JobsUnder(sb.Dir).Count); // no new job
    }
}
