using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using KdGat.Core.IO;

namespace KdGat.Core.Hashing;

/// <summary>
/// Remembers the hash of a file version so an unchanged large file is never hashed twice.
/// Keyed by (path, size, mtime, ctime, inode, device): a hit may only skip hashing; any difference
/// means "hash again", so a touched file is re-hashed and found unchanged. Persisted as a small
/// text file written atomically; a damaged file is simply an empty cache.
/// <para>
/// Paths under the pipeline root are stored relative to it, so a moved checkout keeps its hits
/// (its files keep inode and ctime) and a cache restored into another clone is read, not discarded
/// (its rows then miss on inode/ctime and are replaced: restored files are new file versions).
/// Every line carries a checksum over its other fields; a line that fails it is ignored (the file
/// is rehashed), never trusted. Rows of files that no longer exist, or not looked up during the
/// last <see cref="KeepGenerations"/> builds that wrote the cache, are dropped on save.
/// </para>
/// <para>
/// Racy rows (git's "racily clean" problem): a file hashed in the same tick of the file system's
/// clock as its last change could be written again in that tick, with the same size, and keep its
/// whole identity (ext4 and NFS servers on older kernels stamp times at 1-10 ms, some NFS servers
/// at 1 s). Such a row would then vouch for content the file no longer has, in every later build.
/// So a row whose file changed at or after the file system's clock as read before the hash, less
/// <see cref="RacyMarginNs"/> (<see cref="FileSystemNow"/>: the ctime of a file created next to the
/// cache file, so the file system's own clock; read at the first hash and again as each stage's job
/// ends, <see cref="Reprobe"/>), is used within this build but never saved: the next build hashes
/// that file again. Nor is it trusted by the end-of-run check (the <c>recheck</c> of HashFile),
/// which reads such a file again. Only ctime counts (a user cannot set it; an mtime from a wrong clock in an archive
/// would make a file racy forever); without statx, mtime. Outputs the commit read after their
/// stage's job ended are the exception (<see cref="Settled"/>).
/// </para>
/// </summary>
internal sealed class HashCache
{
    // v3: rows are saved only when not racy (below); a v2 file may hold racy rows, so it is read as empty (one full re-hash).
    private const string Header = "kdgat-hash-cache v3";
    /// <summary>A row not looked up by this many cache-writing builds is pruned.</summary>
    public const int KeepGenerations = 20;

    /// <param name="Seq">Which fresh hash of this process made the row (0: loaded): <see cref="Settled"/> takes only rows read after a <see cref="Mark"/>.</param>
    /// <param name="HashedAfter">The file system's clock before the read (<see cref="Reprobe"/>); a loaded row was saved settled (long.MaxValue).</param>
    private sealed record Entry(FileIdentity Id, string Hash, long LastUsed, bool Racy = false, long Seq = 0, long HashedAfter = long.MaxValue)
    {
        /// <summary>Read within the margin of its file's last change: a write in that tick may have kept the identity (<see cref="HashFile(string, FileIdentity, CancellationToken, bool)"/>'s recheck).</summary>
        public bool Unsettled => RacyAt(Id.ChangedNs, HashedAfter);
    }

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly string? _file;
    private readonly string? _root;
    /// <summary>This build's generation: one more than the generation of the file loaded.</summary>
    private long _generation = 1;
    private int _dirty;

    /// <param name="file">Where the cache is persisted; null for an in-memory cache.</param>
    /// <param name="verifyAll">-p:VerifyHashes=true: hash every file whatever the cache says.</param>
    /// <param name="root">Paths under it are stored relative to it (the pipeline root).</param>
    /// <param name="fileSystemNow">The file system's clock in ns (tests simulate coarse ones); default <see cref="FileSystemNow"/> next to <paramref name="file"/>.</param>
    public HashCache(string? file = null, bool verifyAll = false, string? root = null, Func<long>? fileSystemNow = null)
    {
        _file = file;
        _fileSystemNow = fileSystemNow ?? (() => FileSystemNow(Path.GetDirectoryName(Path.GetFullPath(file!))!));
        _root = root is null ? null : Path.GetFullPath(root);
        VerifyAll = verifyAll;
        if (file is not null && !verifyAll) Load(file);
    }

