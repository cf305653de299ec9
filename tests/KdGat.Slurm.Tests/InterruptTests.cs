using KdGat.Core.Engine;
using KdGat.Testing;
using Xunit.Abstractions;

namespace KdGat.Slurm.Tests;

/// <summary>Found by review: a terminal's Ctrl+C during sbatch, and a command's background writer under SLURM.</summary>
[Trait("Category", "Slurm")]
public sealed class InterruptTests(ITestOutputHelper output)
{
    /// <summary>
    /// A terminal's Ctrl+C is SIGINT to its whole foreground process group. sbatch ran in that group,
    /// so it was killed half-way (here: after the controller took the job, before it replied, as with a
    /// busy controller), the build reported KDG4002 ("fix the stage's resources"), rolled back, and the
    /// job ran untracked (the next build submitted a duplicate). Now the SLURM client calls run in a
    /// session of their own, and the submitted job is journalled and cancelled: a cancel, KDG3004.
    /// </summary>
    [SlurmFact]
    public void CtrlC_to_the_terminals_process_group_while_sbatch_runs_cancels_the_job_it_created()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.PrefixCommand("preprocess", "sleep 30; ");
        var real = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "sbatch")).FirstOrDefault(File.Exists);
        Assert.NotNull(real);
        var fake = Path.Combine(sb.Dir, "fakebin");
        Directory.CreateDirectory(fake);
        var created = Path.Combine(fake, "created");
        // The real submission, then a slow reply: the Ctrl+C comes while sbatch still runs.
        File.WriteAllText(Path.Combine(fake, "sbatch"), $"#!/bin/sh\nout=$('{real}' \"$@\"); rc=$?\necho \"$out\" > '{created}.tmp' && mv '{created}.tmp' '{created}'\nsleep 5\necho \"$out\"\nexit $rc\n");
        Assert.Equal(0, ProcessRunner.Run("chmod", ["755", Path.Combine(fake, "sbatch")], sb.Dir).ExitCode);
        sb.Env["PATH"] = fake + ":" + Environment.GetEnvironmentVariable("PATH");

        // setsid: the build leads a process group of its own, as a terminal's foreground job does.
        using var p = ProcessRunner.Start("setsid", ["dotnet", .. sb.MSBuildArgs(["-t:Preprocess", "-p:Dataset=hcrl_sa"])], sb.Dir, sb.Env, out var log);
        Eventually.Within(TimeSpan.FromMinutes(2), () => File.Exists(created) || p.HasExited, TimeSpan.FromMilliseconds(50));
        Assert.False(p.HasExited, "build ended before sbatch ran:\n" + log);
        var job = File.ReadAllText(created).Trim().Split(';')[0];
        Assert.Equal(0, ProcessRunner.Run("kill", ["-INT", "--", "-" + p.Id], sb.Dir).ExitCode); // the group: as a terminal's Ctrl+C
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(90)), "build did not stop after SIGINT:\n" + log);
        p.WaitForExit();
        string text;
        lock (log) text = log.ToString();
        output.WriteLine(text);

        Assert.NotEqual(0, p.ExitCode);
        Assert.DoesNotContain("KDG4002", text);
        Assert.Contains("KDG3004", text);
        Assert.Contains($"job {job}", text);
        Eventually.Within(TimeSpan.FromSeconds(30), () => Cluster.LiveJobsUnder(sb.Dir).All(j => j.State.StartsWith("CANCELLED", StringComparison.Ordinal)), TimeSpan.FromMilliseconds(300));
        var jobs = Cluster.LiveJobsUnder(sb.Dir);
        output.WriteLine(string.Join("\n", jobs));
        Assert.Equal(job, Assert.Single(jobs).Id); // the job sbatch created was not left running untracked
        Assert.StartsWith("CANCELLED", jobs[0].State);
    }

    /// <summary>
    /// A SLURM review: Ctrl+C while the job pended, and scancel failed for a while (a restarting
    /// controller). The build called the stage cancelled, rolled back and dropped its journal; the job
    /// ran on, and after the user fixed the command the next build committed the old job's output,
    /// written into its attempt's run dir, under the new command's fingerprint: a stale result
    /// reported as current. Now the job stays journalled, and the next build cancels it (KDG4009)
    /// before the stage runs, so the result is the fixed command's.
    /// </summary>
    [SlurmFact]
    public void CtrlC_whose_scancel_fails_leaves_the_job_journalled_and_the_next_build_cancels_it_before_running()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        // Pending for a while (as behind a busy queue), then the old command writes its output late.
        sb.PrefixCommand("preprocess", "sleep 8; echo OLD > {cache_dir}/old-command.txt; ");
        sb.EditConfig(c => c.Replace("resources: { cpus: 1, mem: 200M }", "resources: { cpus: 1, mem: 200M, extra: [\"--begin=now+20\"] }"));
        Assert.Contains("--begin=now+20", File.ReadAllText(sb.Config));
        var real = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "scancel")).FirstOrDefault(File.Exists);
        Assert.NotNull(real);
        var fake = Path.Combine(sb.Dir, "fakebin");
        Directory.CreateDirectory(fake);
        var failing = Path.Combine(fake, "failing");
        File.WriteAllText(failing, "");
        File.WriteAllText(Path.Combine(fake, "scancel"), $"#!/bin/sh\n[ -e '{failing}' ] && {{ echo 'scancel: error: Unable to contact slurm controller (connect failure)' >&2; exit 1; }}\nexec '{real}' \"$@\"\n");
        Assert.Equal(0, ProcessRunner.Run("chmod", ["755", Path.Combine(fake, "scancel")], sb.Dir).ExitCode);
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        sb.Env["PATH"] = fake + ":" + path;
        var journal = Path.Combine(sb.Dir, "experimentruns", "hcrl_sa", ".kdgat", "preprocess", "attempt.json");

        using (var p = ProcessRunner.Start("setsid", ["dotnet", .. sb.MSBuildArgs(["-t:Preprocess", "-p:Dataset=hcrl_sa"])], sb.Dir, sb.Env, out var log))
        {
            Eventually.Within(TimeSpan.FromMinutes(2), () => (File.Exists(journal) && File.ReadAllText(journal).Contains("slurm:", StringComparison.Ordinal)) || p.HasExited, TimeSpan.FromMilliseconds(100));
            Assert.False(p.HasExited, "build ended before its job was submitted:\n" + log);
            Assert.Equal(0, ProcessRunner.Run("kill", ["-INT", "--", "-" + p.Id], sb.Dir).ExitCode);
            Assert.True(p.WaitForExit(TimeSpan.FromSeconds(90)), "build did not stop after SIGINT:\n" + log);
            lock (log) output.WriteLine(log.ToString());
            Assert.NotEqual(0, p.ExitCode);
        }
        var job = Assert.Single(Cluster.LiveJobsUnder(sb.Dir));
        Assert.Equal("PENDING", job.State); // scancel failed: the job is still there...
        Assert.Contains($"slurm:{job.Id}", File.ReadAllText(journal)); // ...and journalled, not forgotten

        // The controller is back, the user fixed the command: the old job is cancelled before the stage runs.
        File.Delete(failing);
        sb.EditConfig(c => c.Replace("sleep 8; echo OLD > {cache_dir}/old-command.txt; ", "").Replace(", extra: [\"--begin=now+20\"]", ""));
        var r = SlurmSandbox.Build(sb, output, "-t:Preprocess", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("KDG4009", r.Output);
        Assert.Equal(Outcome.Ran, Assert.Single(sb.LastBuild().Stages).Outcome);
        var state = "";
        Eventually.Within(TimeSpan.FromSeconds(30), () => (state = Cluster.LiveJobsUnder(sb.Dir).Single(j => j.Id == job.Id).State) is not ("PENDING" or "RUNNING" or "COMPLETING"), TimeSpan.FromMilliseconds(500));
        Assert.StartsWith("CANCELLED", state); // before its begin time: the old command never ran
        Assert.False(File.Exists(Path.Combine(sb.Dir, "data", "cache", "hcrl_sa", "old-command.txt")));
    }

    /// <summary>
    /// A submission SLURM never confirmed: the build died while sbatch ran (here: after the controller
    /// took the job, before its reply), so the journal has no job id. Before, a next build whose lookup
    /// by comment failed (and any local-executor build, which never looked) took it for a local attempt:
    /// the stage rolled back and ran again while the job could still write into the run dir. Now that
    /// build stops the stage with KDG4010, naming the comment, and keeps the journal; once squeue
    /// answers, a local build finds the job by its comment and cancels it before running the stage.
    /// </summary>
    [SlurmFact]
    public void A_submission_SLURM_never_confirmed_is_KDG4010_while_squeue_fails_and_cancelled_once_it_answers()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.PrefixCommand("preprocess", "sleep 120; ");
        var real = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "sbatch")).FirstOrDefault(File.Exists);
        Assert.NotNull(real);
        var fake = Path.Combine(sb.Dir, "fakebin");
        Directory.CreateDirectory(fake);
        var created = Path.Combine(fake, "created");
        File.WriteAllText(Path.Combine(fake, "sbatch"), $"#!/bin/sh\nout=$('{real}' \"$@\"); rc=$?\necho \"$out\" > '{created}.tmp' && mv '{created}.tmp' '{created}'\nsleep 60\necho \"$out\"\nexit $rc\n");
        Assert.Equal(0, ProcessRunner.Run("chmod", ["755", Path.Combine(fake, "sbatch")], sb.Dir).ExitCode);
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        sb.Env["PATH"] = fake + ":" + path;
        using (var p = sb.Start(["-t:Preprocess", "-p:Dataset=hcrl_sa"], out var log))
        {
            Eventually.Within(TimeSpan.FromMinutes(2), () => File.Exists(created) || p.HasExited, TimeSpan.FromMilliseconds(50));
            Assert.False(p.HasExited, "build ended before sbatch ran:\n" + log);
            p.Kill(entireProcessTree: true); // the build dies before sbatch replies: no job id journalled
            p.WaitForExit();
        }
        var job = File.ReadAllText(created).Trim().Split(';')[0];
        var journal = Path.Combine(sb.Dir, "experimentruns", "hcrl_sa", ".kdgat", "preprocess", "attempt.json");
        Assert.DoesNotContain("slurm:", File.ReadAllText(journal));
        var comment = Assert.Single(Cluster.LiveJobsUnder(sb.Dir), j => j.Id == job).Comment;

        // A local build where squeue fails: the job may still write, so the stage is not run.
        var failing = Path.Combine(sb.Dir, "failbin");
        Directory.CreateDirectory(failing);
        File.WriteAllText(Path.Combine(failing, "squeue"), "#!/bin/sh\necho 'squeue: error: Socket timed out on send/recv operation' >&2\nexit 1\n");
        Assert.Equal(0, ProcessRunner.Run("chmod", ["755", Path.Combine(failing, "squeue")], sb.Dir).ExitCode);
        sb.Env["PATH"] = failing + ":" + path;
        sb.EditConfig(c => c.Replace("sleep 120; ", ""));
        var r = SlurmSandbox.Build(sb, output, "-t:Preprocess", "-p:Dataset=hcrl_sa", "-p:Executor=local");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("KDG4010", r.Output);
        Assert.Contains(comment, r.Output);
        Assert.NotEqual(Outcome.Ran, Assert.Single(sb.LastBuild().Stages).Outcome);
        Assert.True(File.Exists(journal));
        Assert.Contains(Cluster.LiveJobsUnder(sb.Dir), j => j.Id == job && j.State is "PENDING" or "RUNNING");

        // squeue answers again: the job is found by its comment and cancelled, then the stage runs locally.
        sb.Env["PATH"] = path;
        var again = SlurmSandbox.Build(sb, output, "-t:Preprocess", "-p:Dataset=hcrl_sa", "-p:Executor=local");
        Assert.Equal(0, again.ExitCode);
        Assert.Contains($"job {job}", again.Output);
        Assert.Equal(Outcome.Ran, Assert.Single(sb.LastBuild().Stages).Outcome);
        var state = "";
        Eventually.Within(TimeSpan.FromSeconds(30), () => (state = Cluster.LiveJobsUnder(sb.Dir).Single(j => j.Id == job).State) is not ("PENDING" or "RUNNING" or "COMPLETING"), TimeSpan.FromMilliseconds(500));
        Assert.Equal("CANCELLED", state);
    }

    /// <summary>
    /// A killed sbatch whose request reaches the controller a moment later (after the client's first
    /// look, within its 1 s backoff). Before, the client resubmitted after the backoff without looking
    /// again: two jobs with the same comment, one untracked, both writing into the run dir. Now it looks
    /// the job up immediately before every resubmission and adopts it.
    /// </summary>
    [SlurmFact]
    public void A_killed_sbatch_whose_job_arrives_during_the_backoff_is_adopted_not_submitted_twice()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        var real = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "sbatch")).FirstOrDefault(File.Exists);
        Assert.NotNull(real);
        var fake = Path.Combine(sb.Dir, "fakebin");
        Directory.CreateDirectory(fake);
        var first = Path.Combine(fake, "first");
        // The first call dies at once (exit 137: killed) while its request still reaches the controller half a second later.
        File.WriteAllText(Path.Combine(fake, "sbatch"),
            $"#!/bin/sh\nif [ ! -e '{first}' ]; then\n  touch '{first}'\n  ( sleep 0.5; '{real}' \"$@\" ) </dev/null >'{first}.late' 2>&1 &\n  exit 137\nfi\nexec '{real}' \"$@\"\n");
        Assert.Equal(0, ProcessRunner.Run("chmod", ["755", Path.Combine(fake, "sbatch")], sb.Dir).ExitCode);
        sb.Env["PATH"] = fake + ":" + Environment.GetEnvironmentVariable("PATH");

        var r = SlurmSandbox.Build(sb, output, "-t:Preprocess", "-p:Dataset=hcrl_sa");

        Assert.Equal(0, r.ExitCode);
        Assert.True(File.Exists(first));
        var late = File.ReadAllText(first + ".late").Trim().Split(';')[0];
        var jobs = Cluster.JobsUnder(sb.Dir, 1);
        output.WriteLine(string.Join("\n", jobs));
        Assert.Equal(late, Assert.Single(jobs).Id); // the late job was adopted; no second job
        Assert.Equal("COMPLETED", jobs[0].State);
        Assert.Equal(Outcome.Ran, Assert.Single(sb.LastBuild().Stages).Outcome);
    }

    /// <summary>
    /// A command that leaves a background writer: SLURM ends it with the job, the job is COMPLETED, and
    /// the output it was writing may be cut short. Before, that result was committed and cached silently;
    /// now the job script kills the leftover before its done-marker and names it there, and the build
    /// warns KDG3016 and keeps the result out of the output cache, as the local executor does.
    /// </summary>
    [SlurmFact]
    public void A_background_writer_left_by_a_jobs_command_is_killed_warned_KDG3016_and_not_cached()
    {
        if (!Cluster.Available(output)) return;
        using var sb = SlurmSandbox.Trivial();
        sb.PrefixCommand("preprocess", "(sleep 4; echo late >> part.txt) & echo early > part.txt; sleep 1; ");
        var r = SlurmSandbox.Build(sb, output, "-t:Preprocess", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("KDG3016", r.Output);
        var logs = Path.Combine(sb.RunDir("hcrl_sa", "preprocess"), "logs");
        Assert.Contains("leftovers:", File.ReadAllText(Assert.Single(Directory.GetFiles(logs, "*.done"))));
        Thread.Sleep(4000);
        Assert.Equal("early\n", File.ReadAllText(Path.Combine(sb.RunDir("hcrl_sa", "preprocess"), "part.txt"))); // killed, not left to write

        // Not in the output cache: with its outputs gone, the stage runs again instead of being restored.
        Directory.Delete(Path.Combine(sb.Dir, "data", "cache", "hcrl_sa"), recursive: true);
        var again = SlurmSandbox.Build(sb, output, "-t:Preprocess", "-p:Dataset=hcrl_sa");
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(Outcome.Ran, Assert.Single(sb.LastBuild().Stages, s => s.Stage == "preprocess").Outcome);
    }
}
