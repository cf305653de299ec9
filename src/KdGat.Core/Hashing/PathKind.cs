namespace KdGat.Core.Hashing;

/// <summary>What a path is, following symlinks: only regular files and directories are content KdGat reads.</summary>
internal enum PathKind { Missing, File, Directory, Other }

/// <summary>
/// The type and identity of a path, following symlinks. Asked before any open: opening a FIFO
/// blocks until a writer comes and /dev/zero never ends, so neither may be read as content.
/// </summary>
internal readonly record struct PathStat(PathKind Kind, ulong Device, ulong Inode, string TypeName)
{
    /// <summary>A regular file's identity from the same statx call (null without statx): what the hash cache keys on.</summary>
    public FileIdentity? Identity { get; init; }

    /// <summary>A regular file with any execute bit (u, g or o): a script run as ./run.sh works or not by it, so digests say it.</summary>
    public bool Executable { get; init; }

    public static PathStat Of(string path)
    {
        var stat = Statx.TryStat(path, out var s) ? s : Fallback(path);
        NoOp.FileObservations.SawStat(path, stat);
        return stat;
    }

    /// <summary>
    /// What a path KdGat is told to write a file at is, when that cannot be a file: "a directory"
    /// for one without a file name ("/"), else its type when it is a FIFO, device or socket (a write
    /// would replace it, or SQLite would wait on it); null otherwise.
    /// </summary>
    public static string? NotAFileToWrite(string fullPath) =>
        Path.GetFileName(fullPath).Length == 0 ? "a directory"
        : Of(fullPath) is { Kind: PathKind.Other } other ? "a " + other.TypeName
        : null;

    /// <summary>Without statx (not Linux) FIFOs and devices cannot be told from files.</summary>
    private static PathStat Fallback(string path) =>
        File.Exists(path) ? new(PathKind.File, 0, 0, "file") { Executable = IsExecutable(path) }
        : Directory.Exists(path) ? new(PathKind.Directory, 0, 0, "directory")
        : new(PathKind.Missing, 0, 0, "missing");

    private const UnixFileMode AnyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private static bool IsExecutable(string path)
    {
        if (OperatingSystem.IsWindows()) return false;
        try { return (File.GetUnixFileMode(path) & AnyExecute) != 0; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}

internal static unsafe partial class Statx
{
    /// <summary>
    /// A directory's inode; null when it is no directory or statx is unavailable. With the path it was seen at, what tells
    /// a journal that came with a copy of a tree from one of the tree itself (OutputGuard, RawData).
    /// </summary>
    public static ulong? DirectoryInode(string path) => TryStat(path, out var st) && st.Kind == PathKind.Directory && st.Inode != 0 ? st.Inode : null;

    /// <summary>stat(2) of a path, following symlinks; false when statx is unavailable (then the caller falls back).</summary>
    public static bool TryStat(string path, out PathStat stat)
    {
        stat = default;
        if (_unavailable || !OperatingSystem.IsLinux()) return false;
        byte* buf = stackalloc byte[256];
        int rc;
        try { rc = Native(AtFdcwd, path, AtStatxForceSync, StatxBasicStats, buf); }
        catch (EntryPointNotFoundException) { _unavailable = true; return false; }
        catch (DllNotFoundException) { _unavailable = true; return false; }
        if (rc != 0)
        {
            if (CallUnavailable()) return false;
            // ENAMETOOLONG: an error, not "missing" (a file too deep in a declared directory was skipped).
            if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == 36) throw TooLong(path);
            // ENOENT (also a dangling symlink), ENOTDIR, ELOOP: nothing to read there. Anything else
            // (EACCES, EIO): let the caller's own open report it.
            if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() is not (2 or 20 or 40)) return false;
            stat = new PathStat(PathKind.Missing, 0, 0, "missing");
            return true;
        }
        var fullMode = *(ushort*)(buf + 28);
        var mode = fullMode & 0xF000;
        ulong ino = *(ulong*)(buf + 32);
        ulong dev = ((ulong)*(uint*)(buf + 136) << 32) | *(uint*)(buf + 140);
        var (kind, name) = mode switch
        {
            0x8000 => (PathKind.File, "file"),
            0x4000 => (PathKind.Directory, "directory"),
            0x1000 => (PathKind.Other, "FIFO (named pipe)"),
            0x2000 => (PathKind.Other, "character device"),
            0x6000 => (PathKind.Other, "block device"),
            0xC000 => (PathKind.Other, "socket"),
            _ => (PathKind.Other, "special file"),
        };
        stat = new PathStat(kind, dev, ino, name);
        if (kind == PathKind.File)
            stat = stat with
            {
                Executable = (fullMode & 0x49) != 0, // 0111: any execute bit
                Identity = new FileIdentity(*(long*)(buf + 40), *(long*)(buf + 112) * 1_000_000_000L + *(uint*)(buf + 120),
                    *(long*)(buf + 96) * 1_000_000_000L + *(uint*)(buf + 104), ino, dev),
            };
        return true;
    }

    /// <summary>ENAMETOOLONG: the path, or one of its names, is longer than the system allows; it was taken for missing (and skipped inside a directory).</summary>
    private static Diagnostics.KdgException TooLong(string path) =>
        new(Diagnostics.ErrorCodes.UnusablePathName,
            $"'{path}' is longer than the system allows for a path ({path.Length} characters; Linux allows 4,095 bytes, 255 per name), so KdGat cannot look at it. Rename or move it (shorter names, fewer directory levels), or declare a shorter path.", path);
}
