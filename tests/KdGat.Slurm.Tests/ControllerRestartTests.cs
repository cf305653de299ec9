using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit.Abstractions;

namespace KdGat.Slurm.Tests;

/// <summary>Tests that stop or change the whole cluster: run after every other collection, one at a time.</summary>
[CollectionDefinition(ControllerRestartTests.Alone, DisableParallelization = true)]
public sealed class AloneOnTheCluster;

/// <summary>A restart of slurmctld while a build polls. Stopping the controller would fail the other classes' own sbatch/squeue calls, so this runs alone, after the classes that run side by side.</summary>
[Collection(Alone)]
[Trait("Category", "Slurm")]
public sealed class ControllerRestartTests(ITestOutputHelper output)
{
    public const string Alone = "alone on the cluster";

    [SlurmFact]
    public void A_restarting_slurmctld_fails_no_job()
    {
        if (!Cluster.Available(output)) return;
        var pidFile = ProcessRunner.Run("scontrol", ["show", "config"], "/").Output.Split('\n')
            .Select(l => l.Split('=', 2)).Where(f => f.Length == 2 && f[0].Trim() == "SlurmctldPidFile").Select(f => f[1].Trim()).SingleOrDefault();
        if (Environment.UserName != "root" || pidFile is null || !File.Exists(pidFile))
        {
            output.WriteLine("SKIPPED: restarting slurmctld needs root and its pid file");
            return;
        }
        using var sb = SlurmSandbox.Trivial(poll: 0.3, maxPoll: 1);
        foreach (var stage in new[] { "preprocess", "vgae_large_autoencoder" }) sb.PrefixCommand(stage, "sleep 3; ");
        using var p = sb.Start(["-t:Large", "-p:Dataset=hcrl_sa"], out var log);
        var journal = Path.Combine(sb.Dir, "experimentruns", "hcrl_sa", ".kdgat", "eval_large_evaluation", "attempt.json");
        Eventually.Within(TimeSpan.FromMinutes(2), () => File.Exists(journal) && File.ReadAllText(journal).Contains("slurm:", StringComparison.Ordinal) || p.HasExited, TimeSpan.FromMilliseconds(50));
        Assert.False(p.HasExited, "build ended before the jobs were submitted:\n" + log);

        // Stop the controller while the build polls, keep it down for a few polls, start it again.
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        ProcessRunner.Run("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], "/");
        Eventually.Until(() => !Directory.Exists($"/proc/{pid}"), TimeSpan.FromMinutes(1), "slurmctld has stopped", TimeSpan.FromMilliseconds(100));
        Thread.Sleep(4000);
        Assert.Equal(0, ProcessRunner.Run("/usr/sbin/slurmctld", [], "/").ExitCode);

        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "build did not finish:\n" + log);
        p.WaitForExit();
        lock (log) output.WriteLine(log.ToString());
        Assert.Equal(0, p.ExitCode);
        Assert.Equal(5, Sandbox.With(sb.LastBuild(), Outcome.Ran).Length);
        // (The SLURM clients themselves retry a lost controller for a while; queries that still fail are retried with KDG4004.)
    }
}
