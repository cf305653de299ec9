using System.Diagnostics;
using KdGat.Core.Tracking;

namespace KdGat.Core.Tests.Tracking;

/// <summary>Status's test of whether a journalled attempt's build still runs.</summary>
[Trait("Category", "Unit")]
public sealed class BuildIsAliveTests
{
    [Fact]
    public void ARunningProcessIsAlive_AnEndedOneAndAZombieAreNot()
    {
        Assert.True(Tracker.BuildIsAlive(Environment.MachineName, Environment.ProcessId));
        Assert.True(Tracker.BuildIsAlive("another-host", int.MaxValue - 1)); // not ours to look at

        // A zombie: `sleep 0`'s parent execs into a sleep that never reaps it (a killed build whose parent has not waited for it yet).
        // Under load the shell may reap its child before the exec (it failed once beside a CI run): then another try.
        for (var attempt = 1; ; attempt++)
        {
            using var parent = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "sleep 0 & echo $!; exec sleep 30"]) { RedirectStandardOutput = true })!;
            try
            {
                var zombie = int.Parse(parent.StandardOutput.ReadLine()!);
                static string? Stat(int pid) { try { return File.ReadAllText($"/proc/{pid}/stat"); } catch (IOException) { return null; } }
                SpinWait.SpinUntil(() => Stat(zombie) is not { } st || st.Contains(") Z ", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
                var stat = Stat(zombie);
                if (stat is null || !stat.Contains(") Z ", StringComparison.Ordinal))
                {
                    Assert.True(attempt < 5, $"no zombie in {attempt} tries: {stat ?? "the child was reaped"}");
                    continue;
                }
                Assert.True(Directory.Exists($"/proc/{zombie}")); // what Status looked at before
                Assert.False(Tracker.BuildIsAlive(Environment.MachineName, zombie));
            }
            finally { parent.Kill(); parent.WaitForExit(); }
            Assert.False(Tracker.BuildIsAlive(Environment.MachineName, parent.Id));
            break;
        }
    }

    /// <summary>A pid taken by another process since: its start differs from the one the journal recorded.</summary>
    [Fact]
    public void AProcessWithTheBuildsPidThatStartedAnotherTime_IsNotTheBuild()
    {
        var started = KdGat.Core.Execution.Local.AttemptProcesses.StartTicksOf(Environment.ProcessId);
        Assert.NotNull(started);

        Assert.True(Tracker.BuildIsAlive(Environment.MachineName, Environment.ProcessId, started));
        Assert.False(Tracker.BuildIsAlive(Environment.MachineName, Environment.ProcessId, started - 1));
        Assert.True(Tracker.BuildIsAlive(Environment.MachineName, Environment.ProcessId, null)); // an older KdGat's journal
    }
}
