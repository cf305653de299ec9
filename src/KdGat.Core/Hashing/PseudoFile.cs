namespace KdGat.Core.Hashing;

/// <summary>
/// Files of /proc and /sys look regular to stat, with size 0 (/proc) or 4096 (/sys) whatever they
/// hold, and an unchanged identity when their content changes; one read of /proc/kmsg blocks until
/// the kernel logs. Asked only of a file of one of those sizes about to be read (a hash cache
/// miss), so a tree of ordinary empty files pays one realpath each, once.
/// </summary>
internal static class PseudoFile
{
    public static bool Is(string path)
    {
        if (!OperatingSystem.IsLinux()) return false;
        var real = IO.PathText.RealPath(path) ?? path;
        return real.StartsWith("/proc/", StringComparison.Ordinal) || real.StartsWith("/sys/", StringComparison.Ordinal);
    }
}
