using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit.Abstractions;

namespace KdGat.Slurm.Tests;

/// <summary>Jobs a build left behind (Wait=false, Ctrl+C, a killed build, a journal naming another job) are collected, left or cancelled by the next build, never submitted twice.</summary>
[Trait("Category", "Slurm")]
public sealed class LeftJobTests(ITestOutputHelper output)
{
    private ProcessResult Build(Sandbox sb, params string[] args) => SlurmSandbox.Build(sb, output, args);

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
}
