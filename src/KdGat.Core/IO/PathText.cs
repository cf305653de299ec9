namespace KdGat.Core.IO;

/// <summary>
/// Paths as they are stored in manifests and fingerprints, '/' separated: relative to the pipeline
/// root when inside it (so moving the checkout changes nothing), absolute when outside it (so a
/// shared raw-data or scratch directory reads the same from clones at any depth).
/// </summary>
internal static partial class PathText
{
    /// <summary>realpath(3): the path with every symbolic link resolved (and '.', '..' taken out), or null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        var resolved = realpath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero) return null;
        try { return System.Runtime.InteropServices.Marshal.PtrToStringUTF8(resolved); }
        finally { free(resolved); }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial IntPtr realpath(string path, IntPtr resolved);

    [System.Runtime.InteropServices.LibraryImport("libc")]
    private static partial void free(IntPtr p);

    public static string ToStored(string root, string fullPath)
    {
        var full = Path.GetFullPath(fullPath);
        var text = IsUnder(full, root) ? Path.GetRelativePath(root, full) : full;
        return text.Replace('\\', '/');
    }

    /// <summary>A path as the fingerprint sees it: <c>&lt;root&gt;/rel</c> inside the root, the absolute path outside.</summary>
    public static string ForFingerprint(string root, string fullPath)
    {
        var stored = ToStored(root, fullPath);
        return Path.IsPathRooted(stored) ? stored : "<root>/" + stored;
    }

    public static string FromStored(string root, string stored) =>
        Path.GetFullPath(Path.IsPathRooted(stored) ? stored : Path.Combine(root, stored));

    /// <summary>True when <paramref name="path"/> is <paramref name="dir"/> or lies below it.</summary>
    /// <summary>
    /// The path moved from the first of <paramref name="spellings"/>' From folders that holds it to that
    /// one's To (a resolved path spelled again under the folder as the pipeline names it); the path itself otherwise.
    /// </summary>
    public static string Respelled(string path, IEnumerable<(string From, string To)> spellings)
    {
        foreach (var (from, to) in spellings)
            if (IsUnder(path, from)) return to + path[from.Length..];
        return path;
    }

    public static bool IsUnder(string path, string dir)
    {
        var p = Path.GetFullPath(path).TrimEnd('/');
        var d = Path.GetFullPath(dir).TrimEnd('/');
        return p == d || p.StartsWith(d + "/", StringComparison.Ordinal);
    }

    /// <summary>
    /// The symbolic link a '..' of <paramref name="relative"/> (taken from <paramref name="baseDir"/>)
    /// would step back out of, or null. The system follows the link first, so 'lnk/..' is the
    /// parent of the link's target; the full paths KdGat works with drop 'lnk/..' from the text, so
    /// it would hash another file than the command reads (unless the target lies beside the link). Only the segment just before a '..'
    /// matters: a link further up resolves to the same file either way.
    /// </summary>
    public static string? LinkBeforeDotDot(string baseDir, string relative)
    {
        if (!relative.Contains("..", StringComparison.Ordinal)) return null;
        var current = Path.IsPathRooted(relative) ? "/" : Path.GetFullPath(baseDir);
        foreach (var segment in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (segment == "..")
            {
                if (NoOp.FileObservations.ReadLink(current) != "none" && !SameParent(current)) return current;
                current = Path.GetDirectoryName(current) ?? "/";
            }
            else if (segment != ".") current = Path.Combine(current, segment);
        }
        return null;
    }

    /// <summary>Whether a link's parent folder is its final target's parent (raw/d1 -> d1_v2): then 'lnk/..' is the same folder either way.</summary>
    private static bool SameParent(string link)
    {
        try
        {
            NoOp.FileObservations.Observe(NoOp.FileObservations.Probe.FinalTarget, link);
            if (new DirectoryInfo(link).ResolveLinkTarget(returnFinalTarget: true) is not { } target) return false;
            var a = Hashing.PathStat.Of(Path.GetDirectoryName(target.FullName) ?? "/");
            var b = Hashing.PathStat.Of(Path.GetDirectoryName(link) ?? "/");
            return a.Kind == Hashing.PathKind.Directory && b.Kind == Hashing.PathKind.Directory && a.Inode != 0 && (a.Device, a.Inode) == (b.Device, b.Inode);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// The first symbolic link among the directories strictly below <paramref name="top"/> that
    /// contain <paramref name="path"/> (not <paramref name="path"/> itself), or null. Paths not under
    /// <paramref name="top"/> have none.
    /// </summary>
    public static string? LinkBetween(string top, string path)
    {
        var t = Path.GetFullPath(top).TrimEnd('/');
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        var chain = new List<string>();
        for (; dir is not null && dir.Length > t.Length && IsUnder(dir, t); dir = Path.GetDirectoryName(dir)) chain.Add(dir);
        chain.Reverse();
        return chain.FirstOrDefault(d => new DirectoryInfo(d).LinkTarget is not null);
    }
}
