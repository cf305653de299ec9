using KdGat.Core.Hashing;
using KdGat.Core.Tests.Support;
using KdGat.Testing;

namespace KdGat.Core.Tests.Hashing;

/// <summary>
/// git's "racily clean" problem: on a file system whose clock ticks coarsely (ext4 and NFS servers
/// on older kernels: 1-10 ms; some NFS servers: 1 s), a file written again in the tick it was
/// hashed in, with the same size, keeps its whole identity. A saved row would then vouch for the
/// old content in every later build. These tests simulate the coarse clock (this machine's kernel
/// stamps a change after a stat finely) by giving the cache the file system's "now".
/// </summary>
[Trait("Category", "Unit")]
public sealed class HashCacheRacyTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Fact]
    public void RewriteInTheTickTheFileWasHashedIn_IsNeverAnsweredWithTheOldHash()
    {
        var f = _dir.Write("params.yaml", "aaa");
        var file = _dir[".kdgat/hash-cache.tsv"];
        var stillThatTick = FileIdentity.Of(f)!.Value.CtimeNs; // the clock has not moved past the write
        var build = new HashCache(file, fileSystemNow: () => stillThatTick);
        var old = build.HashFile(f);
        build.Save();

        // The same-tick rewrite: same size; on a coarse clock, mtime, ctime and inode stay too,
        // which is what rewriting any saved row to the new identity simulates.
        File.WriteAllText(f, "bbb");
        SimulateCoarseClock(file, f);

        var next = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        var truth = ContentHash.OfFile(f);
        Assert.NotEqual(old, truth);
        Assert.Equal(truth, next.HashFile(f));
    }

    [Fact]
    public void RowHashedAfterTheFilesTick_IsSaved()
    {
        var f = _dir.Write("params.yaml", "aaa");
        var file = _dir[".kdgat/hash-cache.tsv"];
        var nextTick = FileIdentity.Of(f)!.Value.CtimeNs + 1;
        var build = new HashCache(file, fileSystemNow: () => nextTick);
        build.HashFile(f);
        build.Save();

        var next = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        next.HashFile(f);
        Assert.Equal(0, next.FilesHashed);
    }

    [Fact]
    public void Settled_OutputHashedAfterItsJobEnded_IsSaved_ButNotOnceItChanged()
    {
        var output = _dir.Write("run/model.ckpt", "aaa");
        var changed = _dir.Write("run/curves.jsonl", "aaa");
        var file = _dir[".kdgat/hash-cache.tsv"];
        var since = Math.Min(FileIdentity.Of(output)!.Value.CtimeNs, FileIdentity.Of(changed)!.Value.CtimeNs); // both written during this build
        var build = new HashCache(file, fileSystemNow: () => since);
        build.HashFile(output);
        build.HashFile(changed);
        File.WriteAllText(changed, "bbbb");

        build.Settled(output);
        build.Settled(changed);
        build.Save();

        var next = new HashCache(file, fileSystemNow: FileSystemClock.LongAfterEveryWrite);
        next.HashFile(output);
        Assert.Equal(0, next.FilesHashed);
        next.HashFile(changed);
        Assert.Equal(1, next.FilesHashed);
    }

    [Fact]
    public void FileSystemNow_IsNotBeforeAFileWrittenEarlier_AndLeavesNothingBehind()
    {
        var f = _dir.Write("state/f.txt", "abc");
        var written = FileIdentity.Of(f)!.Value.CtimeNs;

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
    private static void SimulateCoarseClock(string cacheFile, string path)
    {
        var id = FileIdentity.Of(path)!.Value;
        var lines = File.ReadAllLines(cacheFile).Select(line =>
        {
            if (!line.EndsWith("\t" + path, StringComparison.Ordinal)) return line;
            var f = line.Split('\t')[1..];
            var body = string.Join('\t', f[0], id.Size, id.MtimeNs, id.CtimeNs, id.Inode, id.Device, f[6], f[7]);
            return HashCache.Checksum(body) + "\t" + body;
        });
        File.WriteAllLines(cacheFile, lines);
    }
}
