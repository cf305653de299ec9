using KdGat.Core.IO;

namespace KdGat.Core.Execution;

/// <summary>
/// Moves files and directories by rename, falling back to copy+delete across filesystems. Either
/// way a crash leaves every path it touches absent or complete: the copy is built under
/// "{to}.kdgat-partial" and renamed into place, then the source is renamed to "{from}.kdgat-gone"
/// (one atomic step) before it is deleted. <see cref="RemoveLeftovers"/> clears those names. The copy is
/// the cache's (<see cref="Caching.FileCopy"/>: a clone or copy_file_range in steps, the cancel looked at
/// between them), so a Ctrl+C while a checkpoint is moved aside stops it with the source untouched.
/// </summary>
internal static partial class FileMover
{
    private const string PartialSuffix = ".kdgat-partial", GoneSuffix = ".kdgat-gone";

    /// <summary>True for a file, a directory, or a symbolic link (even a dangling one).</summary>
    public static bool Exists(string path) => File.Exists(path) || Directory.Exists(path) || IsLink(path);

    /// <param name="cancel">Looked at only while a move across file systems copies: an OperationCanceledException leaves <paramref name="from"/> as it was and nothing at <paramref name="to"/>.</param>
    public static void Move(string from, string to, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        CrashPoints.Hit("rename", from);
        try
        {
            // A link to a directory is renamed by Directory.Move (rename(2) moves the link itself);
            // File.Move reports it missing, and the copy below used to follow it.
            if (File.Exists(from) || IsLink(from) && !Directory.Exists(from)) RenameFile(from, to);
            else Directory.Move(from, to);
        }
        catch (IOException) when (Exists(from) && !Exists(to))
        {
            // EXDEV: the output lives on another filesystem than the run tree.
            var partial = to + PartialSuffix;
            Delete(partial);
            try { CopyTree(from, partial, cancel); }
            catch (Exception e) when (e is OperationCanceledException or IOException or UnauthorizedAccessException)
            {
                try { Delete(partial); } catch (Exception again) when (again is IOException or UnauthorizedAccessException) { } // else the next move's or RemoveLeftovers'
                throw;
            }
            CrashPoints.Hit("rename", partial);
            if (File.Exists(partial)) File.Move(partial, to); else Directory.Move(partial, to);
            CrashPoints.Hit("rename", from);
            if (File.Exists(from)) File.Move(from, from + GoneSuffix, overwrite: true); else Directory.Move(from, from + GoneSuffix);
            Delete(from + GoneSuffix);
        }
    }

    /// <summary>
    /// rename(2) of a file or link, never onto an existing path; any failure an IOException. Not File.Move: across file
    /// systems it copies by itself (to the target's own name, uncancellable, close unchecked) and deletes the source.
    /// </summary>
    private static void RenameFile(string from, string to)
    {
        if (Exists(to)) throw new IOException($"'{to}' already exists");
        if (NativeRename(from, to) != 0)
            throw new IOException($"{System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())} : '{from}' -> '{to}'");
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "rename", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8, SetLastError = true)]
    private static partial int NativeRename(string from, string to);

    /// <summary>Deletes a file or a directory tree; a symbolic link is removed itself, never followed.</summary>
    public static void Delete(string path)
    {
        if (IsLink(path) || File.Exists(path))
        {
            CrashPoints.Hit("unlink", path);
            File.Delete(path);
        }
        else if (Directory.Exists(path))
        {
            CrashPoints.Hit("rmtree", path);
            try { Directory.Delete(path, recursive: true); }
            catch (IOException) when (!OperatingSystem.IsWindows() && Directory.Exists(path) && RemovedByRm(path)) { }
        }
    }

    /// <summary>
    /// rm -rf, which takes names as bytes: .NET reads a name that is not UTF-8 (a latin-1 name from an
    /// unzip, written by a stage) with U+FFFD and cannot name it again, so Directory.Delete ends in
    /// "Directory not empty". A failed attempt's folder kept under failed/ then stopped every later
    /// attempt of its stage, and Clean (a review). True when the tree is gone.
    /// </summary>
    private static bool RemovedByRm(string path)
    {
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("rm") { RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "-rf", "--", path }) start.ArgumentList.Add(a);
            using var rm = System.Diagnostics.Process.Start(start);
            if (rm is null) return false;
            rm.StandardError.ReadToEnd(); // until it exits; its complaint is the IOException's to say
            rm.WaitForExit();
            return !Directory.Exists(path) && !IsLink(path);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException) { return false; }
    }

    /// <summary>Removes what an interrupted cross-filesystem move of <paramref name="path"/> left beside it.</summary>
    public static void RemoveLeftovers(string path)
    {
        Delete(path + PartialSuffix);
        Delete(path + GoneSuffix);
    }

    public static bool IsLink(string path)
    {
        try { return new FileInfo(path).LinkTarget is not null; }
        catch (IOException) { return false; }
    }

    /// <summary>A copy that keeps symbolic links as links (to where they point), as a rename would.</summary>
    private static void CopyTree(string from, string to, CancellationToken cancel)
    {
        CrashPoints.Hit("copy", from);
        cancel.ThrowIfCancellationRequested();
        if (new FileInfo(from).LinkTarget is { } target) { File.CreateSymbolicLink(to, target); return; }
        if (File.Exists(from)) { Caching.FileCopy.Copy(from, to, cancel); return; }
        Directory.CreateDirectory(to);
        foreach (var f in Directory.EnumerateFiles(from)) CopyTree(f, Path.Combine(to, Path.GetFileName(f)), cancel);
        foreach (var d in Directory.EnumerateDirectories(from)) CopyTree(d, Path.Combine(to, Path.GetFileName(d)), cancel);
    }
}