    /// <summary>When set (-p:VerifyHashes=true) every file is hashed, whatever the cache says.</summary>
    public bool VerifyAll { get; }

    public int FilesHashed => _filesHashed;
    public long BytesHashed => Interlocked.Read(ref _bytesHashed);
    /// <summary>Lines of the loaded file that were ignored (bad checksum or unparsable).</summary>
    public int DamagedLines { get; private set; }
    private int _filesHashed;
    private long _bytesHashed;

    /// <summary>Hash of a regular file, or null when it does not exist.</summary>
    /// <param name="cancel">Stops a fresh read between its chunks (OperationCanceledException): no row is made of a file not read to its end.</param>
    /// <param name="recheck">The end-of-run check: an <see cref="Entry.Unsettled"/> row is not trusted (<see cref="HashFile(string, FileIdentity, CancellationToken, bool)"/>).</param>
    public string? HashFile(string fullPath, CancellationToken cancel = default, bool recheck = false)
    {
        var id = FileIdentity.Of(fullPath);
        if (id is null) return NoOp.FileObservations.FileExists(fullPath) ? Fresh(fullPath, null, cancel) : null;
        return HashFile(fullPath, id.Value, cancel, recheck);
    }

    /// <summary>Hash of a regular file whose identity the caller has just read (one statx instead of two).</summary>
    /// <param name="recheck">
    /// The end-of-run check (what a stage read, asked again when it ends): a row read within the margin of its file's
    /// last change is read again. On a clock that ticks coarsely (an NFS server's 1 s) a same-size write in the tick of
    /// that read keeps the whole identity, and the row would vouch for bytes the stage did not read (a review: committed
    /// as current). Racy rows are otherwise trusted within the build; only what was changed during it is read twice,
    /// once (read again after <see cref="Reprobe"/>, the row is settled).
    /// </param>
    public string HashFile(string fullPath, FileIdentity id, CancellationToken cancel = default, bool recheck = false)
    {
        // Only an identity statx read (inode and ctime too) can vouch for a row: size and mtime alone
        // would decide by time (no statx: a seccomp filter that refuses it, not Linux; a review).
        if (!VerifyAll && id.IsCheckedRegularFile && _entries.TryGetValue(fullPath, out var hit) && hit.Id == id && !(recheck && hit.Unsettled))
        {
            if (hit.LastUsed != _generation)
            {
                // A row in use but stamped long ago makes this build write, so pruning never takes it.
                if (_generation - hit.LastUsed >= KeepGenerations / 2) Interlocked.Exchange(ref _dirty, 1);
                _entries[fullPath] = hit with { LastUsed = _generation };
            }
            return hit.Hash;
        }
        return Fresh(fullPath, id, cancel);
    }

    /// <summary>
    /// After the output store hard-linked a file this build hashed: the new link changed the
    /// file's ctime (the link count is inode metadata), not its content, and would otherwise make
    /// the next build read every new checkpoint again. The row follows the file only when size,
    /// mtime, inode and device are still the ones hashed (a write changes mtime); anything else
    /// leaves the row as it was, and the next lookup hashes the file again. Called within the
    /// commit, under the stage lock, milliseconds after the hash: only a write that also set the
    /// mtime back to the nanosecond in that window (a deliberate utimensat) would go unseen.
    /// </summary>
    public void Relinked(string fullPath)
    {
        if (!_entries.TryGetValue(fullPath, out var row) || row.LastUsed != _generation) return;
        if (FileIdentity.Of(fullPath) is not { } now || now == row.Id || now with { CtimeNs = row.Id.CtimeNs } != row.Id) return;
        // A row read the margin after the file's last write stays settled: the link's ctime is after the clock, and the
        // end-of-run check read every output the store linked (GBs of checkpoints) once more (Entry.Unsettled).
        _entries[fullPath] = row with { Id = now, HashedAfter = row.Unsettled ? row.HashedAfter : long.MaxValue };
        Interlocked.Exchange(ref _dirty, 1);
    }

