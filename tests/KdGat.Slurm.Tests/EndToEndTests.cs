using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit.Abstractions;

namespace KdGat.Slurm.Tests;

/// <summary>Builds through real `dotnet msbuild` whose stages run as jobs on the local cluster: what runs, what SLURM refuses, what a failure skips.</summary>
[Trait("Category", "Slurm")]
public sealed class EndToEndTests(ITestOutputHelper output)
{
    private static readonly string[] LargeDependents =
        ["hcrl_sa/dqn_large_fusion", "hcrl_sa/dqn_small_fusion_kd", "hcrl_sa/eval_large_evaluation", "hcrl_sa/eval_small_evaluation_kd", "hcrl_sa/gat_small_curriculum_kd"];

    private ProcessResult Build(Sandbox sb, params string[] args) => SlurmSandbox.Build(sb, output, args);

    [SlurmFact]
    public void Trivial_pipeline_runs_as_slurm_jobs_and_a_second_build_submits_nothing()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.PrefixCommand("preprocess", "sleep 4; "); // long enough for a poll to see it running
        var r = Build(sb, "-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, r.ExitCode);
        Assert.Matches(@"hcrl_sa/preprocess: running \(job \d+\)", r.Output); // the console tells a start from a submission
        var report = sb.LastBuild();
        Assert.Equal("slurm", report.Executor);
        Assert.Equal(13, Sandbox.With(report, Outcome.Ran).Length);
        Assert.All(report.Stages, s => Assert.False(string.IsNullOrEmpty(s.JobId)));
        var jobs = Cluster.JobsUnder(sb.Dir, 13);
        Assert.Equal(13, jobs.Count);
        Assert.All(jobs, j => Assert.Equal("COMPLETED", j.State));
        Assert.All(jobs, j => Assert.StartsWith("kdgat-hcrl_sa-", j.Name));
        // One job script per attempt, kept beside the attempt's logs in the run dir.
        Assert.Single(Directory.GetFiles(Path.Combine(sb.RunDir("hcrl_sa", "gat_large_curriculum"), "logs"), "*.sbatch"));
        // Each job wrote its done-marker (the exit code) as its last act; no temp file is left.
        var marker = Assert.Single(Directory.GetFiles(Path.Combine(sb.RunDir("hcrl_sa", "gat_large_curriculum"), "logs"), "*.done"));
        Assert.Equal("0\n", File.ReadAllText(marker));
        Assert.Empty(Directory.GetFiles(Path.Combine(sb.RunDir("hcrl_sa", "gat_large_curriculum"), "logs"), "*.tmp"));

        var again = Build(sb, "-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(13, Sandbox.With(sb.LastBuild(), Outcome.UpToDate).Length);
        Assert.Equal(13, Cluster.LiveJobsUnder(sb.Dir).Count); // no new job
    }

    /// <summary>The shipped config unchanged (gpus: 1 on training, 8G/4G mem, cpus: 2 on preprocess) on the local cluster's counted gpu GRES.</summary>
    [SlurmFact]
    public void Sample_pipeline_on_slurm_gives_the_same_metrics_as_the_local_executor()
    {
        if (!Cluster.Available(output)) return;
        using var local = Sandbox.Sample();
        Assert.Equal(0, Build(local, "-t:Evaluate", "-p:Dataset=hcrl_sa", "-p:Executor=local").ExitCode);
        using var slurm = SlurmSandbox.Sample();
        Assert.Equal(0, Build(slurm, "-t:Evaluate", "-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(13, Sandbox.With(slurm.LastBuild(), Outcome.Ran).Length);
        Assert.Equal("slurm", slurm.LastBuild().Executor);
        foreach (var eval in new[] { "eval_large_evaluation", "eval_small_evaluation_kd", "eval_small_evaluation" })
        {
            var a = File.ReadAllText(Path.Combine(local.RunDir("hcrl_sa", eval), "metrics.json"));
            var b = File.ReadAllText(Path.Combine(slurm.RunDir("hcrl_sa", eval), "metrics.json"));
            Assert.Equal(a, b);
        }
        // The requests reached SLURM as written: every training job was allocated one gpu, the evaluations none.
        var jobs = Cluster.JobsUnder(slurm.Dir, 13);
        foreach (var j in jobs)
        {
            var training = !j.Name.Contains("-eval_", StringComparison.Ordinal) && !j.Name.EndsWith("-preprocess", StringComparison.Ordinal);
            var show = ProcessRunner.Run("scontrol", ["show", "job", j.Id], "/").Output;
            var tres = ProcessRunner.Run("sacct", ["-X", "-n", "-P", "-j", j.Id, "-o", "AllocTRES"], "/").Output.Trim();
            output.WriteLine($"{j.Name}: AllocTRES={tres}");
            Assert.Equal(training, show.Contains("gres:gpu:1", StringComparison.Ordinal) || show.Contains("gres/gpu:1", StringComparison.Ordinal));
            Assert.Equal(training, tres.Contains("gres/gpu=1", StringComparison.Ordinal));
            if (j.Name.Contains("_large_", StringComparison.Ordinal) && training) Assert.Contains("mem=8G", tres);
        }
        Assert.Equal(9, jobs.Count(j => !j.Name.Contains("-eval_", StringComparison.Ordinal) && !j.Name.EndsWith("-preprocess", StringComparison.Ordinal)));

        var again = Build(slurm, "-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, again.ExitCode);
        Assert.Empty(Sandbox.With(slurm.LastBuild(), Outcome.Ran));
        Assert.Equal(13, Cluster.LiveJobsUnder(slurm.Dir).Count); // the second build submitted 0 jobs
    }

    [SlurmFact]
    public void A_failed_stage_cancels_its_dependents_through_slurm_and_the_other_variants_complete()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.PrefixCommand("gat_large_curriculum", "echo boom >&2; exit 3; ");
        var r = Build(sb, "-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, r.ExitCode);
        var report = sb.LastBuild();
        Assert.Equal(["hcrl_sa/gat_large_curriculum"], Sandbox.With(report, Outcome.Failed));
        Assert.Equal(LargeDependents, Sandbox.With(report, Outcome.Skipped));
        Assert.Equal(7, Sandbox.With(report, Outcome.Ran).Length);
        var jobs = Cluster.JobsUnder(sb.Dir, 13);
        output.WriteLine(string.Join("\n", jobs));
        Assert.Equal("FAILED", jobs.Single(j => j.Name == "kdgat-hcrl_sa-gat_large_curriculum").State);
        Assert.Equal("3\n", File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(sb.RunDir("hcrl_sa", "gat_large_curriculum"), "logs"), "*.done"))));
        // Dependents SLURM cancelled never ran a script: no marker; the watcher saw them end through squeue.
        Assert.Empty(Directory.GetFiles(Path.Combine(sb.RunDir("hcrl_sa", "dqn_large_fusion"), "logs"), "*.done"));
        foreach (var d in LargeDependents)
            Assert.StartsWith("CANCELLED", jobs.Single(j => j.Name == "kdgat-" + d.Replace('/', '-')).State);
        Assert.Contains("KDG4005", r.Output);        // each cancelled dependent is named
        Assert.Contains("KDG3010", r.Output);        // the summary names the failure
        var summary = r.Output[r.Output.IndexOf("KDG3010", StringComparison.Ordinal)..];
        Assert.Contains("gat_large_curriculum", summary);
        Assert.All(LargeDependents, d => Assert.Contains(d, summary)); // and the cancelled dependents
    }

    [SlurmFact]
    public void Parameters_with_shell_syntax_reach_the_command_verbatim_and_run_nothing()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        const string yamlValue = @"it's \""quoted\"" $(touch PWNED1) `touch PWNED2`; touch PWNED3 \\ end\n#SBATCH --mem=1\nline3 '$HOME'";
        const string expected = "it's \"quoted\" $(touch PWNED1) `touch PWNED2`; touch PWNED3 \\ end\n#SBATCH --mem=1\nline3 '$HOME'";
        sb.EditConfig(c => c.Replace(
            "  vgae_small_autoencoder:\n    command: '",
            "  vgae_small_autoencoder:\n    params: { msg: \"" + yamlValue + "\" }\n    command: 'printf %s {params.msg} > msg.txt; "));
        Assert.Contains("printf %s {params.msg}", File.ReadAllText(sb.Config));
        var r = Build(sb, "-t:RunStage", "-p:Stage=vgae_small_autoencoder", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, r.ExitCode);
        var run = sb.RunDir("hcrl_sa", "vgae_small_autoencoder");
        Assert.Equal(expected, File.ReadAllText(Path.Combine(run, "msg.txt")));
        Assert.Empty(Directory.GetFiles(sb.Dir, "PWNED*", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles("/tmp", "PWNED*"));
        // The value's "#SBATCH" line is inside a quoted string after the directives: sbatch stops reading directives at the first command.
        var script = File.ReadAllLines(Directory.GetFiles(Path.Combine(run, "logs"), "*.sbatch").Single());
        var directives = script.Skip(1).TakeWhile(l => l.StartsWith('#')).ToArray();
        Assert.DoesNotContain(directives, l => l.Contains("--mem=1", StringComparison.Ordinal));
        Assert.Contains(directives, l => l == "#SBATCH --mem=200M");
    }

    /// <summary>
    /// A job script that cannot be written (the stage's logs/ immutable, as a full or read-only disk
    /// fails it) is KDG3007 before sbatch runs, and the same build puts the previous result back: it
    /// stayed aside until the next build, and Status said "interrupted" (a SLURM review).
    /// </summary>
    [SlurmFact]
    public void A_job_script_that_cannot_be_written_is_kdg3007_and_the_previous_result_stays_in_place()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        Assert.Equal(0, Build(sb, "-t:Preprocess", "-p:Dataset=hcrl_sa").ExitCode);
        var manifest = Path.Combine(sb.RunDir("hcrl_sa", "preprocess"), "kdgat.manifest.json");
        var before = File.ReadAllText(manifest);
        sb.PrefixCommand("preprocess", "true; "); // another command: the stage runs again
        var logs = Path.Combine(sb.RunDir("hcrl_sa", "preprocess"), "logs");
        var jobsBefore = Cluster.LiveJobsUnder(sb.Dir).Select(j => j.Id).ToHashSet();
        var chattr = ProcessRunner.Run("chattr", ["+i", logs], sb.Dir);
        Assert.True(chattr.ExitCode == 0, "chattr +i (root, a file system with the immutable flag): " + chattr);
        try
        {
            var r = Build(sb, "-t:Preprocess", "-p:Dataset=hcrl_sa");

            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("error KDG3007", r.Output);
            Assert.All(Cluster.LiveJobsUnder(sb.Dir), j => Assert.Contains(j.Id, jobsBefore)); // nothing submitted
            Assert.True(File.Exists(manifest), "the previous manifest is back in the run dir");
            Assert.Equal(before, File.ReadAllText(manifest));
            Assert.False(Directory.Exists(Path.Combine(sb.Dir, "experimentruns", "hcrl_sa", ".kdgat", "preprocess", "aside")), "nothing left aside for the next build");
        }
        finally { ProcessRunner.Run("chattr", ["-i", logs], sb.Dir); }
    }

