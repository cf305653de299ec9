using KdGat.Core.Diagnostics;

namespace KdGat.Core.Hashing;

/// <summary>
/// Hashes what a stage declares: a file (its content), a directory (every file below it, by
/// relative path and content, in ordinal order) or, for inputs, a glob (the matching files the
/// same way). NFS "silly rename" ghosts (.nfs + 24 hex digits) and KdGat's own temp files are not
/// content and are skipped (<see cref="IsGhost"/>; nothing else is). Symlinks are followed (a dataset dir linked from scratch is normal), but a link back to
/// a directory above it is an error, not an endless walk, and only regular files are read: a FIFO
/// or device would block or never end. Beyond names and bytes a digest covers what a build from
/// scratch would see differently, each only where present so that a tree of plain files keeps
/// its digest: an executable file's x bit, a dangling symlink (by its target: a git-annex file not
/// yet fetched), an empty directory, and an empty declared directory (not the digest of an empty file).
/// A name that cannot be looked up (not UTF-8, too long) is an error, not skipped.
/// A cancel (Ctrl+C) stops a hash between the files it lists and reads, and within a large file between
/// its 1 MiB reads, with an OperationCanceledException: no digest, and no hash cache row for a file not read to its end.
/// </summary>
internal sealed class PathHasher
{
    private readonly HashCache _cache;
    private readonly CancellationToken _cancel;
    private readonly bool _recheck;

    /// <param name="cancel">The build's: a Ctrl+C during the hash of a 200,000-file input waited for all of it (18 s; a review).</param>
    public PathHasher(HashCache cache, CancellationToken cancel = default) : this(cache, cancel, recheck: false) { }

    private PathHasher(HashCache cache, CancellationToken cancel, bool recheck)
    {
        _cache = cache;
        _cancel = cancel;
        _recheck = recheck;
    }

    /// <summary>
    /// This hasher for the end of a stage's run, on the same hash cache: without its cancel (what must finish once begun,
    /// a commit), and not trusting a row read in the tick of its file's last change (<see cref="HashCache.HashFile(string, FileIdentity, CancellationToken, bool)"/>).
    /// </summary>
    public PathHasher Rechecking => new(_cache, default, recheck: true);

    public sealed record Result(string Hash, long Size, bool IsDirectory);

    /// <summary>Most files one directory walk lists (symlinks leading into the same directories many times could otherwise multiply them without end).</summary>
    public const int MaxFilesPerWalk = 10_000_000;

    /// <summary>The hash of a file or directory, or null when the path does not exist.</summary>
    public Result? Hash(string fullPath) => Hash(fullPath, skip: null);

    /// <param name="skip">Subdirectories the walk of a directory does not enter (<see cref="Walk"/>).</param>
    private Result? Hash(string fullPath, Func<string, bool>? skip)
    {
        var stat = PathStat.Of(fullPath);
        switch (stat.Kind)
        {
            case PathKind.Missing: return null;
            case PathKind.Other: throw NotContent(fullPath, stat);
            case PathKind.File when stat.Identity is { } id:
                return new Result(WithMode(_cache.HashFile(fullPath, id, _cancel, _recheck), stat.Executable), id.Size, false);
            case PathKind.File:
                var h = _cache.HashFile(fullPath, _cancel, _recheck);
                return h is null ? null : new Result(WithMode(h, stat.Executable), new FileInfo(fullPath).Length, false);
        }
        var entries = Walk(fullPath, skip, _cancel);
        foreach (var e in entries)
            if (e.Kind == PathKind.Other) throw NotContent(e.Path, PathStat.Of(e.Path));
        return HashSet(fullPath, entries);
    }

    /// <summary>
    /// A file's digest with its x bit: an executable file's is the hash of a marker and its content
    /// hash; any other file's is its content hash, as before the bit counted. The hash cache keeps
    /// content only, so its rows stay valid for either mode (a chmod changes the ctime, so the file is read once more anyway).
    /// </summary>
    internal static string WithMode(string contentHash, bool executable) =>
        executable ? ContentHash.OfText("executable\0" + contentHash) : contentHash;

    /// <summary>A dangling symlink's entry value: not a hash (hex), so no file can match it.</summary>
    internal static string DanglingValue(string target) => "dangling symlink -> " + target;

    /// <summary>An empty directory's entry value (non-empty ones are implied by their files' names).</summary>
    internal const string EmptyDirectoryValue = "empty directory";

