using System.Diagnostics;
using System.Text;

namespace KdGat.Testing;

public sealed record ProcessResult(int ExitCode, string Output)
{
    public override string ToString() => $"exit {ExitCode}\n{Output}";
}

public static class ProcessRunner
{
    public static ProcessResult Run(string file, IEnumerable<string> args, string workingDir, TimeSpan? timeout = null, IDictionary<string, string>? env = null)
    {
        using var p = Start(file, args, workingDir, env, out var output);
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in time.\n{output}");
        }
        p.WaitForExit();
        lock (output) return new ProcessResult(p.ExitCode, output.ToString());
    }

    public static Process Start(string file, IEnumerable<string> args, string workingDir, IDictionary<string, string>? env, out StringBuilder output)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Keep MSBuild from leaving worker nodes around between test builds.
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        var sb = new StringBuilder();
        output = sb;
        var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (sb) sb.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (sb) sb.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }
}
