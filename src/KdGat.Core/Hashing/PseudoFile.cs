using System.Runtime.InteropServices;

namespace KdGat.Core.Hashing;

/// <summary>
/// Files of /proc and /sys look regular to stat, with size 0 (/proc) or 4096 (/sys) whatever they
/// hold, and an unchanged identity when their content changes; one read of /proc/kmsg blocks until
/// the kernel logs. Asked only of a file of one of those sizes about to be read (a hash cache
/// miss), so a tree of ordinary empty files pays one realpath each, once.
/// </summary>
internal static partial class PseudoFile
{
    public static bool Is(string path)
    {
        if (!OperatingSystem.IsLinux()) return false;
        var real = RealPath(path) ?? path;
        return real.StartsWith("/proc/", StringComparison.Ordinal) || real.StartsWith("/sys/", StringComparison.Ordinal);
    }

    private static string? RealPath(string path)
    {
        var resolved = realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(resolved); }
        finally { free(resolved); }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr realpath(string path, IntPtr resolved);

    [LibraryImport("libc")]
    private static partial void free(IntPtr p);
}
