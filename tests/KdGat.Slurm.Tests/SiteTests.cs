using System.Diagnostics;
using System.Text.RegularExpressions;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit.Abstractions;

namespace KdGat.Slurm.Tests;

/// <summary>What a real site needs, on the local cluster: ${VAR} in resources, max_jobs, latency_wait, setup lines, executor: local.</summary>
[Trait("Category", "Slurm")]
public sealed class SiteTests(ITestOutputHelper output)
{
    private ProcessResult Build(Sandbox sb, params string[] args) => SlurmSandbox.Build(sb, output, args);

    [SlurmFact]
    public void Resource_variables_come_from_the_builds_environment_and_an_unset_one_stops_the_build_before_any_job()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.EditConfig(c => c.Replace("resources: { cpus: 1, mem: 200M }", "resources: { cpus: 1, mem: 200M, partition: '${KDGAT_TEST_PARTITION}' }"));
        Assert.Contains("partition: '${KDGAT_TEST_PARTITION}'", File.ReadAllText(sb.Config));

        var unset = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, unset.ExitCode);
        Assert.Matches(@"kdgat\.yaml\(\d+,\d+\): error KDG1025", unset.Output);
        Assert.Contains("stage 'preprocess'.resources.partition", unset.Output);
        Assert.Contains("${KDGAT_TEST_PARTITION}", unset.Output);
        Assert.Empty(Cluster.LiveJobsUnder(sb.Dir)); // a configuration error: nothing was submitted

        sb.Env["KDGAT_TEST_PARTITION"] = "cpu";
        Assert.Equal(0, Build(sb, "-t:Preprocess", "-p:Dataset=hcrl_sa").ExitCode);
        var script = File.ReadAllLines(Directory.GetFiles(Path.Combine(sb.RunDir("hcrl_sa", "preprocess"), "logs"), "*.sbatch").Single());
        Assert.Contains("#SBATCH --partition=cpu", script);
        var job = Assert.Single(Cluster.LiveJobsUnder(sb.Dir));
        Assert.Contains("Partition=cpu ", ProcessRunner.Run("scontrol", ["show", "job", job.Id], "/").Output);
    }

    [SlurmFact]
    public async Task Max_jobs_keeps_at_most_that_many_of_the_builds_jobs_in_the_queue_and_every_stage_completes()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial(poll: 0.3, maxPoll: 0.5);
        sb.EditConfig(c => c.Replace("slurm:\n  poll_seconds", "slurm:\n  max_jobs: 2\n  poll_seconds"));
        Assert.Contains("max_jobs: 2", File.ReadAllText(sb.Config));

        var peak = 0;
        var samples = 0;
        using var stop = new CancellationTokenSource();
        var poller = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var queued = Cluster.LiveJobsUnder(sb.Dir).Count(j => j.State is "PENDING" or "RUNNING" or "CONFIGURING" or "COMPLETING");
                peak = Math.Max(peak, queued);
                samples++;
                Thread.Sleep(50); // sampling interval of the observer, not a wait for a condition
            }
        });
        var r = Build(sb, "-t:Evaluate", "-p:Dataset=hcrl_sa");
        stop.Cancel();
        await poller;
        output.WriteLine($"squeue samples: {samples}, most of this build's jobs queued at once: {peak}");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(13, Sandbox.With(sb.LastBuild(), Outcome.Ran).Length);
        Assert.True(samples > 20, $"only {samples} squeue samples");
        Assert.InRange(peak, 1, 2);
        var jobs = Cluster.JobsUnder(sb.Dir, 13);
        Assert.Equal(13, jobs.Count);
        Assert.All(jobs, j => Assert.Equal("COMPLETED", j.State));
    }

    [SlurmFact]
    public void Latency_wait_collects_an_output_that_appears_only_after_the_job_has_ended()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.EditConfig(c => c.Replace("slurm:\n  poll_seconds", "slurm:\n  latency_wait: 30\n  poll_seconds"));
        // The job writes model.ckpt; train_log.json shows up on "this node" only a moment after the job ended, as on NFS.
        sb.EditConfig(c => Regex.Replace(c, @"(vgae_large_autoencoder:\n    command: '[^']*?) && echo \{stage\} > train_log.json'", "$1'"));
        Assert.Matches(@"vgae_large_autoencoder:\n    command: '[^']*> curves.jsonl'", File.ReadAllText(sb.Config));
        Assert.Equal(0, Build(sb, "-t:Preprocess", "-p:Dataset=hcrl_sa").ExitCode);

        using var p = sb.Start(["-t:RunStage", "-p:Stage=vgae_large_autoencoder", "-p:Dataset=hcrl_sa"], out var log);
        var sw = Stopwatch.StartNew();
        Cluster.Job? job = null;
        while (job?.State != "COMPLETED" && !p.HasExited && sw.Elapsed < TimeSpan.FromMinutes(2))
        {
            job = Cluster.LiveJobsUnder(sb.Dir).SingleOrDefault(j => j.Name.EndsWith("-vgae_large_autoencoder", StringComparison.Ordinal));
            if (job?.State != "COMPLETED") Thread.Sleep(100);
        }
        Assert.False(p.HasExited, "the build ended before the test could write the late output:\n" + log);
        Thread.Sleep(2000); // the simulated file-system lag itself
        File.WriteAllText(Path.Combine(sb.RunDir("hcrl_sa", "vgae_large_autoencoder"), "train_log.json"), "late\n");
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "build did not finish:\n" + log);
        p.WaitForExit();
        lock (log) output.WriteLine(log.ToString());
        Assert.Equal(0, p.ExitCode);
        Assert.DoesNotContain("KDG3002", log.ToString());
        Assert.Equal(Outcome.Ran, sb.LastBuild().Stages.Single(s => s.Stage == "vgae_large_autoencoder").Outcome);
    }

    [SlurmFact]
    public void An_executor_local_stage_runs_here_and_setup_lines_run_before_the_command_of_each_job()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.EditConfig(c => c.Replace("  preprocess:\n", "  preprocess:\n    executor: local\n")
            .Replace("  vgae_large_autoencoder:\n", "  vgae_large_autoencoder:\n    setup: ['GREETING=\"hello from setup\"', 'export GREETING']\n"));
        sb.PrefixCommand("vgae_large_autoencoder", "echo \"$GREETING\" > greeting.txt; ");
        Assert.Contains("executor: local", File.ReadAllText(sb.Config));

        var r = Build(sb, "-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, r.ExitCode);
        var report = sb.LastBuild();
        Assert.Equal(13, Sandbox.With(report, Outcome.Ran).Length);
        Assert.StartsWith("pid:", report.Stages.Single(s => s.Stage == "preprocess").JobId);
        Assert.Contains("hcrl_sa/preprocess: running:", r.Output); // it runs here: not "submitting" (nor a queued box in the live report)
        Assert.Contains("hcrl_sa/vgae_large_autoencoder: submitting:", r.Output);
        var jobs = Cluster.JobsUnder(sb.Dir, 12);
        Assert.Equal(12, jobs.Count); // sacct: every stage but preprocess was a job
        Assert.DoesNotContain(jobs, j => j.Name.EndsWith("-preprocess", StringComparison.Ordinal));
        Assert.All(jobs, j => Assert.Equal("COMPLETED", j.State));

        var run = sb.RunDir("hcrl_sa", "vgae_large_autoencoder");
        Assert.Equal("hello from setup\n", File.ReadAllText(Path.Combine(run, "greeting.txt")));
        var script = File.ReadAllText(Directory.GetFiles(Path.Combine(run, "logs"), "*.sbatch").Single());
        Assert.True(script.IndexOf("export GREETING", StringComparison.Ordinal) < script.IndexOf("greeting.txt", StringComparison.Ordinal), script);

        // Setup is fingerprinted: a changed line reruns that stage; stages it does not reach stay up to date.
        sb.EditConfig(c => c.Replace("'export GREETING'", "'export GREETING # module load cuda/12'"));
        Assert.Equal(0, Build(sb, "-t:Evaluate", "-p:Dataset=hcrl_sa").ExitCode);
        var again = sb.LastBuild();
        Assert.Equal(Outcome.Ran, again.Stages.Single(s => s.Stage == "vgae_large_autoencoder").Outcome);
        Assert.Equal(Outcome.UpToDate, again.Stages.Single(s => s.Stage == "preprocess").Outcome);
        Assert.Equal(Outcome.UpToDate, again.Stages.Single(s => s.Stage == "vgae_small_autoencoder").Outcome);
    }
}
