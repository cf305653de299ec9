using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;
using KdGat.Testing;

namespace KdGat.Core.Tests.Hashing;

[Trait("Category", "Unit")]
public sealed class PathHasherTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly PathHasher _hasher = new(new HashCache());
    public void Dispose() => _dir.Dispose();

    private static readonly (string Path, string Content)[] Files =
    [
        ("a.txt", "alpha"),
        ("b.txt", "beta"),
        ("sub/c.txt", "gamma"),
        ("sub/deeper/d.bin", "delta"),
    ];

    private string MakeTree(string name, IEnumerable<(string Path, string Content)> files)
    {
        foreach (var (p, c) in files) _dir.Write($"{name}/{p}", c);
        return _dir[name];
    }

    private string HashOf(string path) => _hasher.Hash(path)!.Hash;

    /// <summary>
    /// A walk hands over each file's identity from its own statx: noting a large upstream output, or an input, by identity
    /// as a run starts and ends (KDG3017, KDG3020) statted every file twice (151 ms instead of 79 for 20,000 files).
    /// </summary>
    [Fact]
    public void Walk_GivesEachFileTheIdentityOfItsOwnStat()
    {
        var tree = MakeTree("t", Files);
        File.CreateSymbolicLink(_dir["t/dangling"], "nowhere");

        var entries = PathHasher.Walk(tree);

        Assert.Equal(Files.Length, entries.Count(e => e.Identity is not null));
        Assert.All(entries.Where(e => e.Kind == PathKind.File), e => Assert.Equal(FileIdentity.Of(e.Path), e.Identity));
        Assert.Null(Assert.Single(entries, e => e.Kind == PathKind.Missing).Identity);
    }

    [Fact]
    public void Hash_File_IsContentHashAndSize()
    {
        var f = _dir.Write("f.txt", "abc");

        var r = _hasher.Hash(f)!;

        Assert.Equal("06b05ab6733a618578af5f94892f3950", r.Hash);
        Assert.Equal(3, r.Size);
        Assert.False(r.IsDirectory);
    }

    [Fact]
    public void Hash_MissingPath_IsNull() => Assert.Null(_hasher.Hash(_dir["nope"]));

    [Fact]
    public void Hash_Directory_IndependentOfCreationOrder()
    {
        var forward = MakeTree("one", Files);
        var backward = MakeTree("two", Files.Reverse());

        var r = _hasher.Hash(forward)!;

        Assert.True(r.IsDirectory);
        Assert.Equal(5 + 4 + 5 + 5, r.Size);
        Assert.Equal(r.Hash, HashOf(backward));
    }

    [Fact]
    public void Hash_LargeDirectoryHashedInParallel_IsTheOrderedDigestOfItsFiles()
    {
        // Over the parallel threshold (64 MiB): files are hashed on several threads, the digest must not notice.
        var dir = _dir["big"];
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        var names = new[] { "a.ckpt", "b.ckpt", "sub/c.ckpt", "sub/d.ckpt" };
        var rng = new Random(7);
        foreach (var n in names)
        {
            var bytes = new byte[20 << 20];
            rng.NextBytes(bytes);
            File.WriteAllBytes(Path.Combine(dir, n), bytes);
        }

        var r = _hasher.Hash(dir)!;

        var expected = ContentHash.OfEntries(names.Select(n => new KeyValuePair<string, string>(n, ContentHash.OfFile(Path.Combine(dir, n)))));
        Assert.Equal(expected, r.Hash);
        Assert.Equal(80L << 20, r.Size);
    }

    [Fact]
    public void Hash_Directory_IndependentOfMtimes()
    {
        var dir = MakeTree("t", Files);
        var before = HashOf(dir);

        File.SetLastWriteTimeUtc(Path.Combine(dir, "a.txt"), new DateTime(1999, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        File.SetLastWriteTimeUtc(Path.Combine(dir, "sub/c.txt"), DateTime.UtcNow.AddYears(5));
        Directory.SetLastWriteTimeUtc(Path.Combine(dir, "sub"), new DateTime(2040, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        Assert.Equal(before, HashOf(dir));
        Assert.Equal(before, new PathHasher(new HashCache()).Hash(dir)!.Hash); // and with a cold cache
    }

    [Fact]
    public void Hash_Directory_ChangesWhenAFileChanges()
    {
        var dir = MakeTree("t", Files);
        var before = HashOf(dir);

        File.WriteAllText(Path.Combine(dir, "sub/c.txt"), "gammA");

        Assert.NotEqual(before, HashOf(dir));
    }

    [Fact]
    public void Hash_Directory_ChangesWhenAFileIsRenamed()
    {
        var dir = MakeTree("t", Files);
        var before = HashOf(dir);

        File.Move(Path.Combine(dir, "b.txt"), Path.Combine(dir, "b2.txt"));

        Assert.NotEqual(before, HashOf(dir));
    }

    [Fact]
    public void Hash_Directory_ChangesWhenAFileMovesToAnotherSubdirectory()
    {
        var dir = MakeTree("t", Files);
        var before = HashOf(dir);

        File.Move(Path.Combine(dir, "sub/c.txt"), Path.Combine(dir, "sub/deeper/c.txt"));

        Assert.NotEqual(before, HashOf(dir));
    }

    [Fact]
    public void Hash_Directory_ChangesWhenAnEmptyFileIsAdded()
    {
        var dir = MakeTree("t", Files);
        var before = HashOf(dir);

        File.WriteAllText(Path.Combine(dir, "sub/new.txt"), "");

        Assert.NotEqual(before, HashOf(dir));
    }

    [Fact]
    public void Hash_Directory_CountsHiddenDotFiles()
    {
        var dir = MakeTree("t", Files);
        var before = HashOf(dir);

        File.WriteAllText(Path.Combine(dir, ".hidden"), "x");

        Assert.NotEqual(before, HashOf(dir));
    }

    [Theory]
    [InlineData(".nfs0000000000a1b2c300000001")]
    [InlineData("sub/.nfs00000000001234ab0000002a")]
    [InlineData(".a.txt.4242.0123456789abcdef0123456789abcdef.tmp")]
    [InlineData("sub/.c.txt.node-1-4242.0123456789abcdef0123456789abcdef.tmp")]
    public void Hash_Directory_IgnoresNfsGhostsAndTempFiles(string ghost)
    {
        var dir = MakeTree("t", Files);
        var before = HashOf(dir);

        File.WriteAllText(Path.Combine(dir, ghost), "not content");

        Assert.Equal(before, HashOf(dir));
    }

    /// <summary>
    /// Names that only look like ghosts are content, and so is everything below such a folder: a
    /// stage that reads `.nfs_extra_capture.csv` or its own `.meta.tmp` stayed up to date when they
    /// changed, even with VerifyHashes, while a build from scratch read the new bytes (found by review).
    /// </summary>
    [Theory]
    [InlineData(".nfs_extra_capture.csv")]
    [InlineData(".nfs1234")]
    [InlineData(".nfs0000000000A1B2C300000001")]   // uppercase: not what Linux writes
    [InlineData(".nfs0000000000a1b2c3000000011")]  // 25 hex digits
    [InlineData("sub/.meta.tmp")]
    [InlineData(".c.txt.1.2.tmp")]
    [InlineData(".nfs_cache/part-0.csv")]            // a whole subtree
    [InlineData(".scratch.tmp/part-0.csv")]
    public void Hash_Directory_NamesThatOnlyLookLikeGhosts_AreContent(string name)
    {
        var dir = MakeTree("t", Files);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, name))!);
        File.WriteAllText(Path.Combine(dir, name), "v1");
        var before = HashOf(dir);

        File.WriteAllText(Path.Combine(dir, name), "v2, another size"); // not a racy same-size rewrite the cache may still vouch for

        Assert.NotEqual(before, HashOf(dir));
    }

    [Fact]
    public void Hash_Directory_EmptySubdirectoryCounts()
    {
        // A stage may test for the directory (mkdir emptydir left it up to date): an empty
        // directory has an entry; non-empty ones are implied by their files (see TreeShapeHashTests).
        var dir = MakeTree("t", Files);
        var before = HashOf(dir);

        Directory.CreateDirectory(Path.Combine(dir, "empty"));

        Assert.NotEqual(before, HashOf(dir));
    }

    [Fact]
    public void Hash_Directory_DiffersFromSingleFileWithSameContent()
    {
        var dir = MakeTree("t", [("x", "abc")]);
        var file = _dir.Write("x", "abc");

        Assert.NotEqual(HashOf(file), HashOf(dir));
    }

    [Fact]
    public void EnumerateContentFiles_IsOrdinalSortedAndSkipsGhosts()
    {
        var dir = MakeTree("t", [("b", "1"), ("B", "2"), ("a/z", "3"), (".nfs0000000000a1b2c300000001", "4"), (".b.1.0123456789abcdef0123456789abcdef.tmp", "5"), (".meta.tmp", "6")]);

        var rel = PathHasher.EnumerateContentFiles(dir).Select(f => Path.GetRelativePath(dir, f)).ToArray();

        Assert.Equal([".meta.tmp", "B", "a/z", "b"], rel);
    }

    /// <summary>
    /// Ctrl+C while a large input directory is hashed stops the hash before its next file (it read all
    /// 200,000 files first, 18 s; a review): an OperationCanceledException, no digest, and no hash cache
    /// row for a file it did not read to its end. The cancel comes as the first file's read begins (the
    /// cache's file-system clock is read just before it); the next hash reads everything and gives the same digest.
    /// </summary>
    [Fact]
    public void ACancel_StopsADirectorysHash_BeforeItsNextFile_AndSavesNoRowOfIt()
    {
        var tree = MakeTree("big", Enumerable.Range(0, 40).Select(i => ($"f{i:D2}.bin", new string('x', 300 + i))));
        var cacheFile = _dir["hash-cache"];
        using var cts = new CancellationTokenSource();
        var cache = new HashCache(cacheFile, fileSystemNow: () => { cts.Cancel(); return FileSystemClock.LongAfterEveryWrite(); });

        Assert.Throws<OperationCanceledException>(() => new PathHasher(cache, cts.Token).Hash(tree));

        Assert.Equal(0, cache.FilesHashed); // was 40: every file read after the cancel
        cache.Save();
        Assert.False(File.Exists(cacheFile)); // nothing to save: no row was made
        var again = new HashCache(cacheFile, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        Assert.Equal(HashOf(tree), new PathHasher(again, CancellationToken.None).Hash(tree)!.Hash);
        Assert.Equal(40, again.FilesHashed);
    }

    /// <summary>
    /// A large directory is hashed on threads of its own, never the thread pool's: Parallel.For took the pool's
    /// threads (both, on two cores), and MSBuild hands a Ctrl+C on to the running task through the pool, so the
    /// cancel waited 3.6-4.6 s for a thread while the hash went on. Every file still gets hashed, each once.
    /// </summary>
    [Fact]
    public void ALargeDirectorysHash_RunsOnNoThreadPoolThread()
    {
        var onPool = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>(); // thread -> a pool thread
        var done = new int[200];
        using var second = new ManualResetEventSlim();
        var caller = new Thread(() => PathHasher.OnEveryCore(done.Length, i =>
        {
            onPool[Environment.CurrentManagedThreadId] = Thread.CurrentThread.IsThreadPoolThread;
            if (onPool.Count > 1) second.Set();
            if (i == 0) second.Wait(TimeSpan.FromSeconds(10)); // the first file waits for a second thread to start
            Thread.Sleep(1);
            Interlocked.Increment(ref done[i]);
        }));
        caller.Start();
        caller.Join();

        Assert.All(done, n => Assert.Equal(1, n));
        if (Environment.ProcessorCount > 1) Assert.True(onPool.Count > 1, "one thread hashed it all"); // was so while the test host held the pool's threads
        Assert.DoesNotContain(true, onPool.Values); // was half of it, on a pool thread, when one was free
    }

    [Fact]
    public void ALargeDirectorysHash_FailsWithTheFirstFilesOwnError()
    {
        var e = Assert.Throws<IOException>(() => PathHasher.OnEveryCore(100, i => { if (i == 37) throw new IOException("file 37"); }));
        Assert.Equal("file 37", e.Message);
    }
}