    /// <summary>Where the fresh hashes of this process are: a row made later was read after this call.</summary>
    public long Mark() => Interlocked.Read(ref _seq);

    /// <summary>
    /// After the commit hashed an output of a stage whose job has ended (under the stage lock): the
    /// job, the output's writer, is gone, so a row read after <paramref name="jobEnded"/> (a
    /// <see cref="Mark"/> taken then) is saved even though the file changed during the build. A row
    /// read earlier (a hit at commit) stays racy, as does one whose identity changed since. The
    /// one assumption: no process the job left behind writes the output in the tick of that read.
    /// </summary>
    public void Settled(string fullPath, long jobEnded)
    {
        if (!_entries.TryGetValue(fullPath, out var row) || !row.Racy || row.Seq <= jobEnded) return;
        if (FileIdentity.Of(fullPath) != row.Id) return;
        // Trusted by the end-of-run check too (HashedAfter): read again there it would catch nothing this save does not
        // trust for every later build, at the cost of a second read of each final checkpoint (a review).
        _entries[fullPath] = row with { Racy = false, HashedAfter = long.MaxValue };
        Interlocked.Exchange(ref _dirty, 1);
    }

    /// <summary>
    /// A file changed this long before the first hash still counts as racy: slack for a mount
    /// whose clock runs a little behind that of the file system the probe is on (NFS, Lustre).
    /// </summary>
    public const long RacyMarginNs = 2_000_000_000;

    private long _seq;
    private readonly Func<long> _fileSystemNow;
    private long _firstHashAt;
    private volatile bool _probed;
    private readonly object _clockLock = new();
    /// <summary>The file system's clock as last read (<see cref="Reprobe"/>); long.MinValue: never (a cache without a file), every fresh row unsettled.</summary>
    private long _probedAt = long.MinValue;

    /// <summary>The file system's clock at this cache's first hash (read once, before that file is read); unused without a file.</summary>
    private long FirstHashAt()
    {
        if (_probed || _file is null) return _firstHashAt;
        lock (_clockLock)
        {
            if (!_probed) { _firstHashAt = _fileSystemNow(); Interlocked.Exchange(ref _probedAt, _firstHashAt); _probed = true; }
            return _firstHashAt;
        }
    }

    /// <summary>
    /// Reads the file system's clock again (a stage's job has ended: its end-of-run check follows): a row read from now on is
    /// settled when its file changed the margin before, so an upstream output written during the build is read once more at
    /// its first downstream's end, not at every one. One file made and deleted next to the cache file.
    /// </summary>
    public void Reprobe()
    {
        if (_file is null) return;
        FirstHashAt();
        Interlocked.Exchange(ref _probedAt, _fileSystemNow());
    }

    /// <summary>Whether a file changed at <paramref name="changedNs"/> is racy for a read after <paramref name="clock"/> (long.MinValue: unknown, racy).</summary>
    private static bool RacyAt(long changedNs, long clock) => clock == long.MinValue || changedNs >= clock - RacyMarginNs;