    /// <summary>Clean cancels a job an earlier build left writing into the run dir, and names it (before, silently).</summary>
    [SlurmFact]
    public void Clean_names_each_job_it_cancels_with_its_stage_and_dataset()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.PrefixCommand("preprocess", "sleep 120; ");
        Assert.Equal(0, Build(sb, "-t:Preprocess", "-p:Dataset=hcrl_sa", "-p:Wait=false").ExitCode);
        var job = Assert.Single(Cluster.LiveJobsUnder(sb.Dir));

        var r = Build(sb, "-t:Clean", "-p:Dataset=hcrl_sa");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains($"Clean cancelled SLURM job {job.Id} (stage preprocess, dataset hcrl_sa)", r.Output);
        var state = "";
        Eventually.Within(TimeSpan.FromSeconds(30), () => (state = Cluster.LiveJobsUnder(sb.Dir).Single(j => j.Id == job.Id).State) is "CANCELLED" or "COMPLETED" or "FAILED", TimeSpan.FromMilliseconds(500));
        Assert.Equal("CANCELLED", state);
    }

    /// <summary>What sbatch refuses fails at once (no job pending forever): e.g. more GPUs than the node has (2).</summary>
    [SlurmTheory]
    [InlineData("gpus: 1, partition: nosuchpartition")]
    [InlineData("gpus: 3")]
    [InlineData("gpus: h100:1")] // a GPU type the cluster does not have (its stand-ins are a100): the type reaches sbatch
    public void A_request_sbatch_refuses_fails_that_stage_with_KDG4002_and_skips_its_downstream(string resource)
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.EditConfig(c => c.Replace("resources: { gpus: 1, mem: 200M, time: '01:00:00' }\n  gat_large_curriculum", $"resources: {{ {resource}, mem: 200M, time: '01:00:00' }}\n  gat_large_curriculum"));
        Assert.Contains(resource + ", mem: 200M", File.ReadAllText(sb.Config));
        var r = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("KDG4002", r.Output);
        var error = r.Output[r.Output.IndexOf("KDG4002", StringComparison.Ordinal)..];
        Assert.Contains("hcrl_sa/vgae_large_autoencoder", error);
        foreach (var asked in resource.Split(", ")) Assert.Contains(asked.Replace(": ", "="), error); // the hint shows what the job asked for
        Assert.Equal(["hcrl_sa/vgae_large_autoencoder"], Sandbox.With(sb.LastBuild(), Outcome.Failed));
        Assert.Equal(3, Sandbox.With(sb.LastBuild(), Outcome.Skipped).Length);
    }

    /// <summary>
    /// A job SLURM accepts but can never start (more tasks than the partition's CPUs: pending with reason
    /// PartitionConfig, as a time above a partition's MaxTime is with PartitionTimeLimit under SLURM's
    /// default EnforcePartLimits=NO) fails with KDG4002 naming the reason, and its job is cancelled; the
    /// build waited for ever, saying only "pending" (a review).
    /// </summary>
    [SlurmFact]
    public void A_job_SLURM_queues_but_can_never_start_fails_with_KDG4002_instead_of_waiting_for_ever()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.EditConfig(c => c.Replace("resources: { gpus: 1, mem: 200M, time: '01:00:00' }\n  gat_large_curriculum", "resources: { gpus: 1, mem: 200M, time: '01:00:00', extra: ['--ntasks=3'] }\n  gat_large_curriculum"));
        Assert.Contains("extra: ['--ntasks=3']", File.ReadAllText(sb.Config));

        var r = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, r.ExitCode);
        var error = r.Output[r.Output.IndexOf("KDG4002", StringComparison.Ordinal)..];
        Assert.Contains("hcrl_sa/vgae_large_autoencoder: SLURM job", error);
        Assert.Contains("can never start: it is pending with reason PartitionConfig", error);
        Assert.Equal(["hcrl_sa/vgae_large_autoencoder"], Sandbox.With(sb.LastBuild(), Outcome.Failed));
        Eventually.Within(TimeSpan.FromSeconds(30), () => !Cluster.LiveJobsUnder(sb.Dir).Any(j => j.State is "PENDING" or "RUNNING" or "COMPLETING"), TimeSpan.FromMilliseconds(300));
    }

    /// <summary>A GPU type (`gpus: a100:1`) reaches SLURM as --gpus=a100:1: the job is allocated one of the local cluster's a100 stand-ins.</summary>
    [SlurmFact]
    public void A_typed_gpu_request_is_allocated_a_gpu_of_that_type()
    {
        if (!Cluster.Available(output)) return;
        if (!ProcessRunner.Run("scontrol", ["show", "node"], "/").Output.Contains("gpu:a100:", StringComparison.Ordinal))
        {
            output.WriteLine("SKIPPED: the local cluster's GPUs have no type a100 (start it with SLURM_LOCAL_GPU_TYPE=a100; not the default, see start-local-slurm.sh)");
            return;
        }
        using var sb = SlurmSandbox.Trivial();
        sb.EditConfig(c => c.Replace("resources: { gpus: 1, mem: 200M, time: '01:00:00' }\n  gat_large_curriculum", "resources: { gpus: a100:1, mem: 200M, time: '01:00:00' }\n  gat_large_curriculum"));
        Assert.Contains("gpus: a100:1, mem: 200M", File.ReadAllText(sb.Config));
        var r = Build(sb, "-t:RunStage", "-p:Stage=vgae_large_autoencoder", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(["hcrl_sa/preprocess", "hcrl_sa/vgae_large_autoencoder"], Sandbox.With(sb.LastBuild(), Outcome.Ran));
        var job = Cluster.JobsUnder(sb.Dir, 2).Single(j => j.Name.EndsWith("-vgae_large_autoencoder", StringComparison.Ordinal));
        // What was asked (an untyped --gpus=1 is also allocated an a100 here, so AllocTRES would not tell them apart).
        var requested = ProcessRunner.Run("sacct", ["-X", "-n", "-P", "-j", job.Id, "-o", "ReqTRES"], "/").Output.Trim();
        var allocated = ProcessRunner.Run("sacct", ["-X", "-n", "-P", "-j", job.Id, "-o", "AllocTRES"], "/").Output.Trim();
        output.WriteLine($"{job.Name}: ReqTRES={requested} AllocTRES={allocated}");
        Assert.Contains("gres/gpu:a100=1", requested);
        Assert.Contains("gres/gpu:a100=1", allocated);
    }
}
