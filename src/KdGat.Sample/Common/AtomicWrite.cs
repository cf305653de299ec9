namespace KdGat.Sample.Common;

/// <summary>
/// Every output goes to a temp name first and is renamed into place, so a killed process never
/// leaves a plausible-looking half file. Temp names follow KdGat's convention (".NAME.PID.GUID.tmp")
/// so its directory hashing ignores any left behind.
/// </summary>
internal static class AtomicWrite
{
    public static string TempNameFor(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    /// <summary>Writes through <paramref name="write"/> into a temp file, then renames it to <paramref name="path"/>.</summary>
    public static void File(string path, Action<Stream> write, bool overwrite = true)
    {
        var temp = TempNameFor(path);
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            try
            {
                System.IO.File.Move(temp, path, overwrite);
            }
            catch (IOException) when (!overwrite && System.IO.File.Exists(path))
            {
                // Lost a race with another writer: theirs stays, as promised.
                throw new SampleError("output already exists", path, "remove it first if you really want to replace it");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleError($"cannot write output ({e.Message})", path, "check the directory exists, is writable and the disk is not full");
        }
        finally
        {
            TryDelete(temp);
        }
    }

    public static void Bytes(string path, byte[] bytes) => File(path, s => s.Write(bytes));

    /// <summary>
    /// Replaces a whole directory: the caller fills a sibling temp dir, then the old dir is renamed
    /// aside and the new one renamed in. Between the two renames the directory is briefly absent,
    /// never half-written. With <paramref name="replace"/> false, an existing directory must be
    /// empty (it is removed, not renamed aside, so a file added meanwhile makes this fail).
    /// </summary>
    public static void Directory(string path, Action<string> fill, bool replace = true)
    {
        var full = Path.GetFullPath(path.TrimEnd('/', '\\'));
        var parent = Path.GetDirectoryName(full)!;
        var temp = TempNameFor(full);
        var old = TempNameFor(full);
        try
        {
            System.IO.Directory.CreateDirectory(parent);
            System.IO.Directory.CreateDirectory(temp);
            fill(temp);
            if (System.IO.Directory.Exists(full) && !replace) System.IO.Directory.Delete(full, recursive: false);
            else if (System.IO.Directory.Exists(full)) System.IO.Directory.Move(full, old);
            else if (System.IO.File.Exists(full))
                throw new SampleError("output directory is a file", full, "remove the file or pass another --out");
            System.IO.Directory.Move(temp, full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleError($"cannot write output directory ({e.Message})", full, "check the parent directory is writable and the disk is not full");
        }
        finally
        {
            TryDeleteDir(temp);
            TryDeleteDir(old);
        }
    }

    private static void TryDelete(string file)
    {
        try { if (System.IO.File.Exists(file)) System.IO.File.Delete(file); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void TryDeleteDir(string dir)
    {
        try { if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
