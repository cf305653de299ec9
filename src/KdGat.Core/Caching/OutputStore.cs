using System.Globalization;
using System.Text.Json;
using KdGat.Core.Execution;
using KdGat.Core.Hashing;
using KdGat.Core.IO;
using KdGat.Core.Manifests;

namespace KdGat.Core.Caching;

/// <summary>
/// A content-addressed store of stage outputs keyed by fingerprint, shareable between clones,
/// workflows and users (e.g. on scratch). Layout: entries/{fp[0..2]}/{fp}/{entry.json, o0, o1, ...,
/// last-used}, tmp/, trash/. An entry appears by one rename of a complete directory and disappears
/// by one rename into trash/, so a reader never sees a partial entry; what it restores it still
/// verifies by hash, because a hard-linked output edited in place would change the entry too.
/// A read-only store (KDGAT_CACHE_READONLY=1, for pull-request jobs) is only ever read: no insert,
/// no last-use mark, no eviction of a damaged entry (it is skipped instead).
/// </summary>
internal sealed class OutputStore
{
    public OutputStore(string root, bool readOnly = false)
    {
        Root = Path.GetFullPath(root);
        ReadOnly = readOnly;
    }

    public string Root { get; }
    public bool ReadOnly { get; }
    /// <summary>Stamps entries' creation and last use (the build's clock).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
    private string EntriesDir => Path.Combine(Root, "entries");
    private string TmpDir => Path.Combine(Root, "tmp");
    private string TrashDir => Path.Combine(Root, "trash");
    private string EntryDir(string fingerprint) => Path.Combine(EntriesDir, fingerprint[..2], fingerprint);

    /// <summary>The entry for this fingerprint, or null (absent, or its entry.json is unreadable).</summary>
    public StoreEntry? Find(string fingerprint)
    {
        var dir = EntryDir(fingerprint);
        var json = Path.Combine(dir, "entry.json");
        try
        {
            var e = JsonSerializer.Deserialize(SmallFile.ReadAllBytes(json), StoreJson.Default.StoreEntry);
            return e is null || e.Fingerprint != fingerprint ? null : e with { Dir = dir };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException) { return null; }
    }

