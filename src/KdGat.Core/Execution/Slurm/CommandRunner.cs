using System.Diagnostics;

namespace KdGat.Core.Execution.Slurm;

internal sealed record CommandOutput(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>What went wrong, on one line (several lines of sbatch output joined with " | ").</summary>
    public string Text => string.Join(" | ", (Stderr.Trim().Length > 0 ? Stderr : Stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}

/// <summary>Runs the SLURM client commands. Tests substitute a scripted runner to exercise retries and parsing.</summary>
internal interface ICommandRunner
{
    Task<CommandOutput> RunAsync(string file, IReadOnlyList<string> args, string? workingDir, CancellationToken cancel);
}

/// <summary>
/// Plain child processes, no shell: arguments are never parsed by anything but the program. Each
/// runs in a session of its own (util-linux <c>setsid</c>, when installed), outside the terminal's
/// process group: a terminal's Ctrl+C (SIGINT to the foreground group) or a killer's signal to the
/// build's group reaches MSBuild, which cancels KdGat, and not an sbatch half-way through a
/// submission (a killed sbatch says nothing about whether the controller took the job).
/// </summary>
internal sealed class ProcessCommandRunner(TimeSpan? timeout = null) : ICommandRunner
{
    /// <summary>setsid on PATH, or null: then the calls run in the build's process group (the client still looks a job up by its comment after a failed sbatch).</summary>
    public static readonly string? Setsid = Usable(FindOnPath("setsid"));

    /// <summary>A client call that takes longer is ended and counts as a passing failure (sbatch blocks while the controller is at its job limit).</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(2);
    private readonly TimeSpan _timeout = timeout ?? DefaultTimeout;

    public async Task<CommandOutput> RunAsync(string file, IReadOnlyList<string> args, string? workingDir, CancellationToken cancel)
    {
        var psi = new ProcessStartInfo(Setsid ?? file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDir ?? Environment.CurrentDirectory,
        };
        // -w: should setsid have to fork (it does when it leads a process group), it still waits and passes on the exit code.
        // Not leading one (a child of this process), it execs the program in place: same pid, so the timeout's kill reaches it.
        if (Setsid is not null) { psi.ArgumentList.Add("-w"); psi.ArgumentList.Add(file); }
        foreach (var a in args) psi.ArgumentList.Add(a);
        // sbatch hands its environment to the job (--export=ALL): a build that itself runs in a
        // requeued job would make every job script think it was requeued (JobScript clears outputs then).
        psi.Environment.Remove("SLURM_RESTART_COUNT");
        // sacct's Start and End in UTC, in its standard form, whatever the user's zone and SLURM_TIME_FORMAT:
        // local times repeat an hour when daylight saving ends, and KDG3017 compares two jobs' times (a review).
        // Only sacct: sbatch hands its environment to the job.
        if (file == "sacct") { psi.Environment["TZ"] = "UTC"; psi.Environment["SLURM_TIME_FORMAT"] = "standard"; }
        using var p = new Process { StartInfo = psi };
        try { p.Start(); }
        catch (System.ComponentModel.Win32Exception e) { return NotStarted(file, e); }
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(_timeout); // a hung client call is a transient failure, not a hung build
            await p.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            if (cancel.IsCancellationRequested) throw;
            // What it printed before it was ended says why (sbatch: "Slurm temporarily unable to accept job, sleeping and retrying").
            var said = string.Join(" | ", new CommandOutput(124, await Drained(stdout).ConfigureAwait(false), await Drained(stderr).ConfigureAwait(false)).Text
                .Split(" | ").Distinct(StringComparer.Ordinal).Take(5));
            return new CommandOutput(124, "", $"{file} timed out after {Engine.StageProgress.Duration(_timeout.TotalSeconds)}{(said.Length > 0 ? ": " + said : "")}");
        }
        return new CommandOutput(p.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>
    /// A client the kernel would not start. A program that cannot run here is "not installed" (127: the callers then say so,
    /// and squeue's 127 counts as "no job of this machine's SLURM can run"). A login node's process or file limit
    /// (EAGAIN, EMFILE, ENOMEM) was 127 too: sbatch was "not found", and a squeue asked whether a journalled job still
    /// runs answered "no", so the job was submitted again beside the one still running (a login node review). Now
    /// such a call fails as any passing client error does: its exit code is not 127, and sbatch's -1 counts as "may have
    /// been taken" (looked up by its comment, then tried again).
    /// </summary>
    internal static CommandOutput NotStarted(string file, System.ComponentModel.Win32Exception e) =>
        e.NativeErrorCode is 11 or 12 or 23 or 24 // EAGAIN, ENOMEM, ENFILE, EMFILE (the rest, ENOENT, EACCES, ENOEXEC, ...: not runnable here)
            ? new CommandOutput(-1, "", $"{file} could not be started ({e.Message}: a process, open-file or memory limit of this node)")
            : new CommandOutput(127, "", $"{file}: {e.Message}");

    /// <summary>
    /// The setsid found, when it takes -w (util-linux's does; a busybox or an old one may not, and
    /// then every SLURM call would fail as "invalid option": a review): tried once with `true`.
    /// </summary>
    private static string? Usable(string? setsid)
    {
        if (setsid is null) return null;
        try
        {
            using var p = Process.Start(new ProcessStartInfo(setsid) { ArgumentList = { "-w", "true" }, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true });
            if (p is null) return null;
            if (!p.WaitForExit(5000)) { try { p.Kill(); } catch (InvalidOperationException) { } return null; }
            return p.ExitCode == 0 ? setsid : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException) { return null; }
    }

    private static string? FindOnPath(string name)
    {
        if (OperatingSystem.IsWindows()) return null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin").Append("/bin"))
        {
            var path = Path.GetFullPath(Path.Combine(dir, name)); // a relative PATH entry is not relative to a job's working dir
            try { if (File.Exists(path) && (File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0) return path; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return null;
    }

    /// <summary>A killed process's output so far; its pipe closes with it, but a grandchild may hold it open: wait 5 s at most.</summary>
    private static async Task<string> Drained(Task<string> read)
    {
        try { return await read.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false); }
        catch (Exception e) when (e is TimeoutException or IOException) { return ""; }
    }
}
