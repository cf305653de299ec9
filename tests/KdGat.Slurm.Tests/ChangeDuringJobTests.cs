using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit.Abstractions;

namespace KdGat.Slurm.Tests;

/// <summary>What changes while a job runs or after it ended (an admin's requeue, hold or scancel; an edited input, code file or output) is seen: nothing stale is committed as current.</summary>
[Trait("Category", "Slurm")]
public sealed class ChangeDuringJobTests(ITestOutputHelper output)
{
    private ProcessResult Build(Sandbox sb, params string[] args) => SlurmSandbox.Build(sb, output, args);

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
}
