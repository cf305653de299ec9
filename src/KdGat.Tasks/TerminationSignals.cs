using System.Runtime.InteropServices;

namespace KdGat.Tasks;

/// <summary>
/// SIGTERM (a login node's CPU-time killer, SLURM, `kill`) and SIGHUP (a closed terminal) stop a
/// KdGat build as Ctrl+C does. Left to `dotnet msbuild`, SIGTERM ended the process at once with exit
/// code 0 (read as success by scripts and CI: `dotnet msbuild ... &amp;&amp; publish` went on), nothing
/// printed, and the stages still running. From the first KdGat task of a build on, for the rest of
/// the process: while a cancelable task runs, the handler cancels it, waits until it has stopped its
/// stages and reported, and ends the process with 128 + the signal, as a shell reports a signal's
/// death; between KdGat's tasks (MSBuild's own targets, the plan's second evaluation, after the build
/// task) it ends the process the same way at once (a crash-injection review found exit code 0 there).
/// Before any KdGat task has run (MSBuild's evaluation, the tool bootstrap) no KdGat code is loaded.
/// </summary>
internal sealed class TerminationSignals : IDisposable
{
    private static IDisposable[]? s_registrations; // kept: a collected registration unregisters itself
    private static TerminationSignals? s_running;
    private static int s_stopping;

    private readonly Action? _cancel;
    private readonly string _task;
    private readonly ManualResetEventSlim _taskEnded = new();
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(60);

    private TerminationSignals(Action? cancel, string task) => (_cancel, _task) = (cancel, task);

    /// <summary>Handles the two signals for the rest of this process (once; the first KdGat task of a build calls it).</summary>
    public static void Install()
    {
        if (OperatingSystem.IsWindows() || Volatile.Read(ref s_registrations) is not null) return;
        IDisposable[] registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Stop(c, 15)),
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => Stop(c, 1)),
        ];
        if (Interlocked.CompareExchange(ref s_registrations, registrations, null) is not null)
            foreach (var r in registrations) r.Dispose();
        else AppDomain.CurrentDomain.UnhandledException += (_, _) => Crashing();
    }

    /// <summary>
    /// The process is dying of an exception no one caught, most often MSBuild's terminal logger (-tl:on)
    /// writing to a terminal that hung up (an ssh drop: EIO), before the SIGHUP reached the handler
    /// above: the process aborted with the stages still running, orphaned and writing into the run dirs
    /// (a review). The running task is cancelled as for SIGHUP (local stages stopped, SLURM jobs left to
    /// be re-attached) and waited for; the runtime then ends the process, and the next build recovers
    /// what is left (KDG2003).
    /// </summary>
    private static void Crashing()
    {
        if (Interlocked.Exchange(ref s_stopping, 1) == 1 || Volatile.Read(ref s_running) is not { _cancel: { } cancel } running) return;
        Core.Execution.HangUp.Note();
        cancel();
        running._taskEnded.Wait(Grace);
    }

    /// <summary>
    /// While the result is not disposed, a signal cancels this task and waits for it first; a task
    /// that cannot be cancelled (null: Clean, CacheGc, tracking) is named as cut short where it was.
    /// </summary>
    public static TerminationSignals During(Action? cancel, string task)
    {
        Install();
        var running = new TerminationSignals(cancel, task);
        Volatile.Write(ref s_running, running);
        return running;
    }

    private static void Stop(PosixSignalContext context, int number)
    {
        context.Cancel = true;
        // SIGTERM then SIGHUP (a killer, then the closed terminal): the first signal's handler ends the process.
        if (Interlocked.Exchange(ref s_stopping, 1) == 1) return;
        var exit = 128 + number;
        string said;
        if (Volatile.Read(ref s_running) is not { } running)
            said = $"stopped by {context.Signal} (exit code {exit}) while no stage was running; what this build had finished is kept, nothing else changed. Build again to go on.";
        else if (running._cancel is null)
            said = $"stopped by {context.Signal} (exit code {exit}) during {running._task}, which was cut short where it was (no stage was running); run the same command again to finish it.";
        else
        {
            if (number == 1) Core.Execution.HangUp.Note(); // before the cancel: the SLURM executor then leaves its jobs
            running._cancel();
            var stopped = running._taskEnded.Wait(Grace);
            said = $"stopped by {context.Signal} (exit code {exit}){(stopped ? "" : $"; {running._task} had not finished stopping after {Grace.TotalSeconds:0} s")}; the lines above say which stages it stopped (they rerun in the next build) and which SLURM jobs, if any, were left running (the next build re-attaches).";
        }
        try { Console.Error.WriteLine("error KDG3004: KdGat: " + said); }
        catch (IOException) { } // the terminal that hung up: the exit code still says it
        Environment.Exit(exit);
    }

    /// <summary>The task has ended: a signal from now on ends the process without waiting for it.</summary>
    public void Dispose()
    {
        _taskEnded.Set();
        Interlocked.CompareExchange(ref s_running, null, this);
    }
}
