using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;
using KdGat.Testing;

namespace KdGat.Core.Tests.Hashing;

/// <summary>
/// git's "racily clean" problem: on a file system whose clock ticks coarsely (ext4 and NFS servers
/// on older kernels: 1-10 ms; some NFS servers: 1 s), a file written again in the tick it was
/// hashed in, with the same size, keeps its whole identity. A saved row would then vouch for the
/// old content in every later build. These tests simulate the coarse clock (this machine's kernel
/// stamps a change after a stat finely) by giving the cache the file system's "now", and by
/// rewriting a saved row to the file's new identity, as a coarse clock would have left it.
/// </summary>
[Trait("Category", "Unit")]
public sealed class HashCacheRacyTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private string CacheFile => _dir[".kdgat/hash-cache.tsv"];

    private static long ChangedAt(string f) => FileIdentity.Of(f)!.Value.CtimeNs;

    /// <summary>A clock this long after the file's change: past the racy margin, so its row is saved.</summary>
    private static Func<long> WellAfter(string f) { var t = ChangedAt(f) + HashCache.RacyMarginNs + 1; return () => t; }

    [Fact]
    public void RewriteInTheTickTheFileWasHashedIn_IsNeverAnsweredWithTheOldHash()
    {
        var f = _dir.Write("params.yaml", "aaa");
        var stillThatTick = ChangedAt(f); // the clock has not moved past the write
        var build = new HashCache(CacheFile, fileSystemNow: () => stillThatTick);
        var old = build.HashFile(f);
        build.Save();

        File.WriteAllText(f, "bbb"); // same size, same tick
        SimulateCoarseClock(f);

        var truth = ContentHash.OfFile(f);
        Assert.NotEqual(old, truth);
        Assert.Equal(truth, new HashCache(CacheFile, fileSystemNow: FileSystemClock.LongAfterEveryWrite).HashFile(f));
    }

    [Fact]
    public void FileChangedWithinTheMarginBeforeTheFirstHash_IsRacy_OnePastItIsSaved()
    {
        var f = _dir.Write("params.yaml", "aaa");
        var build = new HashCache(CacheFile, fileSystemNow: () => ChangedAt(f) + HashCache.RacyMarginNs); // a mount whose clock runs behind
        build.HashFile(f);
        build.Save();
        var next = new HashCache(CacheFile, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        next.HashFile(f);
        Assert.Equal(1, next.FilesHashed);

        var later = new HashCache(CacheFile, fileSystemNow: WellAfter(f));
        later.HashFile(f);
        later.Save();
        var last = new HashCache(CacheFile, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        last.HashFile(f);
        Assert.Equal(0, last.FilesHashed);
    }

    [Fact]
    public void FutureMtime_FromAnArchiveOrAWrongClock_DoesNotMakeARowRacy()
    {
        var f = _dir.Write("data/frames.csv", "aaa");
        File.SetLastWriteTimeUtc(f, new DateTime(2100, 1, 1, 0, 0, 0, DateTimeKind.Utc)); // ctime: now
        var build = new HashCache(CacheFile, fileSystemNow: WellAfter(f));
        build.HashFile(f);
        build.Save();

        var next = new HashCache(CacheFile, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        next.HashFile(f);
        Assert.Equal(0, next.FilesHashed);
    }

    [Fact]
    public void Settled_OutputReadAfterItsJobEnded_IsSaved()
    {
        var output = _dir.Write("run/model.ckpt", "aaa");
        var written = ChangedAt(output); // during this build
        var build = new HashCache(CacheFile, fileSystemNow: () => written);
        var jobEnded = build.Mark();
        build.HashFile(output); // the commit's read
        build.Settled(output, jobEnded);
        build.Save();

        var next = new HashCache(CacheFile, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        next.HashFile(output);
        Assert.Equal(0, next.FilesHashed);
    }

    [Fact]
    public void Settled_RowReadBeforeTheJobEnded_StaysRacy()
    {
        // The plan task read the output (through a symlink, say) during the build; at commit the
        // row is a hit, not a read after the job ended, so it proves nothing about the tick.
        var output = _dir.Write("run/model.ckpt", "aaa");
        var written = ChangedAt(output);
        var build = new HashCache(CacheFile, fileSystemNow: () => written);
        build.HashFile(output);
        var jobEnded = build.Mark();
        build.HashFile(output); // the commit's lookup: a hit
        build.Settled(output, jobEnded);
        build.Save();

        var next = new HashCache(CacheFile, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        next.HashFile(output);
        Assert.Equal(1, next.FilesHashed);
    }

    [Fact]
    public void Settled_AfterTheOutputWasWrittenAgain_StaysRacy()
    {
        var output = _dir.Write("run/model.ckpt", "aaa");
        var written = ChangedAt(output);
        var build = new HashCache(CacheFile, fileSystemNow: () => written);
        var jobEnded = build.Mark();
        var old = build.HashFile(output);
        File.WriteAllText(output, "bbb"); // a process the job left behind, same size
        build.Settled(output, jobEnded);
        build.Save();
        SimulateCoarseClock(output);

        var truth = ContentHash.OfFile(output);
        Assert.NotEqual(old, truth);
        Assert.Equal(truth, new HashCache(CacheFile, fileSystemNow: FileSystemClock.LongAfterEveryWrite).HashFile(output));
    }

    /// <summary>
    /// The end-of-run check (what a stage read, asked again as it ends): a row read in the tick of its file's last change
    /// would vouch, within the build, for bytes a same-size write in that tick replaced while keeping the whole identity
    /// (the identity passed in is what the coarse clock leaves), and the stage's result was committed as current.
    /// </summary>
    [Fact]
    public void EndOfRunCheck_RowReadInTheTickOfItsFilesChange_IsReadAgain()
    {
        var f = _dir.Write("runs/a/out.txt", "aaa");
        var stillThatTick = ChangedAt(f);
        var build = new HashCache(CacheFile, fileSystemNow: () => stillThatTick);
        var coarse = FileIdentity.Of(f)!.Value; // what the file's identity stays after the write below, on a coarse clock
        var old = build.HashFile(f, coarse);

        File.WriteAllText(f, "bbb"); // same size, same tick

        Assert.Equal(old, build.HashFile(f, coarse)); // elsewhere in the build the row is used (and never saved)
        Assert.Equal(ContentHash.OfFile(f), build.HashFile(f, coarse, recheck: true));
    }

    /// <summary>The cost side: a file read the margin after its last change is not read again by the end-of-run check.</summary>
    [Fact]
    public void EndOfRunCheck_TrustsARowReadTheMarginAfterItsFilesChange()
    {
        var f = _dir.Write("data/frames.csv", "aaa");
        var build = new HashCache(CacheFile, fileSystemNow: WellAfter(f));
        build.HashFile(f);
        build.HashFile(f, recheck: true);
        Assert.Equal(1, build.FilesHashed);
    }

    /// <summary>
    /// An upstream output written and hashed in this build is read again once, at its first downstream's end (the clock read
    /// again as that job ended, <see cref="HashCache.Reprobe"/>), not at every downstream's; and that read, the margin after
    /// the write, may be saved.
    /// </summary>
    [Fact]
    public void EndOfRunCheck_ReadsAFileChangedDuringTheBuildOnce_AfterTheClockIsReadAgain()
    {
        var f = _dir.Write("runs/a/model.ckpt", "aaa");
        var now = ChangedAt(f);
        var build = new HashCache(CacheFile, fileSystemNow: () => now);
        build.HashFile(f); // the upstream's commit, in the tick of the write

        now += HashCache.RacyMarginNs + 1; // a downstream's job ends
        build.Reprobe();
        build.HashFile(f, recheck: true);
        build.HashFile(f, recheck: true); // another downstream's end
        Assert.Equal(2, build.FilesHashed);

        build.Save();
        var next = new HashCache(CacheFile, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        next.HashFile(f);
        Assert.Equal(0, next.FilesHashed);
    }

    /// <summary>
    /// A settled output (read by the commit after its job ended, within the margin of its last write: a final checkpoint)
    /// is trusted by its downstream's end-of-run check, as by every later build: read again, it would catch nothing the
    /// save does not trust anyway, at the cost of a second read of every final checkpoint (a review). And it stays saved.
    /// </summary>
    [Fact]
    public void Settled_OutputIsTrustedByTheEndOfRunCheck_AndSaved()
    {
        var output = _dir.Write("run/model.ckpt", "aaa");
        var written = ChangedAt(output);
        var build = new HashCache(CacheFile, fileSystemNow: () => written);
        var jobEnded = build.Mark();
        build.HashFile(output);
        build.Settled(output, jobEnded);
        build.HashFile(output, recheck: true);
        Assert.Equal(1, build.FilesHashed);
        build.Save();

        var next = new HashCache(CacheFile, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        next.HashFile(output);
        Assert.Equal(0, next.FilesHashed);
    }

    /// <summary>
    /// The cost side with the output store (on by default): an output the commit read the margin after its last write is
    /// then hard-linked into the store, a new ctime after the clock, and its first downstream's end-of-run check read it
    /// all again (every cached checkpoint of a build read twice). A link is no write (<see cref="HashCache.Relinked"/>
    /// follows a row only with size, mtime and inode unchanged), so the row stays settled; one read within the margin of
    /// its write stays unsettled, linked or not.
    /// </summary>
    [Fact]
    public void EndOfRunCheck_TrustsASettledRowTheOutputStoreLinked_NotARacyOne()
    {
        var settled = _dir.Write("runs/a/model.ckpt", "aaa");
        var racy = _dir.Write("runs/b/model.ckpt", "bbb");
        var clock = ChangedAt(settled) + HashCache.RacyMarginNs + 1;
        var build = new HashCache(CacheFile, fileSystemNow: () => clock);
        build.HashFile(settled); // the commit, long after the job wrote it
        clock = ChangedAt(racy);
        build.Reprobe(); // b's job ends in the tick of its write
        build.HashFile(racy);
        Thread.Sleep(30); // so the links' ctimes differ from the hashed ones
        Assert.Equal(0, link(settled, _dir["store-a"]));
        Assert.Equal(0, link(racy, _dir["store-b"]));
        build.Relinked(settled);
        build.Relinked(racy);

        build.HashFile(settled, recheck: true);
        Assert.Equal(2, build.FilesHashed);
        build.HashFile(racy, recheck: true);
        Assert.Equal(3, build.FilesHashed);
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int link(string oldpath, string newpath);

    [Fact]
    public void CacheOfTheVersionBeforeTheRacyRule_IsReadAsEmpty()
    {
        var f = _dir.Write("f.txt", "abc");
        var id = FileIdentity.Of(f)!.Value;
        var body = $"1\t{id.Size}\t{id.MtimeNs}\t{id.CtimeNs}\t{id.Inode}\t{id.Device}\t{new string('0', 32)}\t{f}";
        Directory.CreateDirectory(Path.GetDirectoryName(CacheFile)!);
        File.WriteAllText(CacheFile, $"kdgat-hash-cache v2 1\n{HashCache.Checksum(body)}\t{body}\n"); // a v2 row may be racy: not trusted

        Assert.Equal(ContentHash.OfFile(f), new HashCache(CacheFile, fileSystemNow: FileSystemClock.LongAfterEveryWrite).HashFile(f));
    }

    [Fact]
    public void FileSystemNow_IsNotBeforeAFileWrittenEarlier_AndLeavesNothingBehind()
    {
        var f = _dir.Write("state/f.txt", "abc");
        var written = ChangedAt(f);

        var now = HashCache.FileSystemNow(_dir["state"]);

        Assert.True(now >= written, $"{now} < {written}");
        Assert.Equal(["f.txt"], Directory.GetFiles(_dir["state"]).Select(Path.GetFileName));
    }

    [Fact]
    public void FileSystemNow_WhereNothingCanBeCreated_MakesEveryRowRacy()
    {
        Assert.Equal(long.MinValue, HashCache.FileSystemNow("/proc/kdgat-no-such-dir"));
    }

    /// <summary>Every saved row of <paramref name="path"/> gets the file's current identity, as a coarse clock would have left it.</summary>
    private void SimulateCoarseClock(string path)
    {
        var id = FileIdentity.Of(path)!.Value;
        var lines = File.ReadAllLines(CacheFile).Select(line =>
        {
            if (!line.EndsWith("\t" + path, StringComparison.Ordinal)) return line;
            var f = line.Split('\t')[1..];
            var body = string.Join('\t', f[0], id.Size, id.MtimeNs, id.CtimeNs, id.Inode, id.Device, f[6], f[7]);
            return HashCache.Checksum(body) + "\t" + body;
        });
        File.WriteAllLines(CacheFile, lines);
    }
}