    /// <summary>
    /// The hash of a declared input: as <see cref="Hash"/> (a directory without its
    /// <see cref="IsBytecodeCache"/> folders), or for a path with '*' or '?' the set
    /// of files the glob matches, named relative to its literal directory; null when nothing is
    /// there or the glob matches no file.
    /// </summary>
    public Result? HashInput(string fullPath)
    {
        if (!Glob.HasWildcard(fullPath)) return Hash(fullPath, IsBytecodeCache);
        // Dangling symlinks the glob matches count as in a directory (a from-scratch run would not find them either).
        var entries = Glob.ExpandEntries("/", fullPath, withDangling: true, _cancel);
        return entries.Count == 0 ? null : HashSet(Glob.LiteralBase(fullPath), entries);
    }

    /// <summary>
    /// Digest of walk entries (sorted ordinally) by their path relative to <paramref name="baseDir"/>
    /// and content (with the x bit, see <see cref="WithMode"/>); a dangling symlink by its target,
    /// an empty directory by a tag.
    /// </summary>
    private Result HashSet(string baseDir, IReadOnlyList<WalkEntry> walked)
    {
        var files = walked.Where(e => e.Kind == PathKind.File).Select(e => e.Path).ToArray();
        var sizes = new long[files.Length]; // one stat each, as before; also the parallel threshold
        for (var i = 0; i < files.Length; i++)
        {
            _cancel.ThrowIfCancellationRequested(); // 200,000 stats took seconds on a busy machine
            sizes[i] = SizeOf(files[i]);
        }
        var hashes = new string?[files.Length];
        // A directory of checkpoints is hashed on every core: one thread tops out below the page
        // cache's bandwidth. Small directories stay on this thread (no threads to start).
        if (files.Length > 1 && sizes.Sum() >= ParallelThresholdBytes)
            OnEveryCore(files.Length, i => hashes[i] = _cache.HashFile(files[i], _cancel, _recheck));
        else
            for (var i = 0; i < files.Length; i++)
            {
                _cancel.ThrowIfCancellationRequested(); // also between hash cache hits: 200,000 of them take a second
                hashes[i] = _cache.HashFile(files[i], _cancel, _recheck);
            }
        var entries = new List<KeyValuePair<string, string>>(walked.Count);
        long total = 0;
        var f = 0;
        foreach (var e in walked)
        {
            _cancel.ThrowIfCancellationRequested();
            string value;
            if (e.Kind == PathKind.File)
            {
                var i = f++;
                if (hashes[i] is not { } h) continue; // vanished while we walked: the directory is changing; its digest says so
                value = WithMode(h, e.Executable);
                total += sizes[i];
            }
            else if (e.Kind == PathKind.Directory) value = EmptyDirectoryValue;
            else if (e.LinkTarget is { } target) value = DanglingValue(target);
            else continue;
            entries.Add(new(Path.GetRelativePath(baseDir, e.Path).Replace('\\', '/'), value));
        }
        return new Result(ContentHash.OfEntries(entries), total, true);
    }

    private const long ParallelThresholdBytes = 64L << 20;

