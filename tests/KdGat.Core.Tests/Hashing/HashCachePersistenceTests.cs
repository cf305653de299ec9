using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;
using KdGat.Testing;

namespace KdGat.Core.Tests.Hashing;

/// <summary>The persisted hash cache: line checksums, root-relative keys, pruning.</summary>
[Trait("Category", "Unit")]
public sealed class HashCachePersistenceTests : IDisposable
{
    private const string AbcHash = "06b05ab6733a618578af5f94892f3950";
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    /// <summary>A data file hashed ("abc") and the cache file a build saved with its row.</summary>
    private (string File, string Cache) SavedCacheOfOneFile()
    {
        var f = _dir.Write("repo/data/f.txt", "abc");
        var file = _dir["repo/.kdgat/hash-cache.tsv"];
        var first = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        first.HashFile(f);
        first.Save();
        return (f, file);
    }

    [Fact]
    public void Load_LineWithCorruptedHash_IsIgnoredAndTheFileRehashed()
    {
        var (f, file) = SavedCacheOfOneFile();
        // A flipped hash that still looks like a hash: the identity fields all still match.
        File.WriteAllText(file, File.ReadAllText(file).Replace(AbcHash, "16b05ab6733a618578af5f94892f3950"));

        var second = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        var h = second.HashFile(f);

        Assert.Equal(AbcHash, h);
        Assert.Equal(1, second.FilesHashed);
        Assert.Equal(1, second.DamagedLines);
    }

    /// <summary>
    /// A long-lived process (MSBuild server) keeps the parse of a cache file for its next build, but
    /// only for the same bytes: a file rewritten in place between two builds with its size and
    /// mtime put back (the same identity on a file system with coarse ctimes) is parsed anew.
    /// </summary>
    [Fact]
    public void Load_FileRewrittenWithTheSameIdentity_IsParsedAnew()
    {
        var (f, file) = SavedCacheOfOneFile();
        var loaded = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        Assert.Equal(AbcHash, loaded.HashFile(f));
        Assert.Equal(0, loaded.FilesHashed);

        var mtime = File.GetLastWriteTimeUtc(file);
        var flipped = System.Text.Encoding.UTF8.GetBytes(File.ReadAllText(file).Replace(AbcHash, "16b05ab6733a618578af5f94892f3950"));
        using (var w = new FileStream(file, FileMode.Open, FileAccess.Write)) w.Write(flipped);
        File.SetLastWriteTimeUtc(file, mtime);

        var again = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        Assert.Equal(1, again.DamagedLines);
        Assert.Equal(AbcHash, again.HashFile(f));
        Assert.Equal(1, again.FilesHashed);
    }

