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
        var files = EnumerateContentFiles(fullPath).ToArray();
        var sizes = files.Select(SizeOf).ToArray(); // one stat each, as before; also the parallel threshold
        var hashes = new string?[files.Length];
        // A directory of checkpoints is hashed on every core: one thread tops out below the page
        // cache's bandwidth. Small directories stay on this thread (no pool threads to wait for).
        if (files.Length > 1 && sizes.Sum() >= ParallelThresholdBytes)
            Parallel.For(0, files.Length, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i => hashes[i] = _cache.HashFile(files[i]));
        else
            for (var i = 0; i < files.Length; i++) hashes[i] = _cache.HashFile(files[i]);
        var entries = new List<KeyValuePair<string, string>>(files.Length);
        long total = 0;
        for (var i = 0; i < files.Length; i++)
        {
            if (hashes[i] is not { } h) continue; // vanished while we walked: the directory is changing; its digest says so
            entries.Add(new(Path.GetRelativePath(fullPath, files[i]).Replace('\\', '/'), h));
            total += sizes[i];
        }
        return new Result(ContentHash.OfEntries(entries), total, true);
    }

    private const long ParallelThresholdBytes = 64L << 20;

    private static long SizeOf(string file)
    {
        try { return new FileInfo(file).Length; }
        catch (IOException) { return 0; }
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
