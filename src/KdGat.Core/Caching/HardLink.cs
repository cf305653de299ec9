using System.Runtime.InteropServices;

namespace KdGat.Core.Caching;

/// <summary>link(2): a restore or insert costs no bytes when store and run tree share a filesystem.</summary>
internal static partial class HardLink
{
    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Link(string oldPath, string newPath);

    /// <summary>
    /// Hard-links a file, or a directory tree file by file; copies where linking is not possible
    /// (EXDEV, EPERM). A symbolic link is made again with the same target, never followed: a link
    /// to a directory came back from the cache as a real directory of hard links to what it pointed
    /// to (found by review; a dangling one cannot be copied at all); empty directories are made too.
    /// </summary>
    public static void LinkOrCopy(string from, string to)
    {
        if (new FileInfo(from).LinkTarget is { } target) { File.CreateSymbolicLink(to, target); return; }
        if (File.Exists(from))
        {
            if (Link(from, to) != 0) File.Copy(from, to, overwrite: false);
            return;
        }
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from)) LinkOrCopy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.EnumerateDirectories(from)) LinkOrCopy(d, Path.Combine(to, Path.GetFileName(d)));
    }
}
