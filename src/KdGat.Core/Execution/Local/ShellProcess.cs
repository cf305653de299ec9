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
        var (pid, waiting, journalled) = await StartAsync(script, stdoutPath, stderrPath, env, time ?? TimeProvider.System, cancel).ConfigureAwait(false);
        try
        {
            onStarted?.Invoke(pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The attempt could not be journalled: it must not run unrecorded.
            PosixSpawn.KillGroup(pid, SigKill);
            journalled.Set();
            await waiting.ConfigureAwait(false); // not disposed here: the finally below sets it once more
            throw;
        }
        finally
        {
            journalled.Set();
        }
        var cancelled = false;
        using (cancel.Register(() =>
        {
            cancelled = true;
            PosixSpawn.KillGroup(pid, SigTerm);
            _ = Time.Clock.Delay(time ?? TimeProvider.System, killGrace).ContinueWith(_ => PosixSpawn.KillGroup(pid, SigKill), TaskScheduler.Default);
        }))
        {
            var exit = await waiting.ConfigureAwait(false);
            journalled.Dispose();
            if (cancelled) PosixSpawn.KillGroup(pid, SigKill); // stragglers that ignored SIGTERM
            // A wait for the kernel to end processes, not a build wait: real time, as for orphans.
            var leftovers = stopLeftovers && !cancelled ? AttemptProcesses.StopGroup(pid) : LeftoverProcesses.None;
            return new Outcome(exit, pid, cancelled, leftovers);
        }
    }

    /// <summary>
    /// How long apart starts refused for a limit are tried again (15.5 s in all): on a shared login node
    /// the user's process count and open files fall as this build's other stages and hashing end.
    /// </summary>
    internal static readonly TimeSpan[] Backoff = [.. new[] { 0.5, 1, 2, 4, 8 }.Select(TimeSpan.FromSeconds)];

    /// <summary>
    /// Spawns the script on the thread that will wait for it, so a thread the limit refuses is refused
    /// before any process exists (a process already started, its waiting thread refused, was KDG9001 and
    /// an unwatched stage). The thread holds off wait4 until <c>journalled</c> is set: the process stays
    /// (a zombie at most) until then, so its group id cannot be reused before a kill.
    /// </summary>
    private static Task<(int Pid, Task<PosixSpawn.Exit> Waiting, ManualResetEventSlim Journalled)> StartAsync(string script, string stdoutPath, string stderrPath,
        IReadOnlyDictionary<string, string?> env, TimeProvider time, CancellationToken cancel) =>
        RetryRefusedAsync(() => TryStartAsync(script, stdoutPath, stderrPath, env), Backoff, time, cancel);

    /// <summary>Tries <paramref name="tryStart"/> until it is not refused, waiting <paramref name="backoff"/> between; then <see cref="StartRefusedException"/>.</summary>
    internal static async Task<T> RetryRefusedAsync<T>(Func<Task<(int? Refused, T Started)>> tryStart, IReadOnlyList<TimeSpan> backoff, TimeProvider time, CancellationToken cancel)
    {
        var waited = TimeSpan.Zero;
        for (var tries = 1; ; tries++)
        {
            var (refused, started) = await tryStart().ConfigureAwait(false);
            if (refused is null) return started;
            if (tries > backoff.Count) throw new StartRefusedException(refused.Value, tries, waited);
            // A Ctrl+C during the wait: nothing was started.
            await Time.Clock.Delay(time, backoff[tries - 1], cancel).ConfigureAwait(false);
            waited += backoff[tries - 1];
        }
    }

    /// <returns>The errno of a start refused for a limit (<see cref="StartRefusedException.ThreadRefused"/> for the thread), else null with the process started.</returns>
    private static async Task<(int? Refused, (int Pid, Task<PosixSpawn.Exit> Waiting, ManualResetEventSlim Journalled) Started)> TryStartAsync(string script, string stdoutPath,
        string stderrPath, IReadOnlyDictionary<string, string?> env)
    {
        var pid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var journalled = new ManualResetEventSlim(false);
        Task<PosixSpawn.Exit> waiting;
        try
        {
            waiting = Task.Factory.StartNew(() =>
            {
                int p;
                try
                {
                    p = PosixSpawn.Start(script, stdoutPath, stderrPath, env);
                }
                catch (Exception e)
                {
                    pid.SetException(e);
                    return default;
                }
                pid.SetResult(p);
                journalled.Wait();
                return PosixSpawn.Wait(p);
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch (Exception e) when (e is OutOfMemoryException || e.InnerException is OutOfMemoryException)
        {
            journalled.Dispose();
            return (StartRefusedException.ThreadRefused, default);
        }
        try
        {
            return (null, (await pid.Task.ConfigureAwait(false), waiting, journalled));
        }
        catch (PosixSpawn.SpawnRefused e)
        {
            journalled.Dispose();
            return (e.Errno, default);
        }
    }
}
