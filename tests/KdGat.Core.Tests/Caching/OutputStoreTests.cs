using KdGat.Core.Caching;
using KdGat.Core.Hashing;
using KdGat.Core.Manifests;
using KdGat.Core.Tests.Support;
using Xunit;

namespace KdGat.Core.Tests.Caching;

[Trait("Category", "Unit")]
public sealed class OutputStoreTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private static readonly string Fp = new('a', 32);

    private (string[] Sources, OutputRecord[] Records) Outputs(string tag, string content = "weights")
    {
        var file = _tmp.Write($"{tag}/run/model.ckpt", content);
        _tmp.Write($"{tag}/run/graphs/part-0.bin", content + "-graph");
        var dir = _tmp[$"{tag}/run/graphs"];
        var hasher = new PathHasher(new HashCache());
        var f = hasher.Hash(file)!;
        var d = hasher.Hash(dir)!;
        return ([file, dir], [new("run/model.ckpt", f.Hash, f.Size, false), new("run/graphs", d.Hash, d.Size, true)]);
    }

    [Fact]
    public void Insert_ThenFind_ReturnsAVerifiedEntry_AndMaterializeReproducesTheBytes()
    {
        var store = new OutputStore(_tmp["store"]);
        var (sources, records) = Outputs("one");
        Assert.True(store.Insert(Fp, "gat", "hcrl_sa", sources, records, "digest"));

        var entry = store.Find(Fp);
        Assert.NotNull(entry);
        Assert.Equal(records, entry!.Outputs);
        Assert.True(OutputStore.Verify(entry));

        OutputStore.Materialize(entry, 0, _tmp["restored/model.ckpt"]);
        OutputStore.Materialize(entry, 1, _tmp["restored/graphs"]);
        Assert.Equal("weights", File.ReadAllText(_tmp["restored/model.ckpt"]));
        Assert.Equal("weights-graph", File.ReadAllText(_tmp["restored/graphs/part-0.bin"]));
    }

    /// <summary>
    /// A symbolic link inside an output comes back as the same link: one to a directory came back
    /// as a real directory of hard links to what it pointed to, where a from-scratch run has the link
    /// (found by review). Same content and digest either way; now the same tree too.
    /// </summary>
    [Fact]
    public void ASymlinkInsideAnOutput_IsRestoredAsTheSameLink()
    {
        var store = new OutputStore(_tmp["store"]);
        _tmp.Write("data/raw/frames.csv", "frames");
        _tmp.Write("run/out/model.ckpt", "weights");
        Directory.CreateSymbolicLink(_tmp["run/out/rawlink"], _tmp["data/raw"]);
        File.CreateSymbolicLink(_tmp["run/out/latest"], "model.ckpt");
        var h = new PathHasher(new HashCache()).Hash(_tmp["run/out"])!;
        Assert.True(store.Insert(Fp, "s", "d1", [_tmp["run/out"]], [new("run/out", h.Hash, h.Size, true)], "digest", runDir: _tmp["run"]));

        var entry = store.Find(Fp)!;
        OutputStore.Materialize(entry, 0, _tmp["restored/out"]);

        Assert.Equal(_tmp["data/raw"], new DirectoryInfo(_tmp["restored/out/rawlink"]).LinkTarget);
        Assert.Equal("model.ckpt", new FileInfo(_tmp["restored/out/latest"]).LinkTarget);
        Assert.True(OutputStore.Verify(entry, [_tmp["restored/out"]]));
        Assert.Equal(_tmp["data/raw"], new DirectoryInfo(Path.Combine(entry.Payload(0), "rawlink")).LinkTarget); // the store holds the link, not the data
    }

    /// <summary>
    /// A link to a file of the run dir that is not an output (the usual best-checkpoint link, model.ckpt ->
    /// epoch_12.ckpt) is stored as that file's content: made again, it pointed at nothing in the restored run
    /// dir, and every restore was KDG2004 "damaged" (a first-week review).
    /// </summary>
    /// <param name="linkedRunDir">
    /// The run dir reached through a link (runs -> /scratch/runs), the link's target written as its physical path
    /// (what getcwd and os.path.abspath give): the check compared it with the run dir as written (a review).
    /// </param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ALinkToAnUndeclaredFileOfTheRunDir_IsStoredAsWhatItPointsTo(bool linkedRunDir)
    {
        var store = new OutputStore(_tmp["store"]);
        Directory.CreateDirectory(_tmp["scratch/run"]);
        if (linkedRunDir) Directory.CreateSymbolicLink(_tmp["linked"], _tmp["scratch"]);
        var run = linkedRunDir ? _tmp["linked/run"] : _tmp["scratch/run"];
        File.WriteAllText(Path.Combine(run, "epoch_12.ckpt"), "weights 12");
        File.CreateSymbolicLink(Path.Combine(run, "model.ckpt"), _tmp["scratch/run/epoch_12.ckpt"]); // the physical path
        Directory.CreateDirectory(Path.Combine(run, "ckpt"));
        File.WriteAllText(Path.Combine(run, "ckpt/epoch_3.ckpt"), "weights 3");
        File.CreateSymbolicLink(Path.Combine(run, "ckpt/best"), "../epoch_12.ckpt"); // inside a declared folder, to the same undeclared file
        var hasher = new PathHasher(new HashCache());
        var (m, c) = (hasher.Hash(Path.Combine(run, "model.ckpt"))!, hasher.Hash(Path.Combine(run, "ckpt"))!);
        Assert.True(store.Insert(Fp, "s", "d1", [Path.Combine(run, "model.ckpt"), Path.Combine(run, "ckpt")],
            [new("run/model.ckpt", m.Hash, m.Size, false), new("run/ckpt", c.Hash, c.Size, true)], "digest", runDir: run));
        File.Delete(Path.Combine(run, "epoch_12.ckpt")); // what a restore's run dir lacks

        var entry = store.Find(Fp)!;
        OutputStore.Materialize(entry, 0, _tmp["restored/model.ckpt"]);
        OutputStore.Materialize(entry, 1, _tmp["restored/ckpt"]);

        Assert.Equal("weights 12", File.ReadAllText(_tmp["restored/model.ckpt"]));
        Assert.Equal("weights 12", File.ReadAllText(_tmp["restored/ckpt/best"]));
        Assert.True(OutputStore.Verify(entry, [_tmp["restored/model.ckpt"], _tmp["restored/ckpt"]]));
    }

    [Fact]
    public void Insert_WhenTheEntryExists_KeepsTheFirstAndLeavesNoTemp()
    {
        var store = new OutputStore(_tmp["store"]);
        var (a, ra) = Outputs("a", "first");
        var (b, rb) = Outputs("b", "second");
        Assert.True(store.Insert(Fp, "gat", "hcrl_sa", a, ra, "d1"));
        Assert.False(store.Insert(Fp, "gat", "hcrl_sa", b, rb, "d2"));
        Assert.Equal("d1", store.Find(Fp)!.OutputsDigest);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_tmp["store/tmp"]));
    }

    [Fact]
    public void ConcurrentInserts_OfOneFingerprint_ExposeExactlyOneCompleteEntry()
    {
        var store = new OutputStore(_tmp["store"]);
        var sets = Enumerable.Range(0, 8).Select(i => Outputs($"c{i}")).ToArray();
        var won = 0;
        Parallel.ForEach(sets, s => { if (store.Insert(Fp, "gat", "hcrl_sa", s.Sources, s.Records, "d")) Interlocked.Increment(ref won); });
        Assert.Equal(1, won);
        Assert.True(OutputStore.Verify(store.Find(Fp)!));
    }

    [Fact]
    public void Verify_DetectsAFlippedByte()
    {
        var store = new OutputStore(_tmp["store"]);
        var (sources, records) = Outputs("one");
        store.Insert(Fp, "gat", "hcrl_sa", sources, records, "d");
        var entry = store.Find(Fp)!;
        File.Delete(entry.Payload(0));                       // new inode, so the source is untouched
        File.WriteAllText(entry.Payload(0), "weightz");
        Assert.False(OutputStore.Verify(entry));
    }

    [Fact]
    public void Verify_OfMaterializedCopies_ReadsThoseBytes_NotTheEntrys()
    {
        var store = new OutputStore(_tmp["store"]);
        var (sources, records) = Outputs("one");
        store.Insert(Fp, "gat", "hcrl_sa", sources, records, "d");
        var entry = store.Find(Fp)!;
        string[] placed = [_tmp["restored/model.ckpt"], _tmp["restored/graphs"]];
        for (var i = 0; i < placed.Length; i++) OutputStore.Materialize(entry, i, placed[i]);
        Assert.True(OutputStore.Verify(entry, placed));

        File.Delete(placed[1] + "/part-0.bin");            // new inode: the entry's payload is untouched
        File.WriteAllText(placed[1] + "/part-0.bin", "weights-graph!");
        Assert.True(OutputStore.Verify(entry));
        Assert.False(OutputStore.Verify(entry, placed));
        Assert.False(OutputStore.Verify(entry, placed[..1])); // one path per output, or it does not match
    }

    [Fact]
    public void Evict_RemovesTheEntry()
    {
        var store = new OutputStore(_tmp["store"]);
        var (sources, records) = Outputs("one");
        store.Insert(Fp, "gat", "hcrl_sa", sources, records, "d");
        store.Evict(Fp);
        Assert.Null(store.Find(Fp));
        store.Evict(Fp); // evicting twice is harmless (two builds may find the same damage)
    }

    [Fact]
    public void Collect_BySize_EvictsLeastRecentlyUsedFirst()
    {
        var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var store = new OutputStore(_tmp["store"]) { Time = time };
        string Fingerprint(int i) => i.ToString("x2") + new string('b', 30);
        for (var i = 0; i < 4; i++)
        {
            var (sources, records) = Outputs($"e{i}", new string('x', 1000));
            store.Insert(Fingerprint(i), "gat", $"d{i}", sources, records, "d");
        }
        // Entry 0 was used most recently, then 3: those two must survive a limit that fits two.
        time.Advance(TimeSpan.FromMinutes(1)); store.Touch(store.Find(Fingerprint(3))!);
        time.Advance(TimeSpan.FromMinutes(1)); store.Touch(store.Find(Fingerprint(0))!);
        var perEntry = store.Find(Fingerprint(0))!.Bytes;

        var r = store.Collect(maxBytes: 2 * perEntry, maxAge: null, time.GetUtcNow());

        Assert.Equal(2, r.Evicted);
        Assert.Equal(2 * perEntry, r.BytesAfter);
        Assert.Equal([Fingerprint(0), Fingerprint(3)], store.All().Select(e => e.Fingerprint).Order());
    }

    [Fact]
    public void Collect_ByAge_EvictsEntriesUnusedForLongerThanTheLimit()
    {
        var store = new OutputStore(_tmp["store"]);
        var (sources, records) = Outputs("old");
        store.Insert(Fp, "gat", "hcrl_sa", sources, records, "d");
        Assert.Equal(0, store.Collect(null, TimeSpan.FromDays(30), DateTimeOffset.UtcNow).Evicted);
        Assert.Equal(1, store.Collect(null, TimeSpan.FromDays(30), DateTimeOffset.UtcNow.AddDays(31)).Evicted);
        Assert.Null(store.Find(Fp));
    }

    /// <summary>
    /// An entry this user may not remove (another member's in a shared store, made under umask 022) was counted as
    /// evicted and its bytes as freed, though it stayed. Here the store's trash folder cannot be made (a file in its place).
    /// </summary>
    [Fact]
    public void Collect_AnEntryThatCannotBeRemoved_IsKeptNotCountedAsFreed()
    {
        var store = new OutputStore(_tmp["store"]);
        var (sources, records) = Outputs("theirs");
        store.Insert(Fp, "gat", "hcrl_sa", sources, records, "d");
        _tmp.Write("store/trash", "in the way");

        var r = store.Collect(maxBytes: 0, maxAge: null, DateTimeOffset.UtcNow);

        Assert.Equal((0, 0L, 1), (r.Evicted, r.BytesFreed, r.EntriesAfter));
        Assert.Equal(r.BytesBefore, r.BytesAfter);
        Assert.Equal([store.Find(Fp)!.Dir], r.Kept);
    }

    /// <summary>
    /// A FIFO as an entry's last-used file hung CacheGc in its open, and a store may be shared by
    /// several users (found by review): it now counts as unreadable, the entry's creation time decides.
    /// </summary>
    [Fact]
    public async Task Collect_WithAFifoAsLastUsed_DoesNotBlock_AndFallsBackToTheCreationTime()
    {
        var store = new OutputStore(_tmp["store"]);
        var (sources, records) = Outputs("fifo");
        store.Insert(Fp, "gat", "hcrl_sa", sources, records, "d");
        var lastUsed = Path.Combine(store.Find(Fp)!.Dir, "last-used");
        File.Delete(lastUsed);
        Assert.Equal(0, Sh.Run($"mkfifo '{lastUsed}'", _tmp.Path).ExitCode);

        // A hang is a TimeoutException after a generous wait, not a timing assertion.
        var collected = await Task.Run(() => store.Collect(null, TimeSpan.FromDays(30), DateTimeOffset.UtcNow.AddDays(31))).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(1, collected.Evicted);
    }

    [Theory]
    [InlineData("500M", 500L * 1024 * 1024)]
    [InlineData("20G", 20L * 1024 * 1024 * 1024)]
    [InlineData("4K", 4096L)]
    [InlineData("1.5GiB", 1610612736L)]
    [InlineData("1Gi", 1073741824L)]
    [InlineData("2gb", 2147483648L)]
    [InlineData("4096B", 4096L)]
    public void ParseSize_AcceptsUnits(string text, long bytes) => Assert.Equal(bytes, CacheCollector.ParseSize(text));

    [Theory]
    [InlineData("lots")]
    [InlineData("-1G")]
    [InlineData("10X")]
    [InlineData("20")] // a user review: read as 20 bytes, it evicted almost the whole cache
    [InlineData("0")]
    public void ParseSize_RejectsNonsense_WithKDG1205(string text) =>
        Assert.Equal("KDG1205", Assert.Throws<KdGat.Core.Diagnostics.KdgException>(() => CacheCollector.ParseSize(text)).Code);

    [Fact]
    public void ParseAge_AcceptsMinutesHoursDays()
    {
        Assert.Equal(TimeSpan.FromMinutes(90), CacheCollector.ParseAge("90m"));
        Assert.Equal(TimeSpan.FromHours(12), CacheCollector.ParseAge("12h"));
        Assert.Equal(TimeSpan.FromDays(30), CacheCollector.ParseAge("30d"));
        Assert.Equal("KDG1205", Assert.Throws<KdGat.Core.Diagnostics.KdgException>(() => CacheCollector.ParseAge("soon")).Code);
        Assert.Equal(TimeSpan.FromDays(36_500), CacheCollector.ParseAge("36500d"));
    }

    /// <summary>99999999999999d overflowed TimeSpan: KDG9001, "a bug in KdGat" (a review).</summary>
    [Theory]
    [InlineData("99999999999999d")]
    [InlineData("36501d")]
    [InlineData("99999999999999999999999m")]
    public void ParseAge_BeyondAHundredYears_IsKdg1205(string text) =>
        Assert.Equal("KDG1205", Assert.Throws<KdGat.Core.Diagnostics.KdgException>(() => CacheCollector.ParseAge(text)).Code);

    /// <summary>
    /// Ctrl+C while a finished stage's outputs go into the store stops the insert before its next file
    /// (150,000 files took 39 s; a review): no lookup finds a part of the entry, and the next insert makes it whole.
    /// The cancel comes as the entry is stamped, just before its first file is linked.
    /// </summary>
    [Fact]
    public void ACancelledInsert_LeavesNoEntryALookupFinds_AndTheNextInsertMakesIt()
    {
        var (sources, records) = Outputs("one");
        using var cts = new CancellationTokenSource();
        var store = new OutputStore(_tmp["store"]) { Time = new CancelOnStamp(cts) };

        Assert.Throws<OperationCanceledException>(() => store.Insert(Fp, "gat", "hcrl_sa", sources, records, "digest", cancel: cts.Token));

        Assert.Null(store.Find(Fp));
        Assert.Empty(store.All());
        Assert.Empty(Directory.EnumerateFiles(_tmp["store"], "*", SearchOption.AllDirectories)); // was a whole entry: nothing linked after the cancel
        var next = new OutputStore(_tmp["store"]);
        Assert.True(next.Insert(Fp, "gat", "hcrl_sa", sources, records, "digest"));
        Assert.True(OutputStore.Verify(next.Find(Fp)!));
    }

    /// <summary>
    /// Ctrl+C while a cached result is placed in the run dir (GBs of checkpoints, many files): the restore waited for all
    /// of it. Now it stops before the next file with an OperationCanceledException, nothing placed after the cancel.
    /// </summary>
    [Fact]
    public void ACancelledMaterialize_StopsBeforeTheNextFile()
    {
        var store = new OutputStore(_tmp["store"]);
        var (sources, records) = Outputs("one");
        Assert.True(store.Insert(Fp, "gat", "hcrl_sa", sources, records, "digest"));
        var entry = store.Find(Fp)!;

        Assert.Throws<OperationCanceledException>(() => OutputStore.Materialize(entry, 1, _tmp["restored/graphs"], new CancellationToken(canceled: true)));

        Assert.False(Directory.Exists(_tmp["restored/graphs"]));
        OutputStore.Materialize(entry, 1, _tmp["restored/graphs"]); // the next restore places it whole
        Assert.True(OutputStore.Verify(entry, [sources[0], _tmp["restored/graphs"]]));
    }

    /// <summary>The hash of every placed byte (a restore's last step before its manifest) stops at a cancel too, with no answer.</summary>
    [Fact]
    public void ACancelledVerify_ThrowsInsteadOfAnswering()
    {
        var store = new OutputStore(_tmp["store"]);
        var (sources, records) = Outputs("one");
        Assert.True(store.Insert(Fp, "gat", "hcrl_sa", sources, records, "digest"));
        var entry = store.Find(Fp)!;

        Assert.Throws<OperationCanceledException>(() => OutputStore.Verify(entry, cancel: new CancellationToken(canceled: true)));
        Assert.Throws<OperationCanceledException>(() => OutputStore.Verify(entry, sources, new CancellationToken(canceled: true)));
        Assert.True(OutputStore.Verify(entry, sources));
    }

    private sealed class CancelOnStamp(CancellationTokenSource cts) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow()
        {
            cts.Cancel();
            return base.GetUtcNow();
        }
    }
}
