using System.Diagnostics;
using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Auditing;

/// <summary>
/// How a stage command runs under Debian's strace, and whether strace can trace here at all.
/// The traced calls are those that read a file's content or change the tree (open*, creat, exec*,
/// rename*, unlink*, rmdir, mkdir*, link*, symlink*, truncate) plus what resolving relative paths
/// needs (chdir, fchdir, and clone/fork/vfork for inheritance). stat/access/readlink are left out
/// on purpose: a stage that only looks whether a file exists does not depend on its content, and
/// tracing them multiplies the trace of a Python program by ten.
/// </summary>
internal static class Strace
{
    public const string Syscalls =
        "open,openat,openat2,creat,execve,execveat,rename,renameat,renameat2,unlink,unlinkat,rmdir,mkdir,mkdirat," +
        "link,linkat,symlink,symlinkat,truncate,chdir,fchdir,clone,clone3,fork,vfork";

    /// <summary>
    /// -f follows every child; -qq drops attach/exit chatter; -y prints the path behind each fd
    /// (a directory fd, the working directory of AT_FDCWD); -s 65535 keeps long paths whole;
    /// --seccomp-bpf stops the tracee only at the traced calls, which keeps the cost near zero for
    /// compute-bound stages.
    /// </summary>
    public static IReadOnlyList<string> Arguments(string traceFile) =>
        ["-f", "-qq", "-y", "-s", "65535", "--seccomp-bpf", "-o", traceFile, "-e", "trace=" + Syscalls];

    /// <summary>The stage's shell command, run by a shell that strace starts and follows.</summary>
    public static string Wrap(string command, string traceFile, string strace = "strace") =>
        "exec " + string.Join(' ', new[] { strace }.Concat(Arguments(traceFile)).Select(CommandTemplate.Quote))
        + " -- /bin/sh -c " + CommandTemplate.Quote(command);

    /// <summary>
    /// Throws KDG6004 when strace is not on PATH or cannot trace (ptrace forbidden by the container,
    /// kernel.yama.ptrace_scope or a seccomp profile): found now, before any stage runs, instead of
    /// as thirteen failed stages.
    /// </summary>
    public static void EnsureUsable(string strace = "strace")
    {
        var path = strace.Contains('/') ? strace : FindOnPath(strace);
        if (path is null || !File.Exists(path))
            throw new KdgException(ErrorCodes.AuditTracerUnavailable,
                "-t:Audit runs stages under strace, which is not installed. Install it (Debian/Ubuntu: `apt-get install strace`, or `bash scripts/strace/ensure-strace.sh` as root), then run the audit again.");
        var probe = Path.Combine(Path.GetTempPath(), $"kdgat-strace-probe-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        try
        {
            var psi = new ProcessStartInfo(path) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in Arguments(probe).Append("--").Append("/bin/true")) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(30_000)) { p.Kill(entireProcessTree: true); throw Unusable(path, "it did not finish tracing /bin/true within 30 s"); }
            var err = stderr.GetAwaiter().GetResult().Trim();
            if (p.ExitCode != 0) throw Unusable(path, err.Length > 0 ? err.Split('\n')[0] : $"exit code {p.ExitCode}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw Unusable(path, e.Message);
        }
        finally
        {
            try { File.Delete(probe); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static KdgException Unusable(string path, string why) => new(ErrorCodes.AuditTracerUnavailable,
        $"-t:Audit cannot trace stages with {path}: {why}. Tracing needs strace 5.3 or later and ptrace: in a container run it with --cap-add=SYS_PTRACE " +
        "(and a seccomp profile that allows ptrace), or set kernel.yama.ptrace_scope to 0 or 1; then run the audit again.");

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
}
