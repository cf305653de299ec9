using KdGat.Core.Pipeline;

namespace KdGat.Core.Execution.Local;

/// <summary>
/// Runs a shell script in a directory as its own process group and waits for it without holding a
/// thread-pool thread. Cancellation sends SIGTERM to the group, then SIGKILL after a grace period.
/// With <c>stopLeftovers</c>, what the script left running in its group when it exited is killed
/// (as SLURM does at a job's end) and <see cref="Outcome.Leftovers"/> says so.
/// </summary>
internal static class ShellProcess
{
    private const int SigTerm = 15, SigKill = 9;

    public sealed record Outcome(PosixSpawn.Exit Exit, int Pid, bool Cancelled, LeftoverProcesses Leftovers = LeftoverProcesses.None);

    public static async Task<Outcome> RunAsync(string workingDir, string command, string stdoutPath, string stderrPath,
        IReadOnlyDictionary<string, string?> env, TimeSpan killGrace, Action<int>? onStarted, CancellationToken cancel, TimeProvider? time = null,
        bool stopLeftovers = true)
    {
        var script = $"cd -- {CommandTemplate.Quote(workingDir)} || exit 125\n{command}";
        var pid = PosixSpawn.Start(script, stdoutPath, stderrPath, env);
        try
        {
            onStarted?.Invoke(pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The attempt could not be journalled: it must not run unrecorded.
            PosixSpawn.KillGroup(pid, SigKill);
            PosixSpawn.Wait(pid);
            throw;
        }
        var cancelled = false;
        using (cancel.Register(() =>
        {
            cancelled = true;
            PosixSpawn.KillGroup(pid, SigTerm);
            _ = Time.Clock.Delay(time ?? TimeProvider.System, killGrace).ContinueWith(_ => PosixSpawn.KillGroup(pid, SigKill), TaskScheduler.Default);
        }))
        {
            var exit = await Task.Factory.StartNew(() => PosixSpawn.Wait(pid), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            if (cancelled) PosixSpawn.KillGroup(pid, SigKill); // stragglers that ignored SIGTERM
            // A wait for the kernel to end processes, not a build wait: real time, as for orphans.
            var leftovers = stopLeftovers && !cancelled ? AttemptProcesses.StopGroup(pid) : LeftoverProcesses.None;
            return new Outcome(exit, pid, cancelled, leftovers);
        }
    }
}
