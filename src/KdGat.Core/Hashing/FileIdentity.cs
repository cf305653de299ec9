using System.Runtime.InteropServices;

namespace KdGat.Core.Hashing;

/// <summary>
/// What the hash cache keys on: size, mtime, ctime, inode and device of one file. It only ever
/// answers "is this the very same file version as last time?"; a differing identity means "hash
/// again", never "changed". Times only ever make the cache distrust a row (HashCache: a file
/// that changed during the build is not saved), never trust one.
/// </summary>
internal readonly record struct FileIdentity(long Size, long MtimeNs, long CtimeNs, ulong Inode, ulong Device)
{
    public static FileIdentity? Of(string path)
    {
        var id = Read(path);
        NoOp.FileObservations.SawIdentity(path, id);
        return id;
    }

    private static FileIdentity? Read(string path)
    {
        if (OperatingSystem.IsLinux() && Statx.TryGet(path, out var id)) return id;
        var info = new FileInfo(path);
        if (!info.Exists) return null;
        // Without statx there is no inode or ctime: such an identity vouches for nothing (IsCheckedRegularFile).
        return new FileIdentity(info.Length, info.LastWriteTimeUtc.Ticks * 100, 0, 0, 0);
    }

    /// <summary>
    /// A regular file's identity with its link count (statx only, else null): a hard link made or removed changes the
    /// ctime and the count together, an edit the ctime alone. Not part of the identity: the hash cache follows a file
    /// the output store linked (<see cref="HashCache.Relinked"/>).
    /// </summary>
    public static (FileIdentity Id, uint Links)? WithLinks(string path) =>
        OperatingSystem.IsLinux() && Statx.TryGet(path, out var id, out var links) ? (id, links) : null;

    /// <summary>Read by statx, which answers only for regular files; the fallback cannot tell a FIFO from a file.</summary>
    public bool IsCheckedRegularFile => Inode != 0;

    /// <summary>
    /// When this version was last changed as the file system tells it: the ctime, or the mtime where
    /// it reports none (0). What the racy rules of the hash cache and the no-op certificate compare
    /// with the file system's clock: a ctime of 0 must not make a just-written file look old.
    /// </summary>
    public long ChangedNs => CtimeNs != 0 ? CtimeNs : MtimeNs;

    public override string ToString() => $"{Size}:{MtimeNs}:{CtimeNs}:{Inode}:{Device}";
}

/// <summary>statx(2) has one layout on every Linux architecture, unlike struct stat.</summary>
internal static unsafe partial class Statx
{
    private const int AtFdcwd = -100;
    private const uint StatxBasicStats = 0x7ff;

    /// <summary>
    /// AT_STATX_FORCE_SYNC: on NFS (and other network file systems) the answer comes from the server,
    /// not the client's attribute cache, which may hold a file's size and times for up to a minute
    /// (acregmax) after another host changed it: a config edited on one login node and built on another
    /// would have kept its old identity, and the hash cache and a no-op certificate would have vouched
    /// for the old bytes. Local file systems ignore it.
    /// </summary>
    private const int AtStatxForceSync = 0x2000;

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Native(int dirfd, string path, int flags, uint mask, byte* buffer);

    private static volatile bool _unavailable;

    /// <summary>
    /// Whether this process found statx refused (EPERM: a seccomp filter that does not know it) or
    /// missing (ENOSYS, where the C library does not emulate it with fstatat on a kernel before 4.11
    /// as glibc does; a libc without the function). Files then have no identity
    /// that vouches for them: the hash cache and no-op certificates are not used, and every file is
    /// hashed in every build (KDG1019 says so).
    /// </summary>
    public static bool Unavailable => _unavailable;

    /// <summary>Whether a failed call's errno says statx itself is missing (ENOSYS) or refused for every path (EPERM: a seccomp filter; a file's own permissions give EACCES).</summary>
    private static bool CallUnavailable() => System.Runtime.InteropServices.Marshal.GetLastPInvokeError() is 38 or 1 && (_unavailable = true);

    public static bool TryGet(string path, out FileIdentity identity) => TryGet(path, out identity, out _);

    public static bool TryGet(string path, out FileIdentity identity, out uint links)
    {
        identity = default;
        links = 0;
        if (_unavailable) return false;
        byte* buf = stackalloc byte[256];
        int rc;
        try { rc = Native(AtFdcwd, path, AtStatxForceSync, StatxBasicStats, buf); }
        catch (EntryPointNotFoundException) { _unavailable = true; return false; }
        catch (DllNotFoundException) { _unavailable = true; return false; }
        if (rc != 0) { CallUnavailable(); return false; }
        var mode = *(ushort*)(buf + 28);
        if ((mode & 0xF000) != 0x8000) return false; // not a regular file
        links = *(uint*)(buf + 16);
        ulong ino = *(ulong*)(buf + 32);
        long size = *(long*)(buf + 40);
        long ctime = *(long*)(buf + 96) * 1_000_000_000L + *(uint*)(buf + 104);
        long mtime = *(long*)(buf + 112) * 1_000_000_000L + *(uint*)(buf + 120);
        ulong dev = ((ulong)*(uint*)(buf + 136) << 32) | *(uint*)(buf + 140);
        identity = new FileIdentity(size, mtime, ctime, ino, dev);
        return true;
    }

    /// <summary>The owner and permission bits of any path (a folder too), without following a last symbolic link; false where statx cannot tell.</summary>
    public static bool TryOwner(string path, out uint uid, out int mode)
    {
        (uid, mode) = (0, 0);
        if (_unavailable) return false;
        byte* buf = stackalloc byte[256];
        try { if (Native(AtFdcwd, path, AtSymlinkNoFollow, StatxBasicStats, buf) != 0) return false; }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { return false; }
        uid = *(uint*)(buf + 20);
        mode = *(ushort*)(buf + 28) & 0xFFF;
        return true;
    }

    private const int AtSymlinkNoFollow = 0x100;
}
