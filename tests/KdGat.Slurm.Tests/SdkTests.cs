using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit.Abstractions;

namespace KdGat.Slurm.Tests;

/// <summary>The outside-repository KdGat.Sdk build (see KdGat.EndToEnd.Tests' SdkTests) with every stage a job on the local cluster.</summary>
[Trait("Category", "Slurm")]
public sealed class SdkTests(ITestOutputHelper output)
{
    private static readonly string[] Chain = ["d1/evaluate", "d1/preprocess", "d1/train"];

    private ProcessResult Build(SdkRepo repo)
    {
        var r = repo.Build("-p:Executor=slurm");
        output.WriteLine($"== build -p:Executor=slurm: exit {r.ExitCode}\n{r.Output}");
        return r;
    }

    [SlurmFact]
    public void A_repository_using_the_package_runs_its_stages_as_slurm_jobs_incrementally()
    {
        if (!Cluster.Available(output)) return;
        using var repo = SdkRepo.Create();

        Assert.Equal(0, Build(repo).ExitCode);
        var report = repo.LastBuild();
        Assert.Equal("slurm", report.Executor);
        Assert.Equal(Chain, Sandbox.With(report, Outcome.Ran));
        var jobs = Cluster.JobsUnder(repo.Dir, 3);
        Assert.Equal(3, jobs.Count);
        Assert.All(jobs, j => Assert.Equal("COMPLETED", j.State));

        Assert.Equal(0, Build(repo).ExitCode);
        Assert.Equal(Chain, Sandbox.With(repo.LastBuild(), Outcome.UpToDate));
        Assert.Equal(3, Cluster.LiveJobsUnder(repo.Dir).Count); // no new job

        var raw = File.ReadAllBytes(repo.RawFile);
        raw[^2] = (byte)'1';
        File.WriteAllBytes(repo.RawFile, raw);
        Assert.Equal(0, Build(repo).ExitCode);
        Assert.Equal(Chain, Sandbox.With(repo.LastBuild(), Outcome.Ran));
        Assert.Equal(6, Cluster.JobsUnder(repo.Dir, 6).Count);
        Assert.Contains("00FF,1\n", File.ReadAllText(Path.Combine(repo.RunDir("train"), "model.ckpt")));
    }
}
