using System.Runtime.InteropServices;

namespace KdGat.Tasks;

/// <summary>
/// SIGTERM (a login node's CPU-time killer, SLURM, `kill`) and SIGHUP (a closed terminal) stop a
/// KdGat task as Ctrl+C does. Left to `dotnet msbuild`, SIGTERM ended the process at once with exit
/// code 0 (read as success by scripts and CI), nothing printed, and the stages still running. While
/// a task runs, the handler cancels it, waits until it has stopped its stages and reported, and
/// ends the process with 128 + the signal, as a shell reports a signal's death.
/// </summary>
internal sealed class TerminationSignals : IDisposable
{
    private readonly IDisposable[] _registrations;
    private readonly ManualResetEventSlim _taskEnded = new();
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(60);

    private TerminationSignals(Action cancel, string task)
    {
        _registrations = OperatingSystem.IsWindows() ? [] :
        [
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Stop(c, cancel, task, 15)),
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => Stop(c, cancel, task, 1)),
        ];
    }

    public static TerminationSignals CancelWith(Action cancel, string task) => new(cancel, task);

    private void Stop(PosixSignalContext context, Action cancel, string task, int number)
    {
        context.Cancel = true;
        cancel();
        var stopped = _taskEnded.Wait(Grace);
        Console.Error.WriteLine($"error KDG3004: KdGat: stopped by {context.Signal} (exit code {128 + number}){(stopped ? "" : $"; {task} had not finished stopping after {Grace.TotalSeconds:0} s")}; the lines above say which stages it stopped (they rerun in the next build) and which SLURM jobs, if any, were left running (the next build re-attaches).");
        Environment.Exit(128 + number);
    }

    /// <summary>The task has ended: a signal from now on gets the default handling.</summary>
    public void Dispose()
    {
        _taskEnded.Set();
        foreach (var r in _registrations) r.Dispose();
    }
}
