using System.Text.Json;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit.Abstractions;

namespace KdGat.Slurm.Tests;

/// <summary>Jobs that end out of memory or out of time are submitted again with more, as far as the stage's retries and the partition allow.</summary>
[Trait("Category", "Slurm")]
public sealed class RetryTests(ITestOutputHelper output)
{
    private ProcessResult Build(Sandbox sb, params string[] args) => SlurmSandbox.Build(sb, output, args);

    /// <summary>
    /// vgae_large_autoencoder needs ~130 MB (tail keeps everything without a newline in memory) and
    /// asks for 100M, so its first job runs out of memory; 200M, the doubled request, is enough.
    /// </summary>
    private static void OutOfMemoryAt100M(Sandbox sb, string extraStageLines = "")
    {
        sb.PrefixCommand("vgae_large_autoencoder", "head -c 130M /dev/zero | tail > /dev/null; ");
        sb.EditConfig(c => c.Replace("resources: { gpus: 1, mem: 200M, time: '01:00:00' }\n  gat_large_curriculum",
                                     "resources: { gpus: 1, mem: 100M, time: '01:00:00' }\n" + extraStageLines + "  gat_large_curriculum"));
    }

    [SlurmFact]
    public void Out_of_memory_is_resubmitted_with_doubled_memory_and_the_record_shows_both_attempts()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        OutOfMemoryAt100M(sb);
        Assert.Contains("resources: { gpus: 1, mem: 100M, time: '01:00:00' }\n  gat_large_curriculum", File.ReadAllText(sb.Config));
        // -t:Large: the downstream jobs, chained on the first (OOM) job, are cancelled by SLURM and resubmitted after the retry.
        var r = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(5, Sandbox.With(sb.LastBuild(), Outcome.Ran).Length);
        var stage = sb.LastBuild().Stages.Single(s => s.Stage == "vgae_large_autoencoder");
        Assert.Equal(Outcome.Ran, stage.Outcome);
        Assert.Equal(2, stage.Attempts);

