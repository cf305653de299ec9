using System.Diagnostics;
using System.Text.Json;
using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit.Abstractions;

namespace KdGat.Slurm.Tests;

/// <summary>Builds through real `dotnet msbuild` whose stages run as jobs on the local cluster.</summary>
[Collection("cluster")]
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
    public void A_build_killed_with_sigkill_is_resumed_without_submitting_any_stage_twice()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        foreach (var stage in new[] { "preprocess", "vgae_large_autoencoder", "vgae_small_autoencoder" })
            sb.PrefixCommand(stage, "sleep 4; ");
        var journal = Path.Combine(sb.Dir, "experimentruns", "hcrl_sa", ".kdgat", "eval_small_evaluation", "attempt.json");
        using (var p = sb.Start(["-t:Evaluate", "-p:Dataset=hcrl_sa"], out var log))
        {
            // Every stage is submitted at once; wait until the last one is journalled, then kill -9.
            Eventually.Within(TimeSpan.FromMinutes(2), () => File.Exists(journal) && File.ReadAllText(journal).Contains("slurm:", StringComparison.Ordinal) || p.HasExited, TimeSpan.FromMilliseconds(50));
            Assert.False(p.HasExited, "build ended before all jobs were submitted:\n" + log);
            Thread.Sleep(500);
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        var before = Cluster.LiveJobsUnder(sb.Dir);
        output.WriteLine($"jobs when killed: {before.Count}: {string.Join(", ", before.Select(j => $"{j.Id}:{j.State}"))}");
        Assert.Contains(before, j => j.State is "PENDING" or "RUNNING");

        var r = Build(sb, "-t:Evaluate", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("KDG4006", r.Output); // re-attached
        var report = sb.LastBuild();
        Assert.Equal(13, report.Stages.Count(s => s.Outcome is Outcome.Ran or Outcome.UpToDate));
        var jobs = Cluster.JobsUnder(sb.Dir, 13);
        Assert.Equal(13, jobs.Count);                                  // no stage submitted twice (sacct)
        Assert.Equal(13, jobs.Select(j => j.Name).Distinct().Count());
        Assert.All(jobs, j => Assert.Equal("COMPLETED", j.State));
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
    /// A journalled job id SLURM has since given to another job (ids start again at 1 after the controller's
    /// state is wiped): the next build re-attached to that job, committed what the dead job left once the other
    /// one ended, and with the stage changed cancelled it (a review). Now the id counts only while SLURM knows it
    /// as the attempt's job (its comment): the attempt is recovered as one without a job and run again, and the
    /// other job is left alone.
    /// </summary>
    [SlurmFact]
    public void A_journalled_job_id_SLURM_gave_to_another_job_is_neither_reattached_to_nor_cancelled()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        string[] preprocess = ["-t:RunStage", "-p:Stage=preprocess", "-p:Dataset=hcrl_sa"];
        sb.PrefixCommand("preprocess", "sleep 20; ");
        Assert.Equal(0, Build(sb, [.. preprocess, "-p:Wait=false"]).ExitCode);
        var mine = sb.LastBuild().Stages.Single(x => x.Stage == "preprocess").JobId!;
        ProcessRunner.Run("scancel", [mine], sb.Dir); // the job dies with the controller's state ...
        var other = ProcessRunner.Run("sbatch", ["--parsable", "-J", "unrelated", "--comment=unrelated", "-o", "/dev/null", "-t", "2", "--mem=32M", "--wrap", "sleep 10"], sb.Dir).Output.Trim();
        var journal = Path.Combine(sb.Dir, "experimentruns", "hcrl_sa", ".kdgat", "preprocess", "attempt.json");
        Assert.Contains($"\"slurm:{mine}\"", File.ReadAllText(journal));
        File.WriteAllText(journal, File.ReadAllText(journal).Replace($"\"slurm:{mine}\"", $"\"slurm:{other}\"", StringComparison.Ordinal)); // ... and its id names another job

        var r = Build(sb, preprocess);

        Assert.Equal(0, r.ExitCode);
        Assert.DoesNotContain($"re-attaching to SLURM job {other}", r.Output);
        Assert.Equal(Outcome.Ran, sb.LastBuild().Stages.Single(x => x.Stage == "preprocess").Outcome);
        string OtherState() => Cluster.LiveJobsUnder(sb.Dir).SingleOrDefault(j => j.Id == other)?.State ?? "gone";
        Eventually.Within(TimeSpan.FromSeconds(60), () => OtherState() is not ("PENDING" or "RUNNING" or "COMPLETING"), TimeSpan.FromMilliseconds(500));
        Assert.Equal("COMPLETED", OtherState()); // ran its course: not cancelled by this build
    }

    [SlurmFact]
    public void Wait_false_submits_and_exits_and_a_later_build_collects_the_jobs()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        var r = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa", "-p:Wait=false");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("KDG4007", r.Output);
        var submitted = sb.LastBuild().Stages.Where(s => s.Outcome == Outcome.Submitted).ToDictionary(s => s.Stage, s => s.JobId);
        Assert.Equal(5, submitted.Count); // preprocess, vgae/gat/dqn large, eval large
        // The build's live report: the jobs it left, still reloading, pointing at Status.
        var page = Path.Combine(sb.Dir, ".kdgat", "report.html");
        var html = File.ReadAllText(page);
        Assert.Contains("http-equiv=\"refresh\"", html);
        Assert.Contains("-t:Status", html);
        foreach (var (stage, jobId) in submitted)
        {
            Assert.Contains($"data-id=\"hcrl_sa/{stage}\" data-state=\"submitted\"", html);
            Assert.Contains($"hcrl_sa/{stage}: submitted: job {jobId}", html); // the box's tooltip
        }
        File.Delete(page);

        // Status asks SLURM about the journalled jobs: each row names its job and says it is not rerun.
        var status = Build(sb, "-t:Status", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, status.ExitCode);
        foreach (var (stage, jobId) in submitted)
        {
            var row = status.Output.Split('\n').Single(l => l.Contains($"hcrl_sa/{stage} ", StringComparison.Ordinal));
            Assert.Contains($"SLURM job {jobId} ", row);
            Assert.DoesNotContain("reruns it", row);
        }
        // ... and rewrites the report with what SLURM said: reloading while a job still runs.
        html = File.ReadAllText(page);
        foreach (var jobId in submitted.Values) Assert.Contains($"SLURM job {jobId} ", html);
        Assert.Equal(status.Output.Contains(" running ", StringComparison.Ordinal) || status.Output.Contains(" queued ", StringComparison.Ordinal), html.Contains("http-equiv=\"refresh\"", StringComparison.Ordinal));
        // A job waiting in the queue (PENDING on its dependency) is "queued", not "running" (a SLURM user review).
        foreach (var row in status.Output.Split('\n').Where(l => l.Contains(" PENDING", StringComparison.Ordinal)))
            Assert.Matches(@"\squeued\s", row);
        // A job that ended after its build left is "ended", waiting to be collected: "interrupted" said a
        // COMPLETED job had been cut short (a first-contact review).
        Eventually.Until(() => Directory.GetFiles(Path.Combine(sb.RunDir("hcrl_sa", "preprocess"), "logs"), "*.done").Length > 0, TimeSpan.FromMinutes(2), "preprocess's job to end", TimeSpan.FromMilliseconds(300));
        string? ended = null;
        Eventually.Until(() => (ended = Build(sb, "-t:Status", "-p:Dataset=hcrl_sa").Output.Split('\n').SingleOrDefault(l => l.Contains("hcrl_sa/preprocess ", StringComparison.Ordinal))) is { } row
            && row.Contains(" ended COMPLETED", StringComparison.Ordinal), TimeSpan.FromMinutes(1), "Status to see preprocess's job ended", TimeSpan.FromSeconds(2));
        Assert.Matches(@"\sended\s", ended);
        Assert.DoesNotContain("interrupted", ended);

        var collect = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, collect.ExitCode);
        // One KDG4006 warning for the build, a line for each other job (five warnings before; a SLURM user review).
        Assert.Single(collect.Output.Split('\n').Where(l => l.Contains("warning KDG4006", StringComparison.Ordinal)).Select(l => l.Trim()).Distinct());
        var report = sb.LastBuild();
        Assert.Equal(5, Sandbox.With(report, Outcome.Ran).Length);
        Assert.All(report.Stages, s => Assert.Equal(submitted[s.Stage], s.JobId)); // the same jobs, collected
        html = File.ReadAllText(page);
        Assert.DoesNotContain("http-equiv=\"refresh\"", html); // collected: the final page stops reloading
        Assert.Contains("data-id=\"hcrl_sa/eval_large_evaluation\" data-state=\"ran\"", html);
        Assert.Equal(5, Cluster.LiveJobsUnder(sb.Dir).Count);
    }

    [SlurmFact]
    public void An_output_changed_after_its_job_ended_is_not_collected_as_the_jobs_result()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        Assert.Equal(0, Build(sb, "-t:Preprocess", "-p:Dataset=hcrl_sa", "-p:Wait=false").ExitCode);
        var marker = "";
        Eventually.Within(TimeSpan.FromMinutes(2), () => Directory.GetFiles(Path.Combine(sb.RunDir("hcrl_sa", "preprocess"), "logs"), "*.done").FirstOrDefault() is { } m && (marker = m) != "", TimeSpan.FromMilliseconds(300));
        Thread.Sleep(TimeSpan.FromSeconds(3)); // past the allowance for coarse file times
        // Edited between the job's end and the build that collects it (was: committed, cached and reported up to date).
        var graphs = Path.Combine(sb.Dir, "data", "cache", "hcrl_sa", "graphs.bin");
        File.AppendAllText(graphs, "edited by hand\n");

        var collect = Build(sb, "-t:Preprocess", "-p:Dataset=hcrl_sa");

        Assert.NotEqual(0, collect.ExitCode);
        Assert.Contains("error KDG3018", collect.Output);
        Assert.Equal(Outcome.Failed, Assert.Single(sb.LastBuild().Stages).Outcome);
        Assert.Empty(Directory.Exists(Path.Combine(sb.Dir, ".kdgat", "store", "entries")) ? Directory.GetFiles(Path.Combine(sb.Dir, ".kdgat", "store", "entries"), "*", SearchOption.AllDirectories) : []);
        // The next build runs the stage again and gets the job's own output.
        Assert.Equal(0, Build(sb, "-t:Preprocess", "-p:Dataset=hcrl_sa").ExitCode);
        Assert.Equal(Outcome.Ran, Assert.Single(sb.LastBuild().Stages).Outcome);
        Assert.DoesNotContain("edited by hand", File.ReadAllText(graphs));
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

    [SlurmFact]
    public void A_job_left_by_an_earlier_build_is_cancelled_when_the_stage_now_runs_locally()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.PrefixCommand("preprocess", "sleep 120; ");
        Assert.Equal(0, Build(sb, "-t:Preprocess", "-p:Dataset=hcrl_sa", "-p:Wait=false").ExitCode);
        var job = Assert.Single(Cluster.LiveJobsUnder(sb.Dir));

        // The same stage with the local executor: the SLURM job must not write into the run dir meanwhile.
        sb.EditConfig(c => c.Replace("sleep 120; ", ""));
        Assert.Equal(0, Build(sb, "-t:Preprocess", "-p:Dataset=hcrl_sa", "-p:Executor=local").ExitCode);
        Assert.Equal(Outcome.Ran, Assert.Single(sb.LastBuild().Stages).Outcome);
        var state = "";
        Eventually.Within(TimeSpan.FromSeconds(30), () => (state = Cluster.LiveJobsUnder(sb.Dir).Single(j => j.Id == job.Id).State) is "CANCELLED" or "COMPLETED" or "FAILED", TimeSpan.FromMilliseconds(500));
        Assert.Equal("CANCELLED", state);
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

    /// <summary>
    /// A requeue and an outside scancel are named as such on the console. Before, a requeued job only
    /// showed as pending again, and a job someone else cancelled as a bare "cancelled".
    /// </summary>
    [SlurmFact]
    public void A_requeue_and_an_outside_scancel_are_named_on_the_console()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        var go = Path.Combine(sb.Dir, "go");
        // The first run waits (requeued); the second ends at once.
        sb.PrefixCommand("preprocess", "[ \"0$SLURM_RESTART_COUNT\" -gt 0 ] || sleep 120; ");
        string text;
        using (var p = sb.Start(["-t:Preprocess", "-p:Dataset=hcrl_sa"], out var log))
        {
            Cluster.Job? job = null;
            Assert.True(Eventually.Within(TimeSpan.FromMinutes(2), () => (job = Cluster.LiveJobsUnder(sb.Dir).SingleOrDefault()) is { State: "RUNNING" } || p.HasExited, TimeSpan.FromMilliseconds(200)), "never running:\n" + log);
            Assert.False(p.HasExited, "build ended early:\n" + log);
            Thread.Sleep(3000); // the build's poll sees it running
            var requeue = ProcessRunner.Run("scontrol", ["requeue", job!.Id], sb.Dir);
            Assert.True(requeue.ExitCode == 0, requeue.Output + "\n" + log);
            // SLURM holds a requeued job back (reason BeginTime) for a while: let it start now.
            Eventually.Within(TimeSpan.FromSeconds(60), () => Cluster.LiveJobsUnder(sb.Dir).Single().State == "PENDING", TimeSpan.FromMilliseconds(200));
            Thread.Sleep(3000); // the build's poll sees it back in the queue
            ProcessRunner.Run("scontrol", ["update", $"jobid={job.Id}", "StartTime=now"], sb.Dir);
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(4)), "build did not end:\n" + log);
            p.WaitForExit();
            lock (log) text = log.ToString();
            output.WriteLine(text);
            Assert.Equal(0, p.ExitCode);
            Assert.Contains($"job {job.Id} was requeued by SLURM", text);
        }

        sb.PrefixCommand("preprocess", "sleep 120; ");
        using (var p = sb.Start(["-t:Preprocess", "-p:Dataset=hcrl_sa"], out var log))
        {
            Cluster.Job? job = null;
            Assert.True(Eventually.Within(TimeSpan.FromMinutes(2), () => (job = Cluster.LiveJobsUnder(sb.Dir).SingleOrDefault(j => j.State is "RUNNING")) is not null || p.HasExited, TimeSpan.FromMilliseconds(200)), "never running:\n" + log);
            Assert.False(p.HasExited, "build ended early:\n" + log);
            Assert.Equal(0, ProcessRunner.Run("scancel", [job!.Id], sb.Dir).ExitCode);
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "build did not end:\n" + log);
            p.WaitForExit();
            lock (log) text = log.ToString();
            output.WriteLine(text);
            Assert.NotEqual(0, p.ExitCode);
            Assert.Contains($"job {job.Id} was cancelled outside this build (scancel", text);
        }
    }

    /// <summary>
    /// A job a build has collected (its outputs committed) that an admin requeues: its script ran again in the
    /// committed run dir and rewrote outputs builds rely on (a SLURM review). Now it refuses (KDG4022 in its
    /// .err log, exit code 3), touching nothing, and the next build finds the stage up to date. A requeue
    /// before the job ended still runs it again as the same attempt (the test above).
    /// </summary>
    [SlurmFact]
    public void A_collected_job_requeued_by_an_admin_does_not_run_again()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        var count = Path.Combine(sb.Dir, "runs");
        sb.PrefixCommand("preprocess", $"echo run >> '{count}'; ");
        string[] stage = ["-t:RunStage", "-p:Stage=preprocess", "-p:Dataset=hcrl_sa"];
        var first = Build(sb, stage);
        Assert.True(first.ExitCode == 0, first.Output);
        var job = Cluster.LiveJobsUnder(sb.Dir).Single();
        Assert.Equal("COMPLETED", job.State);
        var outputs = Directory.GetFiles(Path.Combine(sb.Dir, "experimentruns", "hcrl_sa"), "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/logs/", StringComparison.Ordinal) && !f.Contains("/.kdgat/", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(outputs);
        var before = outputs.ToDictionary(f => f, f => (File.GetLastWriteTimeUtc(f), Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))));

        Cluster.RequeueNow(job.Id, sb.Dir);
        var state = "";
        Assert.True(Eventually.Within(TimeSpan.FromMinutes(2), () => (state = Cluster.LiveJobsUnder(sb.Dir).Single().State) is "FAILED" or "COMPLETED", TimeSpan.FromMilliseconds(300)), "the requeued job did not end: " + state);

        Assert.Equal("run\n", File.ReadAllText(count)); // the command did not run a second time
        Assert.All(before, kv => Assert.Equal(kv.Value, (File.GetLastWriteTimeUtc(kv.Key), Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(kv.Key))))));
        Assert.Equal("FAILED", state);
        var err = File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(sb.RunDir("hcrl_sa", "preprocess"), "logs"), "*.err")));
        Assert.Contains("KDG4022", err);
        var again = Build(sb, stage);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Equal(Outcome.UpToDate, sb.LastBuild().Stages.Single(r => r.Stage == "preprocess").Outcome);
    }

    /// <summary>
    /// A queued job someone holds (scontrol hold) waits for a human: the build says so as soon as it sees
    /// the hold, not only in its next progress line; released, the job runs and the build completes.
    /// </summary>
    [SlurmFact]
    public void A_held_job_is_said_at_once_and_the_build_completes_once_it_is_released()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        var go = Path.Combine(sb.Dir, "go");
        sb.PrefixCommand("preprocess", $"while [ ! -e '{go}' ]; do sleep 0.2; done; ");
        using var p = sb.Start(["-t:RunStage", "-p:Stage=vgae_large_autoencoder", "-p:Dataset=hcrl_sa"], out var log);
        Cluster.Job? vgae = null;
        Assert.True(Eventually.Within(TimeSpan.FromMinutes(2), () => (vgae = Cluster.LiveJobsUnder(sb.Dir).SingleOrDefault(j => j.Name.Contains("vgae_large"))) is { State: "PENDING" } || p.HasExited, TimeSpan.FromMilliseconds(200)),
            "vgae's job was never pending:\n" + log);
        Assert.Equal(0, ProcessRunner.Run("scontrol", ["hold", vgae!.Id], sb.Dir).ExitCode);
        var said = $"job {vgae.Id} is held (JobHeldAdmin): SLURM does not start it until someone releases it (scontrol release {vgae.Id})";
        // Within a few polls (max_poll_seconds 2), long before the first progress line (30 s).
        var seen = Eventually.Within(TimeSpan.FromSeconds(20), () => { lock (log) return log.ToString().Contains(said, StringComparison.Ordinal); }, TimeSpan.FromMilliseconds(200));
        Assert.Equal(0, ProcessRunner.Run("scontrol", ["release", vgae.Id], sb.Dir).ExitCode);
        File.WriteAllText(go, "");
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "build did not end:\n" + log);
        p.WaitForExit();
        string text;
        lock (log) text = log.ToString();
        output.WriteLine(text);
        Assert.True(seen, "the hold was not said within 20 s:\n" + text);
        Assert.Equal(0, p.ExitCode);
        Assert.Equal(vgae.Id, sb.LastBuild().Stages.Single(s => s.Stage == "vgae_large_autoencoder").JobId); // the held job itself ran
    }

    /// <summary>
    /// An upstream job requeued after its dependant's job had ended, before any build collected them:
    /// the dependant read the first run's outputs, gone since, and was collected as current with the
    /// second run's digest (a SLURM user review). Now it is refused (KDG3017) and the next build runs it.
    /// Also when a build of its own collected the upstream first (-t:RunStage -p:Stage=preprocess): the upstream was
    /// no longer a pending job for the build that collected the dependant, and a requeued job keeps its id (a second
    /// SLURM review); the upstream's manifest records its job's end.
    /// </summary>
    [SlurmTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_job_whose_upstream_job_ran_again_after_it_started_is_not_collected(bool upstreamCollectedFirst)
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        string[] stage = ["-t:RunStage", "-p:Stage=vgae_large_autoencoder", "-p:Dataset=hcrl_sa"];
        Assert.Equal(0, Build(sb, [.. stage, "-p:Wait=false"]).ExitCode);
        IReadOnlyList<Cluster.Job> jobs = [];
        Assert.True(Eventually.Within(TimeSpan.FromMinutes(3), () => (jobs = Cluster.LiveJobsUnder(sb.Dir)).Count == 2 && jobs.All(j => j.State == "COMPLETED"), TimeSpan.FromMilliseconds(500)),
            "jobs did not complete: " + string.Join(", ", jobs));
        var upstream = jobs.Single(j => j.Name.Contains("preprocess", StringComparison.Ordinal));
        Thread.Sleep(TimeSpan.FromSeconds(1.5)); // the rerun starts in a later second than the dependant did
        Cluster.RequeueNow(upstream.Id, sb.Dir);
        if (upstreamCollectedFirst)
        {
            Assert.True(Eventually.Within(TimeSpan.FromMinutes(2), () => Cluster.LiveJobsUnder(sb.Dir).Single(j => j.Id == upstream.Id).State == "COMPLETED", TimeSpan.FromMilliseconds(300)), "the requeued job did not end");
            var first = Build(sb, ["-t:RunStage", "-p:Stage=preprocess", "-p:Dataset=hcrl_sa"]);
            Assert.True(first.ExitCode == 0, first.Output);
        }

        var collect = Build(sb, stage);

        Assert.NotEqual(0, collect.ExitCode);
        Assert.Contains("error KDG3017", collect.Output);
        Assert.Contains("ran again after this one had read its outputs", collect.Output);
        var report = sb.LastBuild();
        Assert.Equal(upstreamCollectedFirst ? Outcome.UpToDate : Outcome.Ran, report.Stages.Single(r => r.Stage == "preprocess").Outcome);
        Assert.Equal(Outcome.Failed, report.Stages.Single(r => r.Stage == "vgae_large_autoencoder").Outcome);
        var again = Build(sb, stage);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Equal(Outcome.Ran, sb.LastBuild().Stages.Single(r => r.Stage == "vgae_large_autoencoder").Outcome);
    }

    /// <summary>
    /// Ctrl+C cancels the jobs this build submitted, unless -p:CancelOnAbort=false; a hangup (SIGHUP: an SSH
    /// drop, a closed terminal) leaves them for the next build to re-attach to, as the README promised and
    /// the build did not do: a dropped connection cancelled every running job (a review).
    /// </summary>
    [SlurmFact]
    public void CtrlC_cancels_this_builds_jobs_unless_CancelOnAbort_is_false_and_a_hangup_leaves_them()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.PrefixCommand("preprocess", "sleep 30; ");
        var journal = Path.Combine(sb.Dir, "experimentruns", "hcrl_sa", ".kdgat", "eval_large_evaluation", "attempt.json");

        string Interrupt(string signal, params string[] extra)
        {
            using var p = sb.Start(["-t:Large", "-p:Dataset=hcrl_sa", .. extra], out var log);
            Eventually.Within(TimeSpan.FromMinutes(2), () => File.Exists(journal) && File.ReadAllText(journal).Contains("slurm:", StringComparison.Ordinal) || p.HasExited, TimeSpan.FromMilliseconds(50));
            Assert.False(p.HasExited, "build ended before the jobs were submitted:\n" + log);
            ProcessRunner.Run("kill", ["-" + signal, p.Id.ToString()], sb.Dir);
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), $"build did not stop after SIG{signal}:\n" + log);
            p.WaitForExit();
            Assert.NotEqual(0, p.ExitCode);
            lock (log) { output.WriteLine(log.ToString()); return log.ToString(); }
        }

        var cancelled = Interrupt("INT");
        Assert.Contains("KDG4008", cancelled);
        // A running job passes through COMPLETING while slurmd kills it (KillWait): wait for the end state.
        Eventually.Within(TimeSpan.FromSeconds(30), () => !Cluster.LiveJobsUnder(sb.Dir).Any(j => j.State is "COMPLETING" or "RUNNING" or "PENDING"), TimeSpan.FromMilliseconds(300));
        output.WriteLine(string.Join("\n", Cluster.LiveJobsUnder(sb.Dir)));
        Assert.All(Cluster.LiveJobsUnder(sb.Dir), j => Assert.StartsWith("CANCELLED", j.State));

        var left = Interrupt("INT", "-p:CancelOnAbort=false");
        Assert.Contains("KDG4007", left);
        Assert.Contains("LEFT RUNNING", left);
        var alive = Cluster.LiveJobsUnder(sb.Dir).Where(j => j.State is "PENDING" or "RUNNING").ToArray();
        Assert.Equal(5, alive.Length);

        sb.EditConfig(c => c.Replace("sleep 30; ", "")); // the config changed: the next build must not keep the old jobs blindly
        var r = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("KDG4009", r.Output); // preprocess's old job no longer matches: cancelled, submitted again

        sb.PrefixCommand("preprocess", "sleep 30; "); // stale again, its downstreams submitted chained on it
        var hungUp = Interrupt("HUP");
        Assert.Contains("KDG4007", hungUp);
        Assert.Contains("SIGHUP", hungUp);
        Assert.DoesNotContain("KDG4008", hungUp);
        Assert.Equal(5, Cluster.LiveJobsUnder(sb.Dir).Count(j => j.State is "PENDING" or "RUNNING"));
        var reattached = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, reattached.ExitCode);
        Assert.Contains("KDG4006", reattached.Output); // collected, not submitted again
    }

    /// <summary>
    /// A user's scancel of a job waiting on its dependency (squeue and sacct: CANCELLED, reason
    /// Dependency, as when SLURM cancels it because the upstream failed) is a cancel: the stage is
    /// not submitted again behind the user's back. Before, it was taken for SLURM's dependency
    /// cancel, "decided again" since the upstream had succeeded, and resubmitted.
    /// </summary>
    [SlurmFact]
    public void A_scancel_of_a_job_waiting_on_its_dependency_is_not_resubmitted()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        var go = Path.Combine(sb.Dir, "go");
        sb.PrefixCommand("preprocess", $"while [ ! -e '{go}' ]; do sleep 0.2; done; ");
        using (var p = sb.Start(["-t:RunStage", "-p:Stage=vgae_large_autoencoder", "-p:Dataset=hcrl_sa"], out var log))
        {
            Cluster.Job? vgae = null;
            Assert.True(Eventually.Within(TimeSpan.FromMinutes(2), () => (vgae = Cluster.LiveJobsUnder(sb.Dir).SingleOrDefault(j => j.Name.Contains("vgae_large"))) is { State: "PENDING" } || p.HasExited, TimeSpan.FromMilliseconds(200)),
                "vgae's job was never pending:\n" + log);
            Assert.False(p.HasExited, "build ended early:\n" + log);
            ProcessRunner.Run("scancel", [vgae!.Id], sb.Dir);
            Thread.Sleep(TimeSpan.FromSeconds(3)); // the build sees the cancel before preprocess ends
            File.WriteAllText(go, "");
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "build did not end:\n" + log);
            p.WaitForExit();
            lock (log) output.WriteLine(log.ToString());
            Assert.NotEqual(0, p.ExitCode);
        }
        var jobs = Cluster.JobsUnder(sb.Dir, expected: 2);
        Assert.Single(jobs, j => j.Name.Contains("vgae_large")); // not submitted again
        var report = sb.LastBuild();
        Assert.Equal(["hcrl_sa/preprocess"], Sandbox.With(report, Outcome.Ran));
        Assert.Equal(["hcrl_sa/vgae_large_autoencoder"], Sandbox.With(report, Outcome.Cancelled));
    }

    /// <summary>
    /// Ctrl+C after a job has completed but before the build's next poll saw it (polls are up to
    /// slurm.max_poll_seconds apart): its result is not thrown away and run again. The next build
    /// collects that very job, and runs again only what the scancel stopped.
    /// </summary>
    [SlurmFact]
    public void CtrlC_after_a_job_completed_unseen_leaves_it_for_the_next_build_to_collect()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial(poll: 120, maxPoll: 120); // the build looks only every 2 minutes
        // Each submission makes the watcher ask at once: preprocess ends only after the last of them, when the test says so.
        var go = Path.Combine(sb.Dir, "go");
        sb.PrefixCommand("preprocess", $"while [ ! -e '{go}' ]; do sleep 0.2; done; ");
        sb.PrefixCommand("vgae_large_autoencoder", "sleep 120; ");
        var journal = Path.Combine(sb.Dir, "experimentruns", "hcrl_sa", ".kdgat", "eval_large_evaluation", "attempt.json");
        using (var p = sb.Start(["-t:Large", "-p:Dataset=hcrl_sa"], out var log))
        {
            Assert.True(Eventually.Within(TimeSpan.FromMinutes(2), () => File.Exists(journal) && File.ReadAllText(journal).Contains("slurm:", StringComparison.Ordinal) || p.HasExited, TimeSpan.FromMilliseconds(50)), "eval_large_evaluation's job was never journalled:\n" + log);
            Thread.Sleep(TimeSpan.FromSeconds(2)); // the watcher's query after that last submission
            File.WriteAllText(go, "");
            var pre = (Cluster.Job?)null;
            Eventually.Within(TimeSpan.FromMinutes(2), () => (pre = Cluster.LiveJobsUnder(sb.Dir).SingleOrDefault(j => j.Name.Contains("preprocess"))) is { State: "COMPLETED" } || p.HasExited, TimeSpan.FromMilliseconds(200));
            Assert.False(p.HasExited, "build ended before preprocess's job completed:\n" + log);
            ProcessRunner.Run("kill", ["-INT", p.Id.ToString()], sb.Dir);
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), "build did not stop after SIGINT:\n" + log);
            p.WaitForExit();
            string text;
            lock (log) text = log.ToString();
            output.WriteLine(text);
            Assert.NotEqual(0, p.ExitCode);
            Assert.Contains($"hcrl_sa/preprocess={pre!.Id}", text); // named as completed before the cancel (KDG4007)
            Assert.Contains("KDG4008", text); // the others were cancelled
        }
        Eventually.Within(TimeSpan.FromSeconds(30), () => !Cluster.LiveJobsUnder(sb.Dir).Any(j => j.State is "COMPLETING" or "RUNNING" or "PENDING"), TimeSpan.FromMilliseconds(300));
        var first = Cluster.LiveJobsUnder(sb.Dir);
        Assert.Equal("COMPLETED", first.Single(j => j.Name.Contains("preprocess")).State);
        Assert.All(first.Where(j => !j.Name.Contains("preprocess")), j => Assert.StartsWith("CANCELLED", j.State));

        sb.EditConfig(c => c.Replace("sleep 120; ", "").Replace("poll_seconds: 120\n  max_poll_seconds: 120", "poll_seconds: 0.5\n  max_poll_seconds: 2"));
        var r = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa"); // preprocess's command is as it was (the go file is there): its job still matches

        Assert.Equal(0, r.ExitCode);
        var report = sb.LastBuild();
        Assert.Equal(5, Sandbox.With(report, Outcome.Ran).Length);
        var preprocess = report.Stages.Single(s => s.Stage == "preprocess");
        Assert.Equal(first.Single(j => j.Name.Contains("preprocess")).Id, preprocess.JobId); // collected, not submitted again
        Assert.All(report.Stages.Where(s => s.Stage != "preprocess"), s => Assert.DoesNotContain(first, j => j.Id == s.JobId));
    }

    /// <summary>
    /// A job left in the cluster is re-attached only while its upstreams are what it was chained on.
    /// Here gat_large_curriculum's job completed against vgae_large_autoencoder's first job; then a
    /// build of vgae alone (its command changed) redid vgae. The full build after it must not
    /// collect gat's old job, which read the old vgae outputs, under the new vgae digest.
    /// </summary>
    [SlurmFact]
    public void A_left_job_whose_upstream_was_redone_in_between_is_not_collected()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        Assert.Equal(0, Build(sb, "-t:Large", "-p:Dataset=hcrl_sa", "-p:Wait=false").ExitCode);
        var left = sb.LastBuild().Stages.ToDictionary(s => s.Stage, s => s.JobId);
        Eventually.Within(TimeSpan.FromMinutes(2), () => Cluster.LiveJobsUnder(sb.Dir).Count(j => j.State == "COMPLETED") == 5, TimeSpan.FromMilliseconds(300));

        sb.PrefixCommand("vgae_large_autoencoder", "true; ");
        Assert.Equal(0, Build(sb, "-t:RunStage", "-p:Stage=vgae_large_autoencoder", "-p:Dataset=hcrl_sa").ExitCode);
        var between = sb.LastBuild().Stages.ToDictionary(s => s.Stage, s => s);
        Assert.Equal(left["preprocess"], between["preprocess"].JobId); // collected
        Assert.NotEqual(left["vgae_large_autoencoder"], between["vgae_large_autoencoder"].JobId); // redone
        Assert.False(between.ContainsKey("gat_large_curriculum"));

        var r = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");

        Assert.Equal(0, r.ExitCode);
        var report = sb.LastBuild().Stages.ToDictionary(s => s.Stage, s => s);
        foreach (var stage in new[] { "gat_large_curriculum", "dqn_large_fusion", "eval_large_evaluation" })
        {
            Assert.Equal(Outcome.Ran, report[stage].Outcome);
            Assert.NotEqual(left[stage], report[stage].JobId); // run again, not the old job collected
        }
        Assert.Contains($"hcrl_sa/gat_large_curriculum: SLURM job {left["gat_large_curriculum"]} of an earlier build no longer matches the stage (an upstream was redone)", r.Output);
    }

    /// <summary>
    /// A job chained on an upstream job is fingerprinted when it is submitted; once the upstream
    /// ended, only the upstream digests are filled in. A code file edited while the job ran is
    /// not recorded as the version the job used: the next build runs the stage again.
    /// </summary>
    [SlurmFact]
    public void A_code_file_edited_while_a_chained_job_runs_leaves_the_stage_stale()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        Directory.CreateDirectory(Path.Combine(sb.Dir, "code"));
        var code = Path.Combine(sb.Dir, "code", "gat.txt");
        File.WriteAllText(code, "v1\n");
        sb.EditConfig(c => c.Replace("  gat_large_curriculum:\n", "  gat_large_curriculum:\n    code: ['code/gat.txt']\n"));
        sb.PrefixCommand("vgae_large_autoencoder", "sleep 3; "); // still running when gat's job is submitted, chained on it
        sb.PrefixCommand("gat_large_curriculum", "cp {root}/code/gat.txt used.txt; touch {root}/started; while [ ! -e {root}/gate ]; do sleep 0.2; done; ");

        using (var p = sb.Start(["-t:Large", "-p:Dataset=hcrl_sa"], out var log))
        {
            Eventually.Within(TimeSpan.FromMinutes(2), () => File.Exists(Path.Combine(sb.Dir, "started")) || p.HasExited, TimeSpan.FromMilliseconds(100));
            Assert.False(p.HasExited, "build ended before the gat job started:\n" + log);
            File.WriteAllText(code, "v2\n");
            File.WriteAllText(Path.Combine(sb.Dir, "gate"), "");
            Assert.True(p.WaitForExit(TimeSpan.FromMinutes(3)), "build did not end:\n" + log);
            p.WaitForExit();
            lock (log) output.WriteLine(log.ToString());
            Assert.Equal(0, p.ExitCode);
        }
        Assert.Equal("v1\n", File.ReadAllText(Path.Combine(sb.RunDir("hcrl_sa", "gat_large_curriculum"), "used.txt")));

        var r = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");

        Assert.Equal(0, r.ExitCode);
        var report = sb.LastBuild().Stages.ToDictionary(st => st.Stage, st => st.Outcome);
        Assert.Equal(Outcome.Ran, report["gat_large_curriculum"]);
        Assert.Equal(Outcome.UpToDate, report["vgae_large_autoencoder"]);
        Assert.Equal("v2\n", File.ReadAllText(Path.Combine(sb.RunDir("hcrl_sa", "gat_large_curriculum"), "used.txt")));
    }

    /// <summary>
    /// An input a needed stage writes (vgae declares preprocess's {cache_dir}) does not exist yet
    /// when vgae's job is submitted, chained on preprocess's: it is hashed once that job has ended,
    /// so the first build succeeds and the next one finds everything up to date.
    /// </summary>
    [SlurmFact]
    public void An_input_an_upstream_job_writes_is_hashed_after_that_job_ended()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.EditConfig(c => c.Replace("  vgae_large_autoencoder:\n", "  vgae_large_autoencoder:\n    inputs: ['{cache_dir}']\n"));
        sb.PrefixCommand("preprocess", "sleep 2; "); // still running when vgae's job is submitted

        var first = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");

        Assert.Equal(0, first.ExitCode);
        Assert.All(sb.LastBuild().Stages, st => Assert.Equal(Outcome.Ran, st.Outcome));
        var second = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, second.ExitCode);
        Assert.All(sb.LastBuild().Stages, st => Assert.Equal(Outcome.UpToDate, st.Outcome));
    }

    /// <summary>
    /// An input that holds what an upstream job writes (the dataset's cache dir, above preprocess's
    /// graphs.bin) is hashed once that job has ended, like one inside it: the upstream's writing is
    /// no edit during the run (KDG3020), and the next build finds everything up to date. (data/cache,
    /// above every dataset's cache dir, is KDG1038 since 2026-12-05: other datasets' outputs.)
    /// </summary>
    [SlurmFact]
    public void An_input_above_what_an_upstream_job_writes_is_hashed_after_that_job_ended()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        Directory.CreateDirectory(Path.Combine(sb.Dir, "data", "cache", "hcrl_sa"));
        File.WriteAllText(Path.Combine(sb.Dir, "data", "cache", "hcrl_sa", "notes.txt"), "kept beside the graph cache\n");
        sb.EditConfig(c => c.Replace("  vgae_large_autoencoder:\n", "  vgae_large_autoencoder:\n    inputs: ['{cache_dir}']\n"));
        sb.PrefixCommand("preprocess", "sleep 2; "); // still running when vgae's job is submitted

        var first = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");

        Assert.Equal(0, first.ExitCode);
        Assert.DoesNotContain("KDG3020", first.Output);
        Assert.All(sb.LastBuild().Stages, st => Assert.Equal(Outcome.Ran, st.Outcome));
        var second = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, second.ExitCode);
        Assert.All(sb.LastBuild().Stages, st => Assert.Equal(Outcome.UpToDate, st.Outcome));
    }

    /// <summary>
    /// The other side of the check above: a job submitted while its upstreams were up to date (not
    /// chained on a job) is collected by a later build as long as those upstreams are unchanged.
    /// </summary>
    [SlurmFact]
    public void A_left_job_on_up_to_date_upstreams_is_collected_by_the_next_build()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        Assert.Equal(0, Build(sb, "-t:Large", "-p:Dataset=hcrl_sa").ExitCode);
        sb.PrefixCommand("gat_large_curriculum", "true; ");
        Assert.Equal(0, Build(sb, "-t:Large", "-p:Dataset=hcrl_sa", "-p:Wait=false").ExitCode);
        var left = sb.LastBuild().Stages.Where(s => s.Outcome == Outcome.Submitted).ToDictionary(s => s.Stage, s => s.JobId);
        Assert.Equal(["dqn_large_fusion", "eval_large_evaluation", "gat_large_curriculum"], left.Keys.Order(StringComparer.Ordinal));
        Eventually.Within(TimeSpan.FromMinutes(2), () => left.Values.All(id => Cluster.LiveJobsUnder(sb.Dir).Any(j => j.Id == id && j.State == "COMPLETED")), TimeSpan.FromMilliseconds(300));

        var r = Build(sb, "-t:Large", "-p:Dataset=hcrl_sa");

        Assert.Equal(0, r.ExitCode);
        var report = sb.LastBuild().Stages.ToDictionary(s => s.Stage, s => s);
        Assert.All(left, kv => Assert.Equal((Outcome.Ran, kv.Value), (report[kv.Key].Outcome, report[kv.Key].JobId)));
        Assert.DoesNotContain("KDG4009", r.Output);
    }

    /// <summary>
    /// Ctrl+C of a build that was collecting jobs an earlier build left (-p:Wait=false) cancels
    /// nothing of theirs: they were left on purpose, and stay for the build after to collect.
    /// </summary>
    [SlurmFact]
    public void CtrlC_while_collecting_left_jobs_leaves_them_for_the_next_build()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.PrefixCommand("preprocess", "sleep 20; ");
        Assert.Equal(0, Build(sb, "-t:Preprocess", "-p:Dataset=hcrl_sa", "-p:Wait=false").ExitCode);
        var job = Assert.Single(sb.LastBuild().Stages).JobId;

        using (var p = sb.Start(["-t:Preprocess", "-p:Dataset=hcrl_sa"], out var log))
        {
            Eventually.Within(TimeSpan.FromMinutes(1), () => { lock (log) return log.ToString().Contains("KDG4006", StringComparison.Ordinal) || p.HasExited; }, TimeSpan.FromMilliseconds(50));
            Assert.False(p.HasExited, "the collecting build ended before it was interrupted:\n" + log);
            ProcessRunner.Run("kill", ["-INT", p.Id.ToString()], sb.Dir);
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(60)), "build did not stop after SIGINT:\n" + log);
            p.WaitForExit();
            lock (log) output.WriteLine(log.ToString());
        }
        Assert.Contains(Cluster.LiveJobsUnder(sb.Dir), j => j.Id == job && j.State is "RUNNING" or "PENDING" or "COMPLETED");

        var r = Build(sb, "-t:Preprocess", "-p:Dataset=hcrl_sa");

        Assert.Equal(0, r.ExitCode);
        var collected = Assert.Single(sb.LastBuild().Stages);
        Assert.Equal((Outcome.Ran, job), (collected.Outcome, collected.JobId));
    }

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

    /// <summary>
    /// A TIMEOUT retry whose doubled time is above the partition's MaxTime failed with KDG4002 (PartitionTimeLimit),
    /// though the partition allowed more than the first attempt had. Now the retry gets the partition's MaxTime and
    /// its line says so (time 2min, MaxTime 3min: the retry runs with 3min, not 4min). The partition's MaxTime is
    /// set with scontrol for the test and put back after.
    /// </summary>
    [SlurmFact]
    public void A_timeout_retry_above_the_partitions_MaxTime_runs_with_the_most_it_allows()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        var flag = Path.Combine(sb.Dir, "first-attempt-ran");
        sb.EditConfig(c => c.Replace("resources: { cpus: 1, mem: 200M }", "resources: { cpus: 1, mem: 200M, time: '00:02:00' }"));
        Assert.Contains("time: '00:02:00'", File.ReadAllText(sb.Config));
        sb.PrefixCommand("preprocess", $"if [ ! -e '{flag}' ]; then touch '{flag}'; sleep 600; fi; "); // the first attempt runs into its limit
        var partition = ProcessRunner.Run("sinfo", ["-h", "-o", "%P"], sb.Dir).Output.Split('\n').Select(l => l.Trim()).Single(l => l.EndsWith('*')).TrimEnd('*');
        var before = ProcessRunner.Run("scontrol", ["show", "partition", partition, "-o"], sb.Dir).Output;
        var maxTime = System.Text.RegularExpressions.Regex.Match(before, @"MaxTime=(\S+)").Groups[1].Value;
        Assert.NotEmpty(maxTime);
        Assert.Equal(0, ProcessRunner.Run("scontrol", ["update", $"PartitionName={partition}", "MaxTime=3"], sb.Dir).ExitCode);
        try
        {
            var r = Build(sb, "-t:RunStage", "-p:Stage=preprocess", "-p:Dataset=hcrl_sa");

            Assert.True(r.ExitCode == 0, r.Output);
            Assert.Contains("attempt 1 ended Timeout", r.Output);
            Assert.Contains("time=3min, the most the default partition allows one job (MaxTime), not time=4min", r.Output);
            var jobs = Cluster.JobsUnder(sb.Dir, 2);
            Assert.Equal(["COMPLETED", "TIMEOUT"], jobs.Select(j => j.State).Order());
            var retry = jobs.Single(j => j.State == "COMPLETED");
            Assert.Equal("00:03:00", ProcessRunner.Run("sacct", ["-X", "-n", "-P", "-j", retry.Id, "-o", "Timelimit"], sb.Dir).Output.Trim());
        }
        finally
        {
            Assert.Equal(0, ProcessRunner.Run("scontrol", ["update", $"PartitionName={partition}", $"MaxTime={maxTime}"], sb.Dir).ExitCode);
        }
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