    /// <summary>
    /// Adds the outputs of a successful run of a stage declaring <paramref name="declared"/>. False
    /// when an entry already exists (another build won the race). An existing entry that cannot be
    /// restored for these declared outputs (made before an output was declared or dropped, or by an
    /// older KdGat) is replaced, so it does not turn every later build's restore into a miss.
    /// </summary>
    /// <param name="runDir">The stage's run dir: a link in the outputs to a file there that is not one of them is stored as that file's content (<see cref="HardLink.LinkOrCopy"/>).</param>
    /// <param name="cancel">Stops the insert between files (OperationCanceledException; 150,000 of them took 39 s): the part made stays
    /// in tmp/, where no lookup looks, for <see cref="Collect"/> (deleting it would be a wait of its own); a later insert makes the entry anew.</param>
    public bool Insert(string fingerprint, string stage, string dataset, IReadOnlyList<string> sources, IReadOnlyList<OutputRecord> outputs, string outputsDigest,
        IReadOnlyList<DeclaredOutput>? declared = null, string? runDir = null, CancellationToken cancel = default)
    {
        var final = EntryDir(fingerprint);
        if (ReadOnly) return false;
        if (Directory.Exists(final))
        {
            if (declared is null || Find(fingerprint) is not { } old || old.DeclaresSame(declared)) return false;
            Evict(fingerprint);
        }
        var tmp = Path.Combine(TmpDir, $"{fingerprint}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tmp);
        var cancelled = false;
        try
        {
            var entry = new StoreEntry { Fingerprint = fingerprint, Stage = stage, Dataset = dataset, Outputs = outputs, Declared = declared, OutputsDigest = outputsDigest, CreatedUtc = Time.GetUtcNow(), Dir = tmp };
            // Each as written and with its links resolved: a link's target is a physical path (getcwd's, os.path.abspath's)
            // where the run dir may be reached through a link (runs -> /scratch/runs; a review of this check).
            // (The folder's links only: an output that is itself a link would resolve to the very file it points to.)
            static string[] BothForms(string p)
            {
                var full = Path.GetFullPath(p).TrimEnd('/');
                return IO.PathText.RealPath(Path.GetDirectoryName(full)!) is { } dir && Path.Combine(dir, Path.GetFileName(full)) is var real && real != full ? [full, real] : [full];
            }
            var outputForms = sources.SelectMany(BothForms).ToArray();
            var runDirForms = runDir is null ? [] : BothForms(runDir);
            Func<string, bool>? undeclared = runDir is null ? null
                : target => runDirForms.Any(r => IO.PathText.IsUnder(target, r)) && !outputForms.Any(o => IO.PathText.IsUnder(target, o));
            for (var i = 0; i < sources.Count; i++) HardLink.LinkOrCopy(sources[i], entry.Payload(i), undeclared, cancel);
            cancel.ThrowIfCancellationRequested(); // nothing is moved into entries/ after a cancel
            AtomicFile.WriteAllBytes(Path.Combine(tmp, "entry.json"), JsonSerializer.SerializeToUtf8Bytes(entry, StoreJson.Default.StoreEntry));
            WriteLastUsed(tmp, entry.CreatedUtc);
            Directory.CreateDirectory(Path.GetDirectoryName(final)!);
            Directory.Move(tmp, final);
            return true;
        }
        catch (OperationCanceledException)
        {
            cancelled = true;
            throw;
        }
        catch (IOException) when (Directory.Exists(final))
        {
            return false;
        }
        finally
        {
            if (!cancelled && Directory.Exists(tmp)) FileMover.Delete(tmp);
        }
    }

    /// <summary>Places output i of the entry at target (which must not exist).</summary>
    /// <param name="cancel">Looked at per file and per 1 MiB copied (a restore of GBs of checkpoints waited for all of it): what was
    /// placed before the OperationCanceledException stays at target, for the caller's rollback (<see cref="OutputGuard"/>).</param>
    public static void Materialize(StoreEntry entry, int index, string target, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        IO.CrashPoints.Hit("link", target);
        HardLink.LinkOrCopy(entry.Payload(index), target, cancel: cancel);
    }

    /// <summary>
    /// The one check that bytes match an entry: each output hashed afresh (every byte read, no hash
    /// cache) against the entry's record. Without <paramref name="materialized"/> it checks the
    /// entry's own payload; with it, the copies of output i placed at materialized[i] (what a
    /// restored stage's consumers will read: a copy, or a link someone may have edited since).
    /// </summary>
    /// <param name="cancel">Looked at per file and per 1 MiB read (<see cref="PathHasher"/>): an OperationCanceledException, no answer.</param>
    public static bool Verify(StoreEntry entry, IReadOnlyList<string>? materialized = null, CancellationToken cancel = default)
    {
        if (materialized is not null && materialized.Count != entry.Outputs.Count) return false;
        var hasher = new PathHasher(new HashCache(file: null, verifyAll: true), cancel);
        for (var i = 0; i < entry.Outputs.Count; i++)
            if (hasher.Hash(materialized?[i] ?? entry.Payload(i))?.Hash != entry.Outputs[i].Hash) return false;
        return true;
    }

    /// <summary>Removes an entry: one rename out of entries/, then delete at leisure. Read-only: nothing.</summary>
    /// <returns>False when the entry could not be moved out (a store this user may not write): it stays.</returns>
    public bool Evict(string fingerprint)
    {
        if (ReadOnly) return false;
        var dir = EntryDir(fingerprint);
        var trash = Path.Combine(TrashDir, $"{fingerprint}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(TrashDir);
            Directory.Move(dir, trash);
        }
        catch (DirectoryNotFoundException) { return true; }
        catch (IOException) when (!Directory.Exists(dir)) { return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        try { FileMover.Delete(trash); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return true;
    }

    /// <summary>Marks a use, for least-recently-used collection. Not used for any staleness decision.</summary>
    public void Touch(StoreEntry entry)
    {
        if (ReadOnly) return;
        try { WriteLastUsed(entry.Dir, Time.GetUtcNow()); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void WriteLastUsed(string dir, DateTimeOffset when) =>
        AtomicFile.WriteAllText(Path.Combine(dir, "last-used"), when.UtcTicks.ToString(CultureInfo.InvariantCulture));

    private static DateTimeOffset LastUsed(StoreEntry e)
    {
        // Bounded and never a FIFO's endless open: a store may be shared, and one user's FIFO hung everyone's CacheGc (a review).
        try { return new DateTimeOffset(long.Parse(SmallFile.ReadAllText(Path.Combine(e.Dir, "last-used"), 4096).Trim(), CultureInfo.InvariantCulture), TimeSpan.Zero); }
        catch (Exception ex) when (ex is IOException or FormatException or OverflowException or UnauthorizedAccessException) { return e.CreatedUtc; }
    }

    /// <param name="Kept">Entries due to go that this user may not remove (another member's, made under umask 022): they stay and count in the totals after.</param>
    public sealed record GcResult(int EntriesBefore, long BytesBefore, int Evicted, long BytesFreed, int EntriesAfter, long BytesAfter, IReadOnlyList<string> Kept);

    /// <summary>
    /// Trims the store: entries unused for longer than maxAge go, then least recently used ones
    /// until the total is at most maxBytes. Leftovers of crashed inserts (tmp/, trash/) go too.
    /// </summary>
    public GcResult Collect(long? maxBytes, TimeSpan? maxAge, DateTimeOffset now)
    {
        foreach (var leftover in new[] { TmpDir, TrashDir }.Where(Directory.Exists).SelectMany(Directory.EnumerateDirectories))
            if (Directory.GetLastWriteTimeUtc(leftover) < now.UtcDateTime.AddHours(-1)) // an insert may be in progress
                try { FileMover.Delete(leftover); } catch (IOException) { }

        var entries = All().Select(e => (Entry: e, Used: LastUsed(e))).OrderBy(x => x.Used).ToList();
        var before = (entries.Count, entries.Sum(x => x.Entry.Bytes));
        long total = before.Item2, freed = 0;
        var evicted = 0;
        var kept = new List<string>();
        foreach (var (e, used) in entries)
        {
            var tooOld = maxAge is { } age && now - used > age;
            var tooBig = maxBytes is { } max && total > max;
            if (!tooOld && !tooBig) continue;
            // Counted as evicted though it stayed: CacheGc reported space freed that was not (a shared store's review).
            if (!Evict(e.Fingerprint)) { kept.Add(e.Dir); continue; }
            total -= e.Bytes;
            freed += e.Bytes;
            evicted++;
        }
        return new GcResult(before.Count, before.Item2, evicted, freed, before.Count - evicted, total, kept);
    }

    public IEnumerable<StoreEntry> All()
    {
        if (!Directory.Exists(EntriesDir)) yield break;
        foreach (var shard in Directory.EnumerateDirectories(EntriesDir))
            foreach (var dir in Directory.EnumerateDirectories(shard))
                if (Find(Path.GetFileName(dir)) is { } e) yield return e;
    }
}