        var records = Directory.GetFiles(Path.Combine(sb.Dir, ".kdgat", "records", "hcrl_sa", "vgae_large_autoencoder"), "*.json")
            .Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement)
            .Where(e => e.TryGetProperty("attempt", out _))
            .OrderBy(e => e.GetProperty("attempt").GetInt32()).ToArray();
        Assert.Equal(2, records.Length);
        Assert.Equal("OutOfMemory", records[0].GetProperty("exec_state").GetString());
        Assert.Equal(100, records[0].GetProperty("mem_request_mb").GetInt64());
        Assert.Equal("Completed", records[1].GetProperty("exec_state").GetString());
        Assert.Equal(200, records[1].GetProperty("mem_request_mb").GetInt64());
        Assert.NotEqual(records[0].GetProperty("job_id").GetString(), records[1].GetProperty("job_id").GetString());
        Assert.True(records[1].GetProperty("peak_rss_kb").GetInt64() > 0, "MaxRSS from sacct");
        var states = Cluster.JobsUnder(sb.Dir, 6 + 3).Where(j => j.Name.EndsWith("vgae_large_autoencoder", StringComparison.Ordinal)).Select(j => j.State).Order().ToArray();
        Assert.Equal(["COMPLETED", "OUT_OF_MEMORY"], states);
    }

    /// <summary>
    /// A stage without mem runs with the cluster's default (the local cluster's DefMemPerCPU=1024 x
    /// cpus: 2 = 2G). Its retry asked 1024M x 2, the same 2G, and ran out of memory again (a SLURM
    /// review); now it asks twice what sacct says the job was given.
    /// </summary>
    [SlurmFact]
    public void Out_of_memory_without_mem_is_resubmitted_with_double_what_the_cluster_gave()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.PrefixCommand("vgae_large_autoencoder", "head -c 2300M /dev/zero | tail > /dev/null; ");
        sb.EditConfig(c => c.Replace("resources: { cpus: 1, mem: 200M, time: '00:10:00' }", "resources: { cpus: 1, time: '00:10:00' }")
            .Replace("resources: { gpus: 1, mem: 200M, time: '01:00:00' }\n  gat_large_curriculum", "resources: { cpus: 2, gpus: 1, time: '01:00:00' }\n    retries: 1\n  gat_large_curriculum"));
        Assert.Contains("resources: { cpus: 2, gpus: 1, time: '01:00:00' }\n    retries: 1", File.ReadAllText(sb.Config));
        Assert.Contains("resources: { cpus: 1, time: '00:10:00' }", File.ReadAllText(sb.Config));

        var r = Build(sb, "-t:RunStage", "-p:Stage=vgae_large_autoencoder", "-p:Dataset=hcrl_sa");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("retrying with mem=4096M", r.Output);
        Assert.DoesNotContain("assumed mem=", r.Output);
        var stage = sb.LastBuild().Stages.Single(s => s.Stage == "vgae_large_autoencoder");
        Assert.Equal((Outcome.Ran, 2), (stage.Outcome, stage.Attempts));
    }

    [SlurmFact]
    public void Out_of_memory_with_no_retries_left_says_to_raise_mem()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        OutOfMemoryAt100M(sb, "    retries: 0\n");
        Assert.Contains("retries: 0", File.ReadAllText(sb.Config));

        var r = Build(sb, "-t:RunStage", "-p:Stage=vgae_large_autoencoder", "-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, r.ExitCode);
        // Was "(OutOfMemory, SLURM job N OUT_OF_MEMORY, exit code 0, ...)" and nothing on what to change.
        Assert.Contains("ran out of memory at mem=100M: raise the stage's resources.mem", r.Output);
        Assert.DoesNotContain("exit code 0", r.Output);
    }

    /// <summary>
    /// A TIMEOUT retry whose doubled time is above the partition's MaxTime failed with KDG4002 (PartitionTimeLimit),
    /// though the partition allowed more than the first attempt had. Now the retry gets the partition's MaxTime and
    /// its line says so (time 2min, MaxTime 3min: the retry runs with 3min, not 4min). The test makes a partition of
    /// its own with MaxTime=3 (scontrol create, deleted after): the default partition stays as it is for the tests
    /// that run beside this one, whose jobs ask for 10 minutes.
    /// </summary>
    [SlurmFact]
    public void A_timeout_retry_above_the_partitions_MaxTime_runs_with_the_most_it_allows()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        var partition = "maxtime3-" + Path.GetFileName(sb.Dir).Replace('.', '-');
        var flag = Path.Combine(sb.Dir, "first-attempt-ran");
        sb.EditConfig(c => c.Replace("resources: { cpus: 1, mem: 200M }", $"resources: {{ cpus: 1, mem: 200M, time: '00:02:00', partition: {partition} }}"));
        Assert.Contains($"time: '00:02:00', partition: {partition}", File.ReadAllText(sb.Config));
        sb.PrefixCommand("preprocess", $"if [ ! -e '{flag}' ]; then touch '{flag}'; sleep 600; fi; "); // the first attempt runs into its limit
        var create = ProcessRunner.Run("scontrol", ["create", $"PartitionName={partition}", "Nodes=ALL", "MaxTime=3", "State=UP"], sb.Dir);
        Assert.True(create.ExitCode == 0, create.Output);
        try
        {
            var r = Build(sb, "-t:RunStage", "-p:Stage=preprocess", "-p:Dataset=hcrl_sa");

            Assert.True(r.ExitCode == 0, r.Output);
            Assert.Contains("attempt 1 ended Timeout", r.Output);
            Assert.Contains($"time=3min, the most partition {partition} allows one job (MaxTime), not time=4min", r.Output);
            var jobs = Cluster.JobsUnder(sb.Dir, 2);
            Assert.Equal(["COMPLETED", "TIMEOUT"], jobs.Select(j => j.State).Order());
            var retry = jobs.Single(j => j.State == "COMPLETED");
            Assert.Equal("00:03:00", ProcessRunner.Run("sacct", ["-X", "-n", "-P", "-j", retry.Id, "-o", "Timelimit"], sb.Dir).Output.Trim());
        }
        finally
        {
            Assert.Equal(0, ProcessRunner.Run("scontrol", ["delete", $"PartitionName={partition}"], sb.Dir).ExitCode);
        }
    }
}
