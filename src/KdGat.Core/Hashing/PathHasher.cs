namespace KdGat.Core.Hashing;

/// <summary>
/// Hashes what a stage declares: a file (its content) or a directory (every file below it, by
/// relative path and content, in ordinal order). NFS "silly rename" ghosts (.nfsXXXX) and our own
/// temp files are not content and are skipped.
/// </summary>
public sealed class PathHasher
{
    private readonly HashCache _cache;
    public PathHasher(HashCache cache) => _cache = cache;

    public sealed record Result(string Hash, long Size, bool IsDirectory);

    /// <summary>The hash of a file or directory, or null when the path does not exist.</summary>
    public Result? Hash(string fullPath)
    {
        if (File.Exists(fullPath))
        {
            var h = _cache.HashFile(fullPath);
            return h is null ? null : new Result(h, new FileInfo(fullPath).Length, false);
        }
        if (!Directory.Exists(fullPath)) return null;
        var entries = new List<KeyValuePair<string, string>>();
        long total = 0;
        foreach (var file in EnumerateContentFiles(fullPath))
        {
            var h = _cache.HashFile(file);
            if (h is null) continue; // vanished while we walked: the directory is changing; its digest says so
            entries.Add(new(Path.GetRelativePath(fullPath, file).Replace('\\', '/'), h));
            total += new FileInfo(file).Length;
        }
        return new Result(ContentHash.OfEntries(entries), total, true);
    }

    public static IEnumerable<string> EnumerateContentFiles(string dir)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = 0 };
        return Directory.EnumerateFiles(dir, "*", options)
            .Where(f => !IsGhost(Path.GetFileName(f)))
            .OrderBy(f => f, StringComparer.Ordinal);
    }

    private static bool IsGhost(string name) => name.StartsWith(".nfs", StringComparison.Ordinal) || IO.AtomicFile.IsTempName(name);
}
