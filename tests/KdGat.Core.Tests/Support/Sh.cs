using System.Diagnostics;

namespace KdGat.Core.Tests.Support;

/// <summary>Runs /bin/sh -c for tests that need a real shell or a helper process.</summary>
public static class Sh
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(string script, string workingDir, IReadOnlyDictionary<string, string>? env = null, int timeoutMs = 30_000)
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = workingDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        if (env is not null)
            foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"sh -c timed out: {script}");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The live (not zombie) processes of a process group, e.g. what a stage's shell left behind.</summary>
    public static int[] LiveInGroup(int pgid) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && Group(pid) == pgid && IsRunning(pid)).ToArray();

    private static int Group(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return 0; }
    }

    /// <summary>True while the process exists and is not a zombie.</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Field 3 (after the ")" that closes the command name) is the state.
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state != 'Z' && state != 'X';
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