    /// <summary>
    /// body(0 .. count - 1) on this thread and threads of its own, one per further core, not the thread pool's:
    /// Parallel.For took the pool's threads (both, on two cores), and MSBuild hands a Ctrl+C on to the running
    /// task through the pool, so the cancel waited seconds for a thread (3.6-4.6 s; 0.4 s with more pool threads).
    /// The first error (a file's KDG1015 or KDG1207, a cancel) is the error, as on one thread, not an
    /// AggregateException that reads as a bug in KdGat (KDG9001; found by review); the other threads stop at their next file.
    /// </summary>
    internal static void OnEveryCore(int count, Action<int> body)
    {
        var next = -1;
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? failed = null;
        void Work()
        {
            int i;
            while (Volatile.Read(ref failed) is null && (i = Interlocked.Increment(ref next)) < count)
            {
                try { body(i); }
                catch (Exception e) { Interlocked.CompareExchange(ref failed, System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e), null); }
            }
        }
        var helpers = new Thread[Math.Min(Environment.ProcessorCount, count) - 1];
        for (var t = 0; t < helpers.Length; t++) (helpers[t] = new Thread(Work) { IsBackground = true, Name = "KdGat hash" }).Start();
        Work();
        foreach (var t in helpers) t.Join();
        failed?.Throw();
    }

    private static long SizeOf(string file)
    {
        try { return new FileInfo(file).Length; }
        catch (IOException) { return 0; }
    }

    /// <summary>
    /// The regular files below <paramref name="dir"/>, ordinally sorted; a FIFO, device or socket
    /// among them is an error. Dangling symlinks and empty directories are not listed (nothing to read or link).
    /// </summary>
    /// <param name="skip">Subdirectories not entered (<see cref="Walk"/>).</param>
    public static IEnumerable<string> EnumerateContentFiles(string dir, Func<string, bool>? skip = null) =>
        Walk(dir, skip).Where(e => e.Kind is PathKind.File or PathKind.Other)
            .Select(e => e.Kind == PathKind.File ? e.Path : throw NotContent(e.Path, PathStat.Of(e.Path)));

    /// <summary>Python's bytecode cache folder (<see cref="IsBytecodeCache"/>).</summary>
    internal const string BytecodeCacheDir = "__pycache__";

    /// <summary>
    /// Python's bytecode cache, which a folder named whole as an input or as code leaves out, not even
    /// entered (a wildcard does too: <see cref="Glob"/>); naming it (<c>lib/__pycache__</c>) reaches it.
    /// The stage's own import writes it while it runs (KDG3020 and a rerun at every build, a review), and a
    /// .pyc holds its source's mtime (a touch changed it). Nothing is lost: Python reads a .pyc there only
    /// in place of the .py beside the folder, which is in the digest, and ignores one whose source is gone.
    /// </summary>
    internal static bool IsBytecodeCache(string dir) => Path.GetFileName(dir) == BytecodeCacheDir;

    /// <summary>
    /// One thing a walk found: a regular file (<see cref="Executable"/> set by its x bit), a FIFO,
    /// device or socket (<see cref="PathKind.Other"/>), an empty directory (<see cref="PathKind.Directory"/>,
    /// the walked directory itself when it is empty), or a dangling symlink (<see cref="PathKind.Missing"/>
    /// with its <see cref="LinkTarget"/>). A regular file's <see cref="Identity"/> is from the walk's own statx (null without statx).
    /// </summary>
    internal readonly record struct WalkEntry(string Path, PathKind Kind, bool Executable = false, string? LinkTarget = null, FileIdentity? Identity = null);

    /// <summary>
    /// Every non-directory below <paramref name="dir"/> (regular or not; the caller decides), every
    /// empty directory and every dangling symlink, in ordinal order, following symlinks. Each
    /// directory's (device, inode) is kept while the walk is inside it, so a link to itself or to a
    /// directory above it is found on first sight. A directory reached by two links that are not
    /// cycles is listed under both names. A name that is listed but cannot be looked up (not valid
    /// UTF-8: .NET reads it with U+FFFD) is an error: skipping it lost a file, or a whole subtree.
    /// </summary>
    /// <param name="skip">Subdirectories (full paths) not to enter (a glob's <c>.git/</c> and <c>.kdgat/</c>: nothing below them can match; a code glob's folders stages write).</param>
    /// <param name="cancel">Looked at for each entry listed.</param>
    internal static IReadOnlyList<WalkEntry> Walk(string dir, Func<string, bool>? skip = null, CancellationToken cancel = default)
    {
        // "src/" named itself as the folder above it (GetDirectoryName of "/p/src/" is "/p/src"): a false cycle.
        dir = Path.TrimEndingDirectorySeparator(dir);
        var found = new List<WalkEntry>();
        // The directories above the start count as "above" too: a link to one of them is a cycle
        // at once, instead of a walk through its siblings (or all of '/') until the start recurs.
        var above = new HashSet<(ulong, ulong)>();
        for (var a = Path.GetDirectoryName(Path.GetFullPath(dir)); a is not null; a = Path.GetDirectoryName(a))
            if (PathStat.Of(a) is { Kind: PathKind.Directory, Inode: not 0 } up) above.Add((up.Device, up.Inode));
        Walk(dir, PathStat.Of(dir), above, found, skip, cancel);
        found.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return found;
    }

    private static void Walk(string dir, PathStat stat, HashSet<(ulong, ulong)> above, List<WalkEntry> found, Func<string, bool>? skip, CancellationToken cancel)
    {
        var before = found.Count;
        var id = (stat.Device, stat.Inode);
        if (stat.Inode != 0 && !above.Add(id))
            throw new KdgException(ErrorCodes.SymlinkCycle,
                $"'{dir}' leads back to a directory above it through a symlink (a cycle), so its files never end. Remove the link or point it elsewhere; KdGat follows symlinks inside inputs, outputs and code globs.", dir);
        var names = NoOp.FileObservations.Recording ? new List<string>() : null;
        foreach (var path in new System.IO.Enumeration.FileSystemEnumerable<string>(dir, (ref System.IO.Enumeration.FileSystemEntry e) => e.ToFullPath(), NoOp.FileObservations.OneLevel))
        {
            cancel.ThrowIfCancellationRequested();
            names?.Add(Path.GetFileName(path));
            if (IsGhost(Path.GetFileName(path))) continue;
            var s = PathStat.Of(path); // follows symlinks; tells a FIFO from a file before anything opens it
            if (s.Kind == PathKind.Directory)
            {
                if (skip?.Invoke(path) != true) Walk(path, s, above, found, skip, cancel);
                continue;
            }
            string? target = null;
            if (s.Kind == PathKind.Missing && (target = LinkTargetOf(path)) is null)
            {
                // Listed, yet neither it nor a link by that name is there: deleted while we walked,
                // or a name .NET could not read back (not UTF-8).
                if (path.Contains('\uFFFD')) throw UnreadableName(dir, path);
                continue;
            }
            if (found.Count >= MaxFilesPerWalk)
                throw new KdgException(ErrorCodes.SymlinkCycle,
                    $"'{dir}' holds more than {MaxFilesPerWalk:N0} files (symlinks leading into the same directories many times?). Declare a smaller directory.", dir);
            found.Add(new(path, s.Kind, s.Executable, target, s.Identity));
        }
        if (names is not null) NoOp.FileObservations.Saw(NoOp.FileObservations.Probe.List, dir, NoOp.FileObservations.ListAnswer(names));
        if (found.Count == before) found.Add(new(dir, PathKind.Directory)); // empty (or only ghosts)
        above.Remove(id);
    }

    /// <summary>readlink(2) of a path that stat calls missing: its target when it is a (dangling) symlink, else null.</summary>
    private static string? LinkTargetOf(string path)
    {
        var answer = NoOp.FileObservations.ReadLink(path);
        return answer == "none" ? null : answer[1..];
    }

    private static KdgException UnreadableName(string dir, string path) =>
        new(ErrorCodes.UnusablePathName,
            $"'{dir}' holds an entry whose name is not valid UTF-8 (shown as '{Path.GetFileName(path)}'): it is listed but cannot be looked up by the name .NET reads, so KdGat cannot hash it (a directory by that name would lose all its files). Rename it to a UTF-8 name (e.g. `convmv -f latin1 -t utf8 --notest` or `mv` with a glob), or move it out of the declared directory.", dir);

    internal static KdgException NotContent(string path, PathStat stat) =>
        new(ErrorCodes.NotRegularFile,
            $"'{path}' is a {stat.TypeName}, not a regular file or directory: reading it would block or never end, so KdGat does not hash it. Declare regular files and directories only (remove it, or move it out of the declared directory).", path);

    /// <summary>
    /// Not content: an NFS silly-rename ghost (<see cref="IsNfsSillyName"/>) or a temp file of KdGat's
    /// own writers (<see cref="IO.AtomicFile.IsTempName"/>). Every other name, dotted or not, is hashed:
    /// a stage reads <c>.nfs_extra_capture.csv</c> or <c>.meta.tmp</c> like any file.
    /// </summary>
    internal static bool IsGhost(string name) => IsNfsSillyName(name) || IO.AtomicFile.IsTempName(name);

    /// <summary>
    /// The name Linux's NFS client gives an open file that is deleted (nfs_sillyrename:
    /// <c>".nfs%016llx%08x"</c>, file id and counter): ".nfs" and exactly 24 lowercase hex digits.
    /// It goes away when the last reader closes it and cannot be moved meanwhile.
    /// </summary>
    internal static bool IsNfsSillyName(string name) =>
        name.Length == 28 && name.StartsWith(".nfs", StringComparison.Ordinal) && name.AsSpan(4).IndexOfAnyExcept("0123456789abcdef") < 0;
}