    /// <summary>
    /// The file system's clock: the ctime of a file created in <paramref name="dir"/> (then
    /// deleted; its mtime without statx). Where that fails, every row counts as racy
    /// (long.MinValue): the cache could not be written there either.
    /// </summary>
    internal static long FileSystemNow(string dir)
    {
        var probe = Path.Combine(dir, $".clock-{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
        using var _ = NoOp.FileObservations.Pause(); // our own probe file, gone when this returns
        try
        {
            Directory.CreateDirectory(dir);
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write)) { }
            return FileIdentity.Of(probe) is { ChangedNs: > 0 and var changed } ? changed : long.MinValue;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return long.MinValue; }
        finally { try { File.Delete(probe); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } }
    }

    private string Fresh(string fullPath, FileIdentity? before, CancellationToken cancel)
    {
        var seq = Interlocked.Increment(ref _seq);
        FirstHashAt();
        var hashedAfter = Interlocked.Read(ref _probedAt); // before the read: the clock it began after
        var hash = ContentHash.OfFile(fullPath, cancel);
        Interlocked.Increment(ref _filesHashed);
        // Cache only if the file did not change while we read it.
        var after = FileIdentity.Of(fullPath);
        if (before is { IsCheckedRegularFile: true } && after == before)
        {
            // Read the margin after its change: a later write cannot keep the identity, so the row may be saved (git's rule,
            // on the clock as last read, which is at least this cache's first hash). A row read again with the same result
            // keeps the standing it had (a settled output read again by its downstream's end-of-run check).
            var racy = _file is not null && RacyAt(before.Value.ChangedNs, hashedAfter)
                && !(_entries.TryGetValue(fullPath, out var was) && was.Id == before.Value && was.Hash == hash && !was.Racy);
            _entries[fullPath] = new Entry(before.Value, hash, _generation, racy, seq, hashedAfter);
            Interlocked.Exchange(ref _dirty, 1);
            Interlocked.Add(ref _bytesHashed, before.Value.Size);
        }
        return hash;
    }

    /// <summary>
    /// Writes the cache when this build added rows, pruned some, or used a row stamped long ago;
    /// a no-op build that only hit recently stamped rows writes nothing (and so is no generation)
    /// and stats nothing.
    /// </summary>
    public void Save() => Save(dropDeleted: true);

    /// <param name="dropDeleted">Also drop the rows of files that no longer exist, a stat each: after a Ctrl+C they are left
    /// to the next save (at 400,000 rows the stats were seconds of the wait after the cancel; such a row can only miss).</param>
    public void Save(bool dropDeleted)
    {
        if (_file is null) return;
        var keep = new List<KeyValuePair<string, Entry>>(_entries.Count);
        var pruned = false;
        foreach (var e in _entries)
        {
            if (_generation - e.Value.LastUsed >= KeepGenerations) { pruned = true; continue; }
            if (!e.Value.Racy) keep.Add(e);
        }
        if (Volatile.Read(ref _dirty) == 0 && !pruned) return;
        // Rows of deleted files go only when the file is written anyway: a stat per row would be
        // most of a no-op's cost at 7,800 instances, and such a row can only miss.
        if (dropDeleted) keep.RemoveAll(e => !File.Exists(e.Key));

        var sb = new StringBuilder(Header).Append(' ').Append(_generation.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var (path, entry) in keep.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            var body = Body(entry, StoredPath(path));
            sb.Append(Checksum(body)).Append('\t').Append(body).Append('\n');
        }
        // Merge is unnecessary: a concurrent build's lost entries only cost a re-hash.
        AtomicFile.WriteAllText(_file, sb.ToString());
        _dirty = 0;
    }

    private static string Body(Entry e, string storedPath) => string.Join('\t',
        e.LastUsed.ToString(CultureInfo.InvariantCulture), e.Id.Size.ToString(CultureInfo.InvariantCulture),
        e.Id.MtimeNs.ToString(CultureInfo.InvariantCulture), e.Id.CtimeNs.ToString(CultureInfo.InvariantCulture),
        e.Id.Inode.ToString(CultureInfo.InvariantCulture), e.Id.Device.ToString(CultureInfo.InvariantCulture), e.Hash, storedPath);

    /// <summary>16 hex digits over the rest of the line: any flipped character makes the line a miss.</summary>
    internal static string Checksum(string body) => ContentHash.OfText(body)[..16];

    private string StoredPath(string fullPath) =>
        _root is not null && PathText.IsUnder(fullPath, _root) ? PathText.ToStored(_root, fullPath) : fullPath;

    private string FullPath(string stored) =>
        Path.IsPathRooted(stored) ? stored : _root is null ? "" : PathText.FromStored(_root, stored);

    /// <summary>What a cache file says, parsed: all a later build of this process needs when the file's bytes are the same (no row of it is racy).</summary>
    private sealed record LoadedFile(long Generation, KeyValuePair<string, Entry>[] Rows, int DamagedLines);

    /// <summary>Parsed cache files for the next build of a long-lived process (the MSBuild server): 19,200 rows, 3.3 MB at 600 datasets.</summary>
    private static readonly KeptParses<LoadedFile> Kept = new(maxBytes: 16L << 20);

    /// <summary>The largest cache file read (~2.5 million files hashed); a larger one is left alone and everything is hashed again.</summary>
    internal const long MaxFileBytes = 256L << 20;

    private void Load(string file)
    {
        byte[] bytes;
        // Not a FIFO or device in its place (an open would block the build for good), nor a file of any size.
        using var _ = NoOp.FileObservations.Pause(); // it only saves work: what it holds decides nothing
        try { bytes = SmallFile.ReadAllBytes(file, MaxFileBytes); }
        catch (IOException) { return; }
        catch (UnauthorizedAccessException) { return; }
        var key = file + "\n" + _root;
        var content = KeptParses<LoadedFile>.ContentOf(bytes);
        var loaded = Kept.Get(key, content);
        if (loaded is null)
        {
            loaded = Parse(bytes);
            if (loaded is null) return;
            Kept.Keep(key, content, loaded, bytes.Length);
        }
        _generation = loaded.Generation + 1;
        foreach (var row in loaded.Rows) _entries[row.Key] = row.Value;
        DamagedLines = loaded.DamagedLines;
    }

    /// <summary>The longest line read as a row (a path of PATH_MAX and the fields are ~4.2 KB); a longer one is damage, not decoded.</summary>
    private const int MaxLineBytes = 64 << 10;

    /// <summary>
    /// Line by line over the bytes: decoding the whole file, then splitting it, held five copies of a
    /// damaged file's 200 MB line at once (1.1 GB; a hostile-input review).
    /// </summary>
    private LoadedFile? Parse(ReadOnlySpan<byte> bytes)
    {
        var rest = bytes;
        var header = NextLine(ref rest);
        if (header.Length > MaxLineBytes) return null;
        var first = Encoding.UTF8.GetString(header);
        if (!first.StartsWith(Header + " ", StringComparison.Ordinal)
            || !long.TryParse(first.AsSpan(Header.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var generation)) return null;
        var rows = new List<KeyValuePair<string, Entry>>(bytes.Length / 160);
        var damaged = 0;
        while (!rest.IsEmpty) // nothing after the last newline
        {
            var line = NextLine(ref rest);
            if (line.Length <= MaxLineBytes && TryParse(Encoding.UTF8.GetString(line)) is { } row) rows.Add(row);
            else damaged++; // a damaged line is a cache miss, nothing more
        }
        return new LoadedFile(generation, [.. rows], damaged);
    }

    private static ReadOnlySpan<byte> NextLine(ref ReadOnlySpan<byte> rest)
    {
        var end = rest.IndexOf((byte)'\n');
        var line = end < 0 ? rest : rest[..end];
        rest = end < 0 ? [] : rest[(end + 1)..];
        return line;
    }

    private KeyValuePair<string, Entry>? TryParse(string line)
    {
        var tab = line.IndexOf('\t');
        if (tab < 0 || line[..tab] != Checksum(line[(tab + 1)..])) return null;
        var f = line[(tab + 1)..].Split('\t', 8);
        if (f.Length != 8 || f[6].Length != 32) return null;
        if (!long.TryParse(f[0], out var used) || !long.TryParse(f[1], out var size) || !long.TryParse(f[2], out var m)
            || !long.TryParse(f[3], out var c) || !ulong.TryParse(f[4], out var ino) || !ulong.TryParse(f[5], out var dev)) return null;
        var path = FullPath(f[7]);
        if (path.Length == 0) return null;
        return new(path, new Entry(new FileIdentity(size, m, c, ino, dev), f[6], used));
    }
}
