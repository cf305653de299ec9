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
    /// <param name="undeclared">
    /// Storing an entry: where a link's final target is a file the entry does not hold, which a restore leaves
    /// out (the stage's run dir less its declared outputs). Such a link is stored as what it points to, the content its output
    /// hash is of: made again, the usual checkpoint link (model.ckpt -> epoch_12.ckpt, the epoch file not
    /// declared) pointed at nothing in a restored run dir, and every restore was KDG2004 "damaged" (a
    /// first-week review). Links elsewhere (raw data, scratch, within the outputs) are made again. Null (a
    /// restore): every link is made again.
    /// </param>
    /// <param name="cancel">Looked at before each file and folder, and between the steps of a file copied (<see cref="FileCopy"/>): a cancelled
    /// store insert or restore. What was placed before it stays, for the caller's cleanup (a restore's rollback, the store's tmp/).</param>
    public static void LinkOrCopy(string from, string to, Func<string, bool>? undeclared = null, CancellationToken cancel = default) => LinkOrCopy(from, to, undeclared, [], cancel);

    private static void LinkOrCopy(string from, string to, Func<string, bool>? undeclared, HashSet<string> followed, CancellationToken cancel)
    {
        cancel.ThrowIfCancellationRequested();
        if (new FileInfo(from).LinkTarget is { } target)
        {
            if (undeclared is null || Resolved(from) is not { } real || !undeclared(real) || !followed.Add(real))
            {
                File.CreateSymbolicLink(to, target);
                return;
            }
            from = real;
        }
        if (File.Exists(from))
        {
            if (Link(from, to) != 0) FileCopy.Copy(from, to, cancel);
            return;
        }
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from)) LinkOrCopy(f, Path.Combine(to, Path.GetFileName(f)), undeclared, followed, cancel);
        foreach (var d in Directory.EnumerateDirectories(from)) LinkOrCopy(d, Path.Combine(to, Path.GetFileName(d)), undeclared, followed, cancel);
    }

    /// <summary>What a link finally points to, when that exists; null for a dangling link or a cycle.</summary>
    private static string? Resolved(string link)
    {
        try
        {
            var real = new FileInfo(link).ResolveLinkTarget(returnFinalTarget: true)?.FullName;
            return real is not null && (File.Exists(real) || Directory.Exists(real)) ? real : null;
        }
        catch (IOException) { return null; } // a cycle (ELOOP)
    }
}
