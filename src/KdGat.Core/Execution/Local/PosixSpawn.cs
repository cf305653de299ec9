using System.Runtime.InteropServices;

namespace KdGat.Core.Execution.Local;

/// <summary>
/// posix_spawn + wait4 for /bin/sh -c, in a new process group. Unlike System.Diagnostics.Process,
/// wait4 gives the child's (and its reaped descendants') CPU time and peak RSS, and the process
/// group lets cancellation kill the whole tree (sh and the python under it).
/// </summary>
internal static unsafe partial class PosixSpawn
{
    private const short SetPgroup = 0x02, SetSigDef = 0x04, SetSigMask = 0x08;
    private const int ORdOnly = 0, OWrOnly = 1, OCreat = 0x40, OTrunc = 0x200;

    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_init(byte* fa);
    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_destroy(byte* fa);
    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_addopen(byte* fa, int fd, byte* path, int oflag, uint mode);
    [LibraryImport("libc")] private static partial int posix_spawnattr_init(byte* attr);
    [LibraryImport("libc")] private static partial int posix_spawnattr_destroy(byte* attr);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setflags(byte* attr, short flags);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setpgroup(byte* attr, int pgroup);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setsigdefault(byte* attr, byte* sigset);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setsigmask(byte* attr, byte* sigset);
    [LibraryImport("libc")] private static partial int sigfillset(byte* set);
    [LibraryImport("libc")] private static partial int sigemptyset(byte* set);
    [LibraryImport("libc")] private static partial int posix_spawn(int* pid, byte* path, byte* fa, byte* attr, byte** argv, byte** envp);
    [LibraryImport("libc", SetLastError = true)] private static partial int wait4(int pid, int* status, int options, byte* rusage);
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)] private static partial int Kill(int pid, int sig);

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>Starts /bin/sh -c <paramref name="script"/>; returns the pid (also the process group id).</summary>
    public static int Start(string script, string stdoutPath, string stderrPath, IReadOnlyDictionary<string, string?> env)
    {
        // glibc's opaque structs are far smaller than these buffers; oversizing keeps us layout-agnostic.
        byte* fa = stackalloc byte[512];
        byte* attr = stackalloc byte[1024];
        byte* sigs = stackalloc byte[256];
        var allocations = new List<nint>();
        byte* Str(string s)
        {
            var p = Marshal.StringToCoTaskMemUTF8(s);
            allocations.Add(p);
            return (byte*)p;
        }
        try
        {
            Check(posix_spawn_file_actions_init(fa), "file actions");
            Check(posix_spawnattr_init(attr), "attributes");
            Check(posix_spawn_file_actions_addopen(fa, 0, Str("/dev/null"), ORdOnly, 0), "stdin");
            // 0666 less the umask, as any new file: 0644 kept a group that shares the project (umask 002) from replacing a member's log.
            Check(posix_spawn_file_actions_addopen(fa, 1, Str(stdoutPath), OWrOnly | OCreat | OTrunc, 438), "stdout");
            Check(posix_spawn_file_actions_addopen(fa, 2, Str(stderrPath), OWrOnly | OCreat | OTrunc, 438), "stderr");
            // The runtime ignores SIGPIPE and blocks some signals; the stage must start with defaults.
            sigfillset(sigs);
            Check(posix_spawnattr_setsigdefault(attr, sigs), "signal defaults");
            sigemptyset(sigs);
            Check(posix_spawnattr_setsigmask(attr, sigs), "signal mask");
            Check(posix_spawnattr_setpgroup(attr, 0), "process group");
            Check(posix_spawnattr_setflags(attr, (short)(SetPgroup | SetSigDef | SetSigMask)), "flags");

            var argv = stackalloc byte*[4] { Str("/bin/sh"), Str("-c"), Str(script), null };
            var merged = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
                merged[(string)e.Key] = (string?)e.Value;
            foreach (var (k, v) in env) merged[k] = v;
            var live = merged.Where(kv => kv.Value is not null).ToArray();
            var envp = (byte**)Marshal.AllocHGlobal(sizeof(byte*) * (live.Length + 1));
            allocations.Add((nint)envp);
            for (var i = 0; i < live.Length; i++) envp[i] = Str($"{live[i].Key}={live[i].Value}");
            envp[live.Length] = null;

            int pid;
            var rc = posix_spawn(&pid, argv[0], fa, attr, argv, envp);
            if (rc != 0 && StartRefusedException.IsLimit(rc)) throw new SpawnRefused(rc);
            if (rc != 0) throw new IOException($"posix_spawn failed: {new System.ComponentModel.Win32Exception(rc).Message}");
            return pid;
        }
        finally
        {
            posix_spawn_file_actions_destroy(fa);
            posix_spawnattr_destroy(attr);
            foreach (var p in allocations)
                if (p != 0) Marshal.FreeCoTaskMem(p);
        }
    }

    /// <summary>posix_spawn refused for a limit (<see cref="StartRefusedException.IsLimit"/>): <see cref="ShellProcess"/> retries it.</summary>
    public sealed class SpawnRefused(int errno) : IOException($"posix_spawn failed: errno {errno}")
    {
        public int Errno { get; } = errno;
    }

    public readonly record struct Exit(int ExitCode, int Signal, double CpuSeconds, long MaxRssKb);

    /// <summary>Blocks until the child ends; call on a dedicated thread.</summary>
    public static Exit Wait(int pid)
    {
        byte* ru = stackalloc byte[256];
        int status;
        while (true)
        {
            var r = wait4(pid, &status, 0, ru);
            if (r == pid) break;
            if (Marshal.GetLastPInvokeError() != 4 /* EINTR */) throw new IOException($"wait4({pid}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
        long* l = (long*)ru;
        var cpu = l[0] + l[1] / 1e6 + l[2] + l[3] / 1e6; // ru_utime + ru_stime
        var maxRss = l[4];
        var signal = status & 0x7f;
        var exit = signal == 0 ? (status >> 8) & 0xff : 128 + signal;
        return new Exit(exit, signal, cpu, maxRss);
    }

    /// <summary>Signals the whole process group.</summary>
    public static void KillGroup(int pgid, int signal) => Kill(-pgid, signal);

    public static void KillProcess(int pid, int signal) => Kill(pid, signal);

    /// <summary>Whether any process (a zombie too) is still in the group: kill(2) with signal 0 only checks (EPERM: only processes we may not signal, e.g. setuid ones).</summary>
    public static bool GroupExists(int pgid) => Kill(-pgid, 0) == 0 || Marshal.GetLastPInvokeError() == 1 /* EPERM */;

    private static void Check(int rc, string what)
    {
        if (rc != 0) throw new IOException($"posix_spawn setup ({what}) failed: error {rc}");
    }
}
