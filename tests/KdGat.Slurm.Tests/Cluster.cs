using KdGat.Testing;
using Xunit.Abstractions;

namespace KdGat.Slurm.Tests;

/// <summary>
/// The real local cluster (scripts/slurm/start-local-slurm.sh). When it is not there the
/// end-to-end tests ([SlurmFact]) fail under CI=true and are reported as skipped otherwise.
/// </summary>
public static class Cluster
{
    /// <summary>Why the cluster cannot be used, or null when it can.</summary>
    public static string? Unavailable => Problem.Value;

    private static readonly Lazy<string?> Problem = new(Check);

    private static string? Check()
    {
        try
        {
            var r = ProcessRunner.Run("scontrol", ["ping"], "/", TimeSpan.FromSeconds(20));
            if (r.ExitCode != 0 || !r.Output.Contains("UP", StringComparison.Ordinal)) return "slurmctld does not answer (scontrol ping): " + r.Output.Trim();
            var s = ProcessRunner.Run("sinfo", ["-h", "-o", "%T"], "/", TimeSpan.FromSeconds(20));
            if (!s.Output.Split('\n').Any(l => l.Trim() is "idle" or "mixed" or "allocated" or "completing")) return "no usable node (sinfo): " + s.Output.Trim();
            return null;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return "SLURM client tools are not installed: " + e.Message;
        }
    }

    /// <summary>True when the cluster is up; otherwise fails under CI=true, else logs why the test did nothing.</summary>
    public static bool Available(ITestOutputHelper output)
    {
        if (Problem.Value is null) return true;
        var msg = $"SKIPPED: no local SLURM cluster ({Problem.Value}). Start it as root with: bash scripts/slurm/start-local-slurm.sh";
        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "CI=true requires the local SLURM cluster. " + msg);
        output.WriteLine(msg);
        return false;
    }

    public sealed record Job(string Id, string Name, string State, string WorkDir, string Comment);

    /// <summary>
    /// What sacct says about every job whose working dir is under <paramref name="dir"/> (the ids
    /// come from the controller, which keeps ended jobs for a day: sacct's time window leaves out
    /// jobs cancelled before they started). Accounting lags the controller by a moment: with
    /// <paramref name="expected"/> it waits (up to 30 s) until that many jobs are there and none
    /// is still pending or running.
    /// </summary>
    public static IReadOnlyList<Job> JobsUnder(string dir, int expected = -1)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var ids = LiveJobsUnder(dir).Select(j => j.Id).ToArray();
            var jobs = ids.Length == 0 ? [] : Parse(ProcessRunner.Run("sacct", ["-X", "-n", "-P", "-j", string.Join(',', ids), "-o", "JobID,JobName,State,WorkDir,Comment"], "/", TimeSpan.FromSeconds(30)).Output, dir);
            if (expected < 0 || DateTime.UtcNow > until || (jobs.Count == expected && jobs.All(j => j.State is not ("PENDING" or "RUNNING" or "COMPLETING")))) return jobs;
            Thread.Sleep(500);
        }
    }

    /// <summary>The controller's live view (squeue keeps ended jobs for MinJobAge): no accounting lag.</summary>
    public static IReadOnlyList<Job> LiveJobsUnder(string dir)
    {
        var r = ProcessRunner.Run("squeue", ["-h", "-t", "all", "-o", "%i|%j|%T|%Z|%k"], "/", TimeSpan.FromSeconds(30));
        return Parse(r.Output, dir);
    }

    /// <summary>`scontrol requeue` of an ended job, then lets it start now: SLURM holds a requeued job back (reason BeginTime) for a while.</summary>
    public static void RequeueNow(string id, string dir)
    {
        var requeue = ProcessRunner.Run("scontrol", ["requeue", id], dir);
        Assert.True(requeue.ExitCode == 0, requeue.Output);
        Eventually.Within(TimeSpan.FromSeconds(60), () => LiveJobsUnder(dir).Single(j => j.Id == id).State == "PENDING", TimeSpan.FromMilliseconds(200));
        ProcessRunner.Run("scontrol", ["update", $"jobid={id}", "StartTime=now"], dir);
    }

    private static IReadOnlyList<Job> Parse(string text, string dir) =>
        text.Split('\n').Select(l => l.Trim().Split('|')).Where(f => f.Length >= 5)
            .Select(f => new Job(f[0], f[1], f[2], f[3], f[4]))
            .Where(j => j.WorkDir.StartsWith(dir + "/", StringComparison.Ordinal) || j.WorkDir == dir).ToArray();
}

/// <summary>Sandboxes whose builds go to the local cluster.</summary>
public static class SlurmSandbox
{
    /// <summary>
    /// The trivial 13-stage pipeline as SLURM jobs: fast polling, small memory so jobs share the
    /// node. The training stages keep the shipped `gpus: 1`: the local cluster has counted gpu GRES.
    /// </summary>
    public static Sandbox Trivial(double poll = 0.5, double maxPoll = 2) => Configure(Sandbox.Trivial(), poll, maxPoll, "200M");

    /// <summary>The shipped config with only the executor and polling changed: its cpus, 8G/4G mem and gpus: 1 go to SLURM as they are.</summary>
    public static Sandbox Sample(double poll = 0.5, double maxPoll = 2) => Configure(Sandbox.Sample(), poll, maxPoll, null);

    /// <summary>A build whose time, exit code and output go to the test's log.</summary>
    public static ProcessResult Build(Sandbox sb, ITestOutputHelper output, params string[] args)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = sb.Build(args);
        output.WriteLine($"== build {string.Join(' ', args)}: {sw.Elapsed.TotalSeconds:0.0} s, exit {r.ExitCode}\n{r.Output}");
        return r;
    }

    public static Sandbox Configure(Sandbox s, double poll, double maxPoll, string? mem)
    {
        s.EditConfig(c =>
        {
            c = c.Replace("executor: local ", "executor: slurm ");
            c = System.Text.RegularExpressions.Regex.Replace(c, @"poll_seconds: 5\n  max_poll_seconds: [^\n]*", $"poll_seconds: {poll.ToString(System.Globalization.CultureInfo.InvariantCulture)}\n  max_poll_seconds: {maxPoll.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            if (mem is not null)
            {
                c = c.Replace("resources: { cpus: 2, mem: 4G }", "resources: { cpus: 1, mem: 4G }");
                c = System.Text.RegularExpressions.Regex.Replace(c, @"mem: \d+G", $"mem: {mem}");
                c = c.Replace("time: '00:30:00'", "time: '00:10:00'");
            }
            return c;
        });
        Assert.Contains("executor: slurm", File.ReadAllText(s.Config));
        Assert.Contains("gpus: 1", File.ReadAllText(s.Config));
        return s;
    }
}
