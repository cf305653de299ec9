using System.Runtime.InteropServices;

namespace KdGat.Core.Tracking;

/// <summary>
/// Which kind of file system a path lives on, from statfs(2)'s f_type. SQLite's locking (and WAL's
/// shared memory above all) is unreliable on network file systems: that is where the "disk I/O
/// error" and "database is locked" crashes came from. So the index is only ever put on a local one.
/// </summary>
internal static class FileSystemKind
{
    // Magic numbers from linux/magic.h and the file systems' own headers.
    private static readonly Dictionary<long, string> Network = new()
    {
        [0x6969] = "nfs",
        [0x517B] = "smb",
        [0xFF534D42] = "cifs",
        [0xFE534D42] = "smb2",
        [0x0BD00BD0] = "lustre",
        [0x47504653] = "gpfs",
        [0x00C36400] = "ceph",
        [0x19830326] = "beegfs",
        [0x65735546] = "fuse", // sshfs and most user-space network mounts
        [0x5346414F] = "afs",
        [0x6B414653] = "afs",
        [0x01021997] = "9p",
        [0xAAD7AAEA] = "panfs",
        [0x013111A8] = "ibrix",
    };

    /// <summary>The f_type of the file system holding <paramref name="path"/> (or its nearest existing parent); null when unknown.</summary>
    public static long? TypeOf(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        var p = Path.GetFullPath(path);
        while (!Directory.Exists(p) && !File.Exists(p))
        {
            var parent = Path.GetDirectoryName(p);
            if (parent is null || parent == p) return null;
            p = parent;
        }
        return StatfsType(p);
    }

    /// <summary>"nfs", "lustre", ... for a network file system, else null.</summary>
    public static string? NetworkName(long? fsType) =>
        fsType is { } t && Network.TryGetValue(t & 0xFFFFFFFF, out var name) ? name : null;

    public static string? NetworkNameOf(string path) => NetworkName(TypeOf(path));

    private static unsafe long? StatfsType(string path)
    {
        // struct statfs starts with f_type (a long on 64-bit Linux); 256 bytes covers the whole struct.
        var buf = stackalloc long[32];
        try
        {
            return statfs(path, buf) == 0 ? buf[0] : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe int statfs([MarshalAs(UnmanagedType.LPUTF8Str)] string path, long* buf);
}
