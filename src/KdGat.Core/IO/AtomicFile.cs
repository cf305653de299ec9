using System.Text;

namespace KdGat.Core.IO;

/// <summary>
/// Writes that are all-or-nothing: a temp file in the same directory, flushed to disk, then renamed
/// over the target. A crash leaves either the old file or the new one, never a torn one; on NFS a
/// rename within one directory is atomic too. A crash between the two steps leaves a temp file;
/// the next write of the same file removes it (temp names carry host and pid, so a live writer's
/// temp file on a shared file system is never touched).
/// </summary>
internal static partial class AtomicFile
{
    /// <param name="durable">false skips the fsync: still never torn, but may be lost in a power cut (for informational files).</param>
    public static void WriteAllText(string path, string contents, bool durable = true) => WriteAllBytes(path, Encoding.UTF8.GetBytes(contents), durable);

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> contents, bool durable = true) =>
        Write(TargetDirectory(path), path, contents, durable);

    private static void Write(string dir, string path, ReadOnlySpan<byte> contents, bool durable)
    {
        Directory.CreateDirectory(dir);
        RemoveStaleTemps(dir, Path.GetFileName(path));
        var temp = Path.Combine(dir, $".{TempBase(Path.GetFileName(path))}.{HostTag}-{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            CrashPoints.Hit("write", temp);
            using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                RandomAccess.Write(handle, contents, 0);
                if (durable) FsyncChecked(handle, temp);
                CloseChecked(handle, temp);
            }
            CrashPoints.Hit("rename", path);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp) && CrashPoints.Current is not { Crashed: true }) File.Delete(temp);
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int NativeFsync(nint fd);

    /// <summary>
    /// fsync(2) whose failure is an IOException: .NET's Flush(true) ignores it, and NFS reports a write the server
    /// refused (EDQUOT, ENOSPC, EIO) only there, so a run record was committed empty with no KDG3008 (a quota review).
    /// </summary>
    internal static void FsyncChecked(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string path)
    {
        if (OperatingSystem.IsWindows()) return;
        while (NativeFsync(handle.DangerousGetHandle()) != 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno == 4) continue; // EINTR
            if (errno is 22 or 95 or 30) return; // EINVAL, EOPNOTSUPP, EROFS: nothing to flush, as .NET treats them
            throw new IOException($"{System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)} : '{path}' (fsync)");
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int NativeClose(nint fd);

    /// <summary>
    /// close(2) whose failure is an IOException; the handle is closed either way. NFS writes a file back to the
    /// server at close and reports a write it refused (EDQUOT, ENOSPC, EIO) there, which .NET's Dispose ignores: a
    /// cut last-build.json or lock owner could be renamed over a good one (a full-disk review's reading; no NFS here). Checking close is free,
    /// where an fsync of every non-durable file would cost ~5 ms each (last-build.json on this VM's ext4: 0.3 ms
    /// without); a local file system reports ENOSPC and EDQUOT at write(2) already.
    /// </summary>
    internal static void CloseChecked(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string path)
    {
        if (OperatingSystem.IsWindows()) { handle.Dispose(); return; }
        var fd = handle.DangerousGetHandle();
        Locking.Flock.Release(fd);
        handle.SetHandleAsInvalid(); // Linux frees the descriptor even when close fails: never close it twice
        var errno = NativeClose(fd) == 0 ? 0 : System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        if (CrashPoints.Refused("close", path)) errno = 5; // EIO: the seam for a write-back the server refused
        if (errno != 0) // EINTR too: NFS's wait for the write-back ends early only for a fatal signal, its outcome unknown
            throw new IOException($"{System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno)} : '{path}' (close)");
    }

    /// <summary>Writes only when the content differs (like WriteLinesToFile's WriteOnlyWhenDifferent).</summary>
    public static bool WriteAllTextIfChanged(string path, string contents)
    {
        var dir = TargetDirectory(path); // before the read: reading a FIFO would wait for a writer forever
        if (File.Exists(path))
        {
            try { if (File.ReadAllText(path) == contents) return false; }
            catch (IOException) { }
        }
        Write(dir, path, Encoding.UTF8.GetBytes(contents), durable: true);
        return true;
    }

    /// <summary>
    /// The directory the temp file goes to. Refuses a target that is not a file name ("/") and one
    /// that is a device, FIFO or socket: the rename would replace it with a plain file (a report
    /// written to /dev/null as root would remove /dev/null), and reading a FIFO never ends.
    /// </summary>
    private static string TargetDirectory(string path)
    {
        var full = Path.GetFullPath(path);
        // KdGat's own file, about to be replaced: its stat is no observation of a check (recorded, a stamp the plan
        // rewrote made every settled no-op's certificate see two answers, and none was written).
        string? what;
        using (NoOp.FileObservations.Pause()) what = Hashing.PathStat.NotAFileToWrite(full);
        if (what is not null)
            throw new IOException(what == "a directory"
                ? $"'{path}' is a directory, not a file name. Give a file path."
                : $"'{path}' is {what}, not a regular file; KdGat writes a file by replacing it whole, which would remove it. Give a path to a regular file.");
        return Path.GetDirectoryName(full)!;
    }

    /// <summary>
    /// True exactly for the temp names KdGat's own writers give their files, which directory hashing
    /// skips: this class's <c>.{name}.{host}-{pid}.{guid:N}.tmp</c>, the bundled sample stages'
    /// <c>.{name}.{pid}.{guid:N}.tmp</c> (KdGat.Sample's AtomicWrite) and the hash cache's clock probe
    /// <c>.clock-{pid}-{guid:N}.tmp</c>: a pid in digits, then 32 lowercase hex digits. Any other name
    /// ending in .tmp (a stage's own <c>.meta.tmp</c>) is content: skipping it left a stage up to date on
    /// data it reads, and a changed output dir invisible to its downstream (found by review).
    /// </summary>
    public static bool IsTempName(string fileName) => fileName.EndsWith(".tmp", StringComparison.Ordinal) && TempName().IsMatch(fileName);

    [System.Text.RegularExpressions.GeneratedRegex(@"^\.(?:.+\.(?:[A-Za-z0-9-]*-)?[0-9]+\.|clock-[0-9]+-)[0-9a-f]{32}\.tmp\z", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex TempName();

    /// <summary>
    /// Deletes temp files a crashed writer of <paramref name="fileName"/> (or of any file, when null)
    /// left in <paramref name="dir"/>: only those of this host whose process is gone.
    /// </summary>
    public static void RemoveStaleTemps(string dir, string? fileName = null)
    {
        var prefix = fileName is null ? "." : $".{TempBase(fileName)}.";
        var marker = $".{HostTag}-";
        try
        {
            foreach (var f in Directory.EnumerateFiles(dir, $"{prefix}*.tmp"))
            {
                var name = Path.GetFileName(f);
                if (!IsTempName(name)) continue; // a stage's own .x.myhost-12.tmp is not ours to delete
                var at = name.LastIndexOf(marker, StringComparison.Ordinal);
                if (at < 0) continue;
                var pidText = name[(at + marker.Length)..].Split('.')[0];
                if (!int.TryParse(pidText, out var pid) || pid == Environment.ProcessId || Directory.Exists($"/proc/{pid}")) continue;
                try { File.Delete(f); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>
    /// The file's name as its temp name starts, cut (ending in '~') where the whole temp name would pass the
    /// 255-byte limit of a file name: a run record of a long sweep point, a name that fits, failed as "path
    /// too long" on its temp file alone (a review).
    /// </summary>
    private static string TempBase(string fileName)
    {
        var room = 255 - (1 + 1 + HostTag.Length + 1 + 10 + 1 + 32 + 4); // "." name "." host "-" pid "." guid ".tmp"
        if (Encoding.UTF8.GetByteCount(fileName) <= room) return fileName;
        var cut = fileName.Length;
        while (cut > 0 && Encoding.UTF8.GetByteCount(fileName.AsSpan(0, cut)) > room - 1) cut--;
        if (cut > 0 && char.IsHighSurrogate(fileName[cut - 1])) cut--;
        return fileName[..cut] + "~";
    }

    /// <summary>This host's name as it appears in temp names (letters, digits and '-').</summary>
    private static readonly string HostTag = new(Environment.MachineName.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());
}
