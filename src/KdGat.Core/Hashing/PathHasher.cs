using KdGat.Core.Diagnostics;

namespace KdGat.Core.Hashing;

/// <summary>
/// Hashes what a stage declares: a file (its content), a directory (every file below it, by
/// relative path and content, in ordinal order) or, for inputs, a glob (the matching files the
/// same way). NFS "silly rename" ghosts (.nfsXXXX) and our own temp files are not content and are
/// skipped. Symlinks are followed (a dataset dir linked from scratch is normal), but a link back to
/// a directory above it is an error, not an endless walk, and only regular files are read: a FIFO
/// or device would block or never end.
/// </summary>
internal sealed class PathHasher
{
    private readonly HashCache _cache;
    public PathHasher(HashCache cache) => _cache = cache;

    public sealed record Result(string Hash, long Size, bool IsDirectory);

    /// <summary>Most files one directory walk lists (symlinks leading into the same directories many times could otherwise multiply them without end).</summary>
    public const int MaxFilesPerWalk = 10_000_000;

    /// <summary>The hash of a file or directory, or null when the path does not exist.</summary>
    public Result? Hash(string fullPath)
    {
        var stat = PathStat.Of(fullPath);
        switch (stat.Kind)
        {
            case PathKind.Missing: return null;
            case PathKind.Other: throw NotContent(fullPath, stat);
            case PathKind.File when stat.Identity is { } id:
                return new Result(_cache.HashFile(fullPath, id), id.Size, false);
            case PathKind.File:
                var h = _cache.HashFile(fullPath);
                return h is null ? null : new Result(h, new FileInfo(fullPath).Length, false);
        }
        return HashSet(fullPath, EnumerateContentFiles(fullPath).ToArray());
    }

    /// <summary>
    /// The hash of a declared input: as <see cref="Hash"/>, or for a path with '*' or '?' the set
    /// of files the glob matches, named relative to its literal directory; null when nothing is
    /// there or the glob matches no file.
    /// </summary>
    public Result? HashInput(string fullPath)
    {
        if (!Glob.HasWildcard(fullPath)) return Hash(fullPath);
        var files = Glob.Expand("/", fullPath);
        return files.Count == 0 ? null : HashSet(Glob.LiteralBase(fullPath), files);
    }

    /// <summary>Digest of files (sorted ordinally) by their path relative to <paramref name="baseDir"/> and content.</summary>
    private Result HashSet(string baseDir, IReadOnlyList<string> files)
    {
        var sizes = files.Select(SizeOf).ToArray(); // one stat each, as before; also the parallel threshold
        var hashes = new string?[files.Count];
        // A directory of checkpoints is hashed on every core: one thread tops out below the page
        // cache's bandwidth. Small directories stay on this thread (no pool threads to wait for).
        if (files.Count > 1 && sizes.Sum() >= ParallelThresholdBytes)
            Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i => hashes[i] = _cache.HashFile(files[i]));
        else
            for (var i = 0; i < files.Count; i++) hashes[i] = _cache.HashFile(files[i]);
        var entries = new List<KeyValuePair<string, string>>(files.Count);
        long total = 0;
        for (var i = 0; i < files.Count; i++)
        {
            if (hashes[i] is not { } h) continue; // vanished while we walked: the directory is changing; its digest says so
            entries.Add(new(Path.GetRelativePath(baseDir, files[i]).Replace('\\', '/'), h));
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

    /// <summary>The regular files below <paramref name="dir"/>, ordinally sorted; a FIFO, device or socket among them is an error.</summary>
    public static IEnumerable<string> EnumerateContentFiles(string dir) =>
        Walk(dir).Select(e => e.Kind == PathKind.File ? e.Path : throw NotContent(e.Path, PathStat.Of(e.Path)));

    /// <summary>
    /// Every non-directory below <paramref name="dir"/> (regular or not; the caller decides), in
    /// ordinal order, following symlinks. Each directory's (device, inode) is kept while the walk
    /// is inside it, so a link to itself or to a directory above it is found on first sight. A
    /// directory reached by two links that are not cycles is listed under both names.
    /// </summary>
    internal static IReadOnlyList<(string Path, PathKind Kind)> Walk(string dir)
    {
        var found = new List<(string, PathKind)>();
        // The directories above the start count as "above" too: a link to one of them is a cycle
        // at once, instead of a walk through its siblings (or all of '/') until the start recurs.
        var above = new HashSet<(ulong, ulong)>();
        for (var a = Path.GetDirectoryName(Path.GetFullPath(dir)); a is not null; a = Path.GetDirectoryName(a))
            if (PathStat.Of(a) is { Kind: PathKind.Directory, Inode: not 0 } up) above.Add((up.Device, up.Inode));
        Walk(dir, PathStat.Of(dir), above, found);
        found.Sort((a, b) => string.CompareOrdinal(a.Item1, b.Item1));
        return found;
    }

    private static readonly EnumerationOptions OneLevel = new() { RecurseSubdirectories = false, IgnoreInaccessible = false, AttributesToSkip = 0 };

    private static void Walk(string dir, PathStat stat, HashSet<(ulong, ulong)> above, List<(string, PathKind)> found)
    {
        var id = (stat.Device, stat.Inode);
        if (stat.Inode != 0 && !above.Add(id))
            throw new KdgException(ErrorCodes.SymlinkCycle,
                $"'{dir}' leads back to a directory above it through a symlink (a cycle), so its files never end. Remove the link or point it elsewhere; KdGat follows symlinks inside inputs, outputs and code globs.", dir);
        foreach (var path in new System.IO.Enumeration.FileSystemEnumerable<string>(dir, (ref System.IO.Enumeration.FileSystemEntry e) => e.ToFullPath(), OneLevel))
        {
            if (IsGhost(Path.GetFileName(path))) continue;
            var s = PathStat.Of(path); // follows symlinks; tells a FIFO from a file before anything opens it
            if (s.Kind == PathKind.Directory) Walk(path, s, above, found);
            else if (s.Kind == PathKind.Missing) continue; // a dangling symlink, or deleted while we walked: no content
            else if (found.Count >= MaxFilesPerWalk)
                throw new KdgException(ErrorCodes.SymlinkCycle,
                    $"'{dir}' holds more than {MaxFilesPerWalk:N0} files (symlinks leading into the same directories many times?). Declare a smaller directory.", dir);
            else found.Add((path, s.Kind));
        }
        above.Remove(id);
    }

    internal static KdgException NotContent(string path, PathStat stat) =>
        new(ErrorCodes.NotRegularFile,
            $"'{path}' is a {stat.TypeName}, not a regular file or directory: reading it would block or never end, so KdGat does not hash it. Declare regular files and directories only (remove it, or move it out of the declared directory).", path);

    private static bool IsGhost(string name) => name.StartsWith(".nfs", StringComparison.Ordinal) || IO.AtomicFile.IsTempName(name);
}
