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

/// <summary>Plain child processes, no shell: arguments are never parsed by anything but the program.</summary>
internal sealed class ProcessCommandRunner : ICommandRunner
{
    public async Task<CommandOutput> RunAsync(string file, IReadOnlyList<string> args, string? workingDir, CancellationToken cancel)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDir ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = new Process { StartInfo = psi };
        try { p.Start(); }
        catch (System.ComponentModel.Win32Exception e) { return new CommandOutput(127, "", $"{file}: {e.Message}"); }
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(TimeSpan.FromMinutes(2)); // a hung client call is a transient failure, not a hung build
            await p.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            if (cancel.IsCancellationRequested) throw;
            return new CommandOutput(124, "", $"{file} timed out after 2 minutes");
        }
        return new CommandOutput(p.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }
}
