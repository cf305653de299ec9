using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;
using KdGat.Testing;

namespace KdGat.Core.Tests.Hashing;

[Trait("Category", "Unit")]
public sealed class HashCacheTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    /// <summary>ctime comes from the kernel's coarse clock; waiting a little makes sure a change gets a new one.</summary>
    private static void LetTheClockTick() => Thread.Sleep(30);

    [Fact]
    public void HashFile_IdentityUnchanged_ReusesHash()
    {
        var f = _dir.Write("f.txt", "abc");
        var cache = new HashCache();

        var first = cache.HashFile(f);
        var second = cache.HashFile(f);

        Assert.Equal("06b05ab6733a618578af5f94892f3950", first);
        Assert.Equal(first, second);
        Assert.Equal(1, cache.FilesHashed);
        Assert.Equal(3, cache.BytesHashed);
    }

    [Fact]
    public void HashFile_MissingFile_IsNullAndHashesNothing()
    {
        var cache = new HashCache();

        Assert.Null(cache.HashFile(_dir["missing"]));
        Assert.Equal(0, cache.FilesHashed);
    }

    [Fact]
    public void HashFile_SizeChanged_Rehashes()
    {
        var f = _dir.Write("f.txt", "abc");
        var cache = new HashCache();
        cache.HashFile(f);

        File.WriteAllText(f, "abcd");

        Assert.Equal(ContentHash.OfText("abcd"), cache.HashFile(f));
        Assert.Equal(2, cache.FilesHashed);
    }

    [Fact]
    public void HashFile_CtimeChangedOnly_RehashesAndFindsSameHash()
    {
        var f = _dir.Write("f.txt", "abc");
        var cache = new HashCache();
        var h = cache.HashFile(f);
        var before = FileIdentity.Of(f)!.Value;
        LetTheClockTick();

        File.SetUnixFileMode(f, UnixFileMode.UserRead | UnixFileMode.UserWrite); // chmod: ctime only

        var after = FileIdentity.Of(f)!.Value;
        Assert.Equal(before with { CtimeNs = after.CtimeNs }, after);
        Assert.NotEqual(before.CtimeNs, after.CtimeNs);
        Assert.Equal(h, cache.HashFile(f));
        Assert.Equal(2, cache.FilesHashed);
    }

    [Fact]
    public void HashFile_InodeChanged_Rehashes()
    {
        var f = _dir.Write("f.txt", "abc");
        var cache = new HashCache();
        cache.HashFile(f);
        var mtime = File.GetLastWriteTimeUtc(f);

        // Same content, size and mtime, but a different file (a new inode renamed over the old one).
        var other = _dir.Write("other.txt", "xyz");
        File.SetLastWriteTimeUtc(other, mtime);
        File.Move(other, f, overwrite: true);

        Assert.Equal(ContentHash.OfText("xyz"), cache.HashFile(f));
        Assert.Equal(2, cache.FilesHashed);
    }

    [Fact]
    public void HashFile_ContentChangedSameSizeMtimeRestored_IsRehashedBecauseCtimeChanged()
    {
        // The classic make-defeating edit: same size, mtime put back. statx ctime cannot be set
        // from user space, so the identity still differs and the new content is seen.
        var f = _dir.Write("f.txt", "aaaa");
        var cache = new HashCache();
        var old = cache.HashFile(f);
        var before = FileIdentity.Of(f)!.Value;
        var mtime = File.GetLastWriteTimeUtc(f);
        LetTheClockTick();

        File.WriteAllText(f, "bbbb");
        File.SetLastWriteTimeUtc(f, mtime);

        var after = FileIdentity.Of(f)!.Value;
        Assert.Equal(before.Size, after.Size);
        Assert.Equal(before.MtimeNs / 100, after.MtimeNs / 100); // .NET sets mtime at 100 ns resolution
        Assert.Equal(before.Inode, after.Inode);
        Assert.NotEqual(before.CtimeNs, after.CtimeNs);
        var now = cache.HashFile(f);
        Assert.NotEqual(old, now);
        Assert.Equal(ContentHash.OfText("bbbb"), now);
    }

    [Fact]
    public void HashFile_VerifyAll_HashesEveryTime()
    {
        var f = _dir.Write("f.txt", "abc");
        var cache = new HashCache(verifyAll: true);

        cache.HashFile(f);
        cache.HashFile(f);
        cache.HashFile(f);

        Assert.Equal(3, cache.FilesHashed);
    }

    [Fact]
    public void SaveAndLoad_PersistedEntry_IsReusedByNextCache()
    {
        var f = _dir.Write("data/f.txt", "abc");
        var file = _dir[".kdgat/hash-cache.tsv"];
        var first = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        first.HashFile(f);
        first.Save();

        var second = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        var h = second.HashFile(f);

        Assert.Equal("06b05ab6733a618578af5f94892f3950", h);
        Assert.Equal(0, second.FilesHashed);
        var lines = File.ReadAllLines(file);
        Assert.Equal("kdgat-hash-cache v3 1", lines[0]);
        Assert.EndsWith("\t" + f, lines[1]);
    }

    [Fact]
    public void Load_EntryWithMatchingIdentity_IsTrustedButVerifyAllIgnoresIt()
    {
        // A hit may only skip hashing: the cache is trusted as long as the identity matches, and
        // VerifyAll (-p:VerifyHashes=true) is the way to not trust it.
        var f = _dir.Write("f.txt", "abc");
        var id = FileIdentity.Of(f)!.Value;
        var body = $"1\t{id.Size}\t{id.MtimeNs}\t{id.CtimeNs}\t{id.Inode}\t{id.Device}\t{new string('0', 32)}\t{f}";
        var file = _dir.Write("cache.tsv", $"kdgat-hash-cache v3 1\n{HashCache.Checksum(body)}\t{body}\n");

        Assert.Equal(new string('0', 32), new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite).HashFile(f));
        Assert.Equal("06b05ab6733a618578af5f94892f3950", new HashCache(file, verifyAll: true, fileSystemNow: FileSystemClock.LongAfterEveryWrite).HashFile(f));
    }

    [Theory]
    [InlineData("garbage\n")]
    [InlineData("kdgat-hash-cache v0\n1\t2\t3\t4\t5\t00000000000000000000000000000000\t/x\n")]
    [InlineData("kdgat-hash-cache v1\n1\t2\t3\t4\t5\t00000000000000000000000000000000\t/x\n")]
    [InlineData("")]
    public void Load_DamagedFile_IsAnEmptyCache(string content)
    {
        var f = _dir.Write("f.txt", "abc");
        var file = _dir.Write("cache.tsv", content);

        var cache = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);

        Assert.Equal("06b05ab6733a618578af5f94892f3950", cache.HashFile(f));
        Assert.Equal(1, cache.FilesHashed);
    }

    [Fact]
    public void Load_DamagedLine_IsSkippedOthersKept()
    {
        var f = _dir.Write("f.txt", "abc");
        var g = _dir.Write("g.txt", "def");
        var file = _dir["cache.tsv"];
        var c = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        c.HashFile(f);
        c.HashFile(g);
        c.Save();
        var lines = File.ReadAllLines(file);
        lines[1] = "1\tnot-a-number\t" + lines[1];
        File.WriteAllLines(file, lines);

        var reloaded = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        reloaded.HashFile(f);
        reloaded.HashFile(g);

        Assert.Equal(1, reloaded.FilesHashed);
    }

    [Fact]
    public void Save_NothingHashed_WritesNoFile()
    {
        var file = _dir["cache.tsv"];

        new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite).Save();

        Assert.False(File.Exists(file));
    }

    [Fact]
    public void Save_DropsEntriesOfDeletedFiles()
    {
        var f = _dir.Write("f.txt", "abc");
        var g = _dir.Write("g.txt", "def");
        var file = _dir["cache.tsv"];
        var c = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        c.HashFile(f);
        c.HashFile(g);
        File.Delete(g);

        c.Save();

        var lines = File.ReadAllLines(file);
        Assert.Equal(2, lines.Length);
        Assert.EndsWith(f, lines[1]);
    }

    [Fact]
    public void Save_OfANoOp_LeavesRowsOfDeletedFilesUntilTheCacheIsWrittenAnyway()
    {
        var f = _dir.Write("f.txt", "abc");
        var g = _dir.Write("g.txt", "def");
        var file = _dir["cache.tsv"];
        var first = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        first.HashFile(f);
        first.HashFile(g);
        first.Save();
        var written = File.ReadAllText(file);

        // A no-op (only recent hits) writes nothing, and does not stat every row to find g gone.
        File.Delete(g);
        var noop = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        noop.HashFile(f);
        noop.Save();
        Assert.Equal(written, File.ReadAllText(file));

        // The next build that writes the cache drops g's row.
        var h = _dir.Write("h.txt", "ghi");
        var next = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        next.HashFile(h);
        next.Save();
        var lines = File.ReadAllLines(file);
        Assert.Equal(3, lines.Length);
        Assert.DoesNotContain(lines, l => l.EndsWith(g, StringComparison.Ordinal));
    }

    [Fact]
    public void Relinked_AHardLinkKeepsTheRow_AWriteDoesNot()
    {
        var f = _dir.Write("out.ckpt", "weights v1");
        var c = new HashCache();
        var hash = c.HashFile(f);
        LetTheClockTick(); // so the link's ctime differs from the hashed one

        // The output store's hard link: only the ctime moves; the row follows, so no re-hash.
        Assert.Equal(0, Link(f, _dir["store-copy"]));
        c.Relinked(f);
        var before = c.FilesHashed;
        Assert.Equal(hash, c.HashFile(f));
        Assert.Equal(before, c.FilesHashed);

        // Written since (same size: only its mtime tells): the row does not follow, the file is hashed again.
        LetTheClockTick();
        File.WriteAllText(f, "weights v2");
        c.Relinked(f);
        Assert.NotEqual(hash, c.HashFile(f));
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int link(string oldpath, string newpath);
    private static int Link(string from, string to) => link(from, to);
}
