using KdGat.Core.Hashing;
using KdGat.Core.NoOp;

namespace KdGat.Core.Tests.NoOp;

/// <summary>
/// What a no-op certificate is made of: the file-system questions a check asked, recorded where
/// they are asked, and asked again later with the same answer only when what they vouch for is unchanged.
/// </summary>
[Trait("Category", "Unit")]
public sealed class FileObservationsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kdgat-obs-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private FileObservations Record(Action look)
    {
        var seen = new FileObservations();
        FileObservations.RecordInto(seen);
        try { look(); }
        finally { FileObservations.RecordInto(null); }
        return seen;
    }

    private static string[] Changed(FileObservations seen) =>
        seen.All.Where(o => FileObservations.Ask(o.Probe, o.Path) != o.Answer).Select(o => $"{o.Probe} {o.Path}").ToArray();

    [Fact]
    public void AHashedDirectory_IsObservedSoThatEveryChangeAHashWouldSeeIsSeen()
    {
        var data = Path.Combine(_dir, "data");
        Directory.CreateDirectory(Path.Combine(data, "sub"));
        File.WriteAllText(Path.Combine(data, "a.csv"), "1,2\n");
        File.WriteAllText(Path.Combine(data, "sub", "b.csv"), "3,4\n");
        var hasher = new PathHasher(new HashCache());
        var seen = Record(() => hasher.Hash(data));
        Assert.True(seen.Usable);
        Assert.Empty(Changed(seen)); // asked again at once: the same answers

        // Same size and mtime, other bytes: the identity (ctime) says so.
        var a = Path.Combine(data, "a.csv");
        var mtime = File.GetLastWriteTimeUtc(a);
        File.WriteAllText(a, "1,3\n");
        File.SetLastWriteTimeUtc(a, mtime);
        Assert.Contains($"Stat {a}", Changed(seen));

        seen = Record(() => hasher.Hash(data));
        File.WriteAllText(Path.Combine(data, "sub", "c.csv"), "");
        Assert.Contains($"List {Path.Combine(data, "sub")}", Changed(seen));

        seen = Record(() => hasher.Hash(data));
        File.CreateSymbolicLink(Path.Combine(data, "annexed"), "/nonexistent/object");
        Assert.Contains($"List {data}", Changed(seen));
    }

    [Fact]
    public void ASymlinkRetargeted_AndAnAbsentFileCreated_AreSeen()
    {
        var target1 = Path.Combine(_dir, "t1");
        var target2 = Path.Combine(_dir, "t2");
        File.WriteAllText(target1, "x");
        File.WriteAllText(target2, "x");
        var link = Path.Combine(_dir, "link");
        File.CreateSymbolicLink(link, target1);
        var journal = Path.Combine(_dir, "attempt.json");
        var seen = Record(() => { PathStat.Of(link); FileObservations.FileExists(journal); });
        File.Delete(link);
        File.CreateSymbolicLink(link, target2);
        File.WriteAllText(journal, "{}");
        Assert.Equal(new[] { $"Stat {link}", $"FileExists {journal}" }.Order(), Changed(seen).Order());
    }

    [Fact]
    public void TwoAnswersToOneQuestion_MakeTheObservationsUnusable_AndPausedLooksAreNotRecorded()
    {
        var f = Path.Combine(_dir, "f");
        File.WriteAllText(f, "1");
        var seen = Record(() =>
        {
            PathStat.Of(f);
            File.WriteAllText(f, "22");
            PathStat.Of(f); // changed during the build
            using (FileObservations.Pause()) PathStat.Of(Path.Combine(_dir, "own.tmp"));
        });
        Assert.False(seen.Usable);
        Assert.DoesNotContain(seen.All, o => o.Path.EndsWith("own.tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void TheNewestChangeAmongFilesIsKept_ButNotThatOfKdGatsOwnStamps()
    {
        var f = Path.Combine(_dir, "f");
        var stamp = Path.Combine(_dir, "stamp");
        File.WriteAllText(f, "1");
        var seen = Record(() => FileIdentity.Of(f));
        var changed = seen.LatestChangeNs;
        Assert.Equal(FileIdentity.Of(f)!.Value.CtimeNs, changed);
        Thread.Sleep(20);
        File.WriteAllText(stamp, "s");
        FileObservations.RecordInto(seen);
        try { FileObservations.SawOwn(stamp); }
        finally { FileObservations.RecordInto(null); }
        Assert.Equal(changed, seen.LatestChangeNs);
        Assert.Contains(seen.All, o => o.Path == stamp);
    }

    /// <summary>A file system that reports no ctime (0) must not make a file just written look old: its mtime counts, as in the hash cache.</summary>
    [Fact]
    public void AFileWithoutCtime_CountsByItsMtime()
    {
        var id = new FileIdentity(1, MtimeNs: 1_700_000_000_000_000_000, CtimeNs: 0, Inode: 7, Device: 1);

        var seen = Record(() => FileObservations.SawIdentity(Path.Combine(_dir, "f"), id));

        Assert.Equal(id.MtimeNs, seen.LatestChangeNs);
        Assert.Equal(id.MtimeNs, id.ChangedNs);
        Assert.Equal(5, (id with { CtimeNs = 5 }).ChangedNs);
    }
}
