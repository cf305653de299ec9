using System.Globalization;
using KdGat.Core.Diagnostics;

namespace KdGat.Core.Execution.Local;

/// <summary>
/// The kernel refused a stage's process (posix_spawn) or the thread that waits for it, for a per-user
/// limit of a login node: EAGAIN for processes and threads (`ulimit -u` counts every thread of every
/// process of the user; a cgroup's pids.max), EMFILE/ENFILE for open files (`ulimit -n`), ENOMEM for
/// memory (`ulimit -v`, a cgroup). It was a bare "posix_spawn failed" (KDG3005, "check the shell") or,
/// for the thread, KDG9001 with a stack trace. The message names the limit, its value and what to do.
/// </summary>
internal sealed class StartRefusedException : IOException
{
    public const int EAgain = 11, ENoMem = 12, ENFile = 23, EMFile = 24;

    /// <summary>A .NET thread that could not start (OutOfMemoryException from Thread.StartCore): pthread_create's EAGAIN.</summary>
    public const int ThreadRefused = -1;

    public StartRefusedException(int errno, int tries, TimeSpan waited)
        : this(errno, tries, waited, ProcessLimits.Read())
    {
    }

    internal StartRefusedException(int errno, int tries, TimeSpan waited, ProcessLimits limits)
        : base(Describe(errno, tries, waited, limits))
    {
        Errno = errno;
        Code = CodeOf(errno, limits);
    }

    public int Errno { get; }

    public string Code { get; }

    /// <summary>Whether posix_spawn's error is a limit (the rest stay KDG3005: no shell, a bad run dir).</summary>
    public static bool IsLimit(int errno) => errno is EAgain or ENoMem or ENFile or EMFile;

    /// <summary>A refused thread says no errno: the open-file limit when this process is at it (seen under `ulimit -n`), else the process limit.</summary>
    private static int Limit(int errno, ProcessLimits limits) => errno == ThreadRefused && limits.AtFileLimit ? EMFile : errno;

    private static string CodeOf(int errno, ProcessLimits limits) => Limit(errno, limits) switch
    {
        EMFile or ENFile => ErrorCodes.OpenFileLimit,
        ENoMem => ErrorCodes.MemoryLimit,
        _ => ErrorCodes.ProcessLimit,
    };

    /// <summary>What was refused, the limit and its value now, and what to do; without the stage's name (the caller adds it).</summary>
    internal static string Describe(int errno, int tries, TimeSpan waited, ProcessLimits limits)
    {
        var what = errno switch
        {
            ThreadRefused => "a thread to wait for its process could not be created",
            EMFile => "the process could not be started (EMFILE: too many open files)",
            ENFile => "the process could not be started (ENFILE: the system's open-file table is full)",
            ENoMem => "the process could not be started (ENOMEM: out of memory)",
            _ => "the process could not be started (EAGAIN: too many processes)",
        };
        var tried = tries > 1 ? $", {tries} times over {waited.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s" : "";
        var state = limits.Usage;
        var limit = Limit(errno, limits) switch
        {
            EMFile => $"The open-file limit ({limits.Text("Max open files")}, `ulimit -n`) is reached: {state}.",
            ENFile => $"The machine's open-file table is full ({state}).",
            ENoMem => $"A memory limit is reached (address space {limits.Text("Max address space")}, `ulimit -v`, or the login node's memory cap): {state}.",
            _ => $"The limit on your processes is reached ({limits.Text("Max processes")}, `ulimit -u`, which counts every thread of every process of yours on this node, or the login node's cgroup pids limit): {state}.",
        };
        return $"{what}{tried}. {limit} Lower -p:MaxParallelStages (every running stage is a process tree of yours), end other processes of yours on this node, "
               + "raise the limit in the shell you build from (up to its hard limit: `ulimit -H -a`), or build from a compute node (`srun --pty bash`) or with -p:Executor=slurm. "
               + "The stage stays stale (the previous result, if any, is kept) and runs in the next build.";
    }
}

/// <summary>
/// The soft limits of this process (getrlimit: no file to open, as at the open-file limit) and its threads and
/// open files from /proc/self (-1 where it could not be read), for the messages about a limit.
/// </summary>
internal sealed partial record ProcessLimits(IReadOnlyDictionary<string, string> Soft, int Threads, int OpenFiles)
{
    private const int RlimitNproc = 6, RlimitNofile = 7, RlimitAs = 9;

    [System.Runtime.InteropServices.LibraryImport("libc")]
    private static unsafe partial int getrlimit(int resource, ulong* limit);

    public static ProcessLimits Read()
    {
        var soft = new Dictionary<string, string>(StringComparer.Ordinal);
        if (OperatingSystem.IsLinux())
            foreach (var (name, resource) in new[] { ("Max processes", RlimitNproc), ("Max open files", RlimitNofile), ("Max address space", RlimitAs) })
                if (SoftLimit(resource) is { } v) soft[name] = v == ulong.MaxValue ? "unlimited" : v.ToString(CultureInfo.InvariantCulture);
        return new ProcessLimits(soft, Count("/proc/self/task"), Count("/proc/self/fd"));
    }

    private static unsafe ulong? SoftLimit(int resource)
    {
        var pair = stackalloc ulong[2];
        return getrlimit(resource, pair) == 0 ? pair[0] : null;
    }

    private static int Count(string dir)
    {
        // Best effort: at the open-file limit the listing itself needs a file.
        try
        {
            return Directory.EnumerateFileSystemEntries(dir).Count();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    /// <summary>Whether this process's open files are within a few of its soft limit (or could not even be counted).</summary>
    public bool AtFileLimit => Soft.TryGetValue("Max open files", out var v) && int.TryParse(v, CultureInfo.InvariantCulture, out var max) && (OpenFiles < 0 || OpenFiles >= max - 8);

    /// <summary>What this process holds, as far as /proc told.</summary>
    public string Usage => (Threads, OpenFiles) switch
    {
        ( >= 0, >= 0) => $"this build's process has {Threads} threads and {OpenFiles} open files",
        ( >= 0, _) => $"this build's process has {Threads} threads (its open files could not be counted: it is at their limit)",
        _ => "this build's process could not list its threads and files",
    };

    /// <summary>The soft limit as the message says it, or "unknown".</summary>
    public string Text(string row) => Soft.TryGetValue(row, out var v) ? (v == "unlimited" ? "unlimited" : $"now {v}") : "unknown";
}
