using System.Text;

namespace KdGat.Core.IO;

/// <summary>
/// Writes that are all-or-nothing: a temp file in the same directory, flushed to disk, then renamed
/// over the target. A crash leaves either the old file or the new one, never a torn one; on NFS a
/// rename within one directory is atomic too.
/// </summary>
public static class AtomicFile
{
    /// <param name="durable">false skips the fsync: still never torn, but may be lost in a power cut (for informational files).</param>
    public static void WriteAllText(string path, string contents, bool durable = true) => WriteAllBytes(path, Encoding.UTF8.GetBytes(contents), durable);

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> contents, bool durable = true)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                fs.Write(contents);
                fs.Flush(flushToDisk: durable);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes only when the content differs (like WriteLinesToFile's WriteOnlyWhenDifferent).</summary>
    public static bool WriteAllTextIfChanged(string path, string contents)
    {
        if (File.Exists(path))
        {
            try { if (File.ReadAllText(path) == contents) return false; }
            catch (IOException) { }
        }
        WriteAllText(path, contents);
        return true;
    }

    /// <summary>True for names this class uses for its temp files; directory hashing skips them.</summary>
    public static bool IsTempName(string fileName) => fileName.StartsWith('.') && fileName.EndsWith(".tmp", StringComparison.Ordinal);
}