    /// <summary>
    /// A FIFO in the cache file's place blocked the plan for good (its open waits for a writer): now it
    /// is no cache. The save refuses to replace it (the build warns, best effort) rather than remove
    /// what the user put there.
    /// </summary>
    [Fact]
    public async Task Load_AFifoInItsPlace_IsNoCache()
    {
        var f = _dir.Write("f.txt", "abc");
        var file = _dir["cache.tsv"];
        Assert.Equal(0, Sh.Run("mkfifo cache.tsv", _dir.Path).ExitCode);

        var c = await Task.Run(() => new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite)).WaitAsync(TimeSpan.FromSeconds(60)); // TimeoutException: it blocked
        Assert.Equal(AbcHash, c.HashFile(f));
        Assert.Equal(1, c.FilesHashed);
        Assert.Contains("FIFO", Assert.Throws<IOException>(c.Save).Message);
    }

    /// <summary>
    /// A damaged cache file with a huge line (200 MB took the build to 1.1 GB): that line is one damaged
    /// line, not decoded, and the rows after it still count.
    /// </summary>
    [Fact]
    public void Load_AHugeLineBetweenRows_IsOneDamagedLine_AndTheRowAfterItIsKept()
    {
        var (f, file) = SavedCacheOfOneFile();
        var lines = File.ReadAllLines(file);
        File.WriteAllLines(file, [lines[0], new string('x', 1 << 20), .. lines[1..]]);

        var loaded = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);

        Assert.Equal(1, loaded.DamagedLines);
        Assert.Equal(AbcHash, loaded.HashFile(f));
        Assert.Equal(0, loaded.FilesHashed);
    }

    [Fact]
    public void Load_LineWithCorruptedIdentity_IsIgnored()
    {
        var f = _dir.Write("f.txt", "abc");
        var file = _dir["cache.tsv"];
        var c = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        c.HashFile(f);
        c.Save();
        var lines = File.ReadAllLines(file);
        var fields = lines[1].Split('\t');
        fields[2] = "4"; // size, as if a byte of the line flipped
        lines[1] = string.Join('\t', fields);
        File.WriteAllLines(file, lines);

        Assert.Equal(1, new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite).DamagedLines);
    }

    [Fact]
    public void Save_PathUnderRoot_IsStoredRelative_AndAMovedCheckoutStillHits()
    {
        var before = _dir["a/repo"];
        var f = _dir.Write("a/repo/data/f.txt", "abc");
        var outside = _dir.Write("elsewhere/g.txt", "def");
        var cache = new HashCache(Path.Combine(before, ".kdgat", "hash-cache.tsv"), root: before, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        cache.HashFile(f);
        cache.HashFile(outside);
        cache.Save();
        var lines = File.ReadAllLines(Path.Combine(before, ".kdgat", "hash-cache.tsv"));
        Assert.Contains(lines, l => l.EndsWith("\tdata/f.txt", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith("\t" + outside, StringComparison.Ordinal));

        var after = _dir["b/moved"];
        Directory.CreateDirectory(_dir["b"]);
        Directory.Move(before, after); // a rename keeps every file's inode and ctime
        var moved = new HashCache(Path.Combine(after, ".kdgat", "hash-cache.tsv"), root: after, fileSystemNow: FileSystemClock.LongAfterEveryWrite);

        Assert.Equal(AbcHash, moved.HashFile(Path.Combine(after, "data", "f.txt")));
        Assert.Equal(0, moved.FilesHashed);
    }

    [Fact]
    public void Save_RowNotLookedUpForKeepGenerationsBuilds_IsPruned_UsedRowsStay()
    {
        var used = _dir.Write("used.txt", "abc");
        var unused = _dir.Write("unused.txt", "def");
        var file = _dir["cache.tsv"];
        var first = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        first.HashFile(used);
        first.HashFile(unused);
        first.Save();

        for (var build = 0; build < HashCache.KeepGenerations; build++)
        {
            var c = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
            c.HashFile(used);
            c.HashFile(_dir.Write($"new-{build}.txt", $"file {build}")); // something new, so the build writes
            c.Save();
        }

        var text = File.ReadAllText(file);
        Assert.Contains("\t" + used + "\n", text);
        Assert.DoesNotContain("\t" + unused + "\n", text);
        Assert.Contains("\t" + _dir["new-0.txt"] + "\n", text); // looked up KeepGenerations - 1 writing builds ago
        var last = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        Assert.Equal(AbcHash, last.HashFile(used));
        Assert.Equal(0, last.FilesHashed);
    }

    [Fact]
    public void Save_OnlyRecentHits_WritesNothing()
    {
        var f = _dir.Write("f.txt", "abc");
        var file = _dir["cache.tsv"];
        var first = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        first.HashFile(f);
        first.Save();
        var written = File.ReadAllText(file);

        var noop = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        noop.HashFile(f);
        File.WriteAllText(file, written + "\n"); // a marker: a save would replace it
        noop.Save();

        Assert.Equal(written + "\n", File.ReadAllText(file));
    }

    /// <summary>
    /// The save after a Ctrl+C stats no row (at 400,000 rows those stats were seconds of the wait after the
    /// cancel): a row of a file deleted since stays, and the next full save drops it.
    /// </summary>
    [Fact]
    public void ASaveAfterACancel_LeavesTheRowsOfDeletedFiles_ToTheNextSave()
    {
        var f = _dir.Write("repo/data/f.txt", "abc");
        var g = _dir.Write("repo/data/g.txt", "xyz");
        var file = _dir["repo/.kdgat/hash-cache.tsv"];
        var cancelled = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        cancelled.HashFile(f);
        cancelled.HashFile(g);
        File.Delete(g);

        cancelled.Save(dropDeleted: false);
        Assert.Equal(2, File.ReadAllLines(file).Length - 1); // was 1: g's row dropped after a stat of each row

        var next = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        next.HashFile(_dir.Write("repo/data/h.txt", "new"));
        next.Save();
        Assert.Equal(2, File.ReadAllLines(file).Length - 1); // f and h
        Assert.DoesNotContain(File.ReadAllLines(file), l => l.EndsWith("g.txt", StringComparison.Ordinal));
    }
}
