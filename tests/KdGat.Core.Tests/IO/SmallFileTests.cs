using KdGat.Core.IO;
using KdGat.Core.Manifests;
using KdGat.Core.Tests.Support;
using KdGat.Core.Tracking;

namespace KdGat.Core.Tests.IO;

/// <summary>
/// State files KdGat reads back (records, manifests, curves) may be anything a stage or a user left
/// there: a FIFO hung History, Status, Explain and a build's index step for ever (a hostile-input pass).
/// </summary>
[Trait("Category", "Unit")]
public sealed class SmallFileTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private string Fifo(string relative)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_dir[relative])!);
        Assert.Equal(0, Sh.Run($"mkfifo '{relative}'", _dir.Path).ExitCode);
        return _dir[relative];
    }

    private static T Within<T>(Func<T> read)
    {
        var task = Task.Run(read);
        Assert.True(task.Wait(TimeSpan.FromSeconds(20)), "the read blocked");
        return task.Result;
    }

    [Fact]
    public void AFifo_IsAnIOException_WithoutBlocking()
    {
        var fifo = Fifo("x.json");
        var e = Within(() => Assert.Throws<IOException>(() => SmallFile.ReadAllBytes(fifo)));
        Assert.Contains("FIFO", e.Message);
    }

    [Fact]
    public void AFileLargerThanTheLimit_IsNotRead()
    {
        var big = _dir.Write("big.json", new string(' ', 2048));
        var e = Assert.Throws<IOException>(() => SmallFile.ReadAllBytes(big, maxBytes: 1024));
        Assert.Contains("not read", e.Message);
        Assert.Equal(2048, SmallFile.ReadAllBytes(big, maxBytes: 2048).Length);
    }

    [Fact]
    public void AFifoNamedLikeARunRecord_IsReportedDamaged_NotWaitedOn()
    {
        var store = new RecordStore(_dir[".kdgat"]);
        Fifo(".kdgat/records/d1/s/20990101T000000.000Z-fifo.json");
        var damaged = new List<string>();

        var records = Within(() => store.ReadAll((file, _) => damaged.Add(file)).ToList());

        Assert.Empty(records);
        Assert.Single(damaged);
        Assert.NotNull(Within(() => RecordStore.TryRead(damaged[0])).Problem);
    }

    [Fact]
    public void AFifoManifest_ReadsAsCorrupt_SoTheStageIsStale()
    {
        var fifo = Fifo("run/kdgat.manifest.json");
        var (status, _, problem) = Within(() => ManifestStore.Read(fifo));
        Assert.Equal(ManifestStore.ReadStatus.Corrupt, status);
        Assert.Contains("FIFO", problem);
    }

    [Fact]
    public void AFifoCurvesFile_IsNoCurves()
    {
        var fifo = Fifo("run/curves.jsonl");
        Assert.Null(Within(() => EpochCurves.Read(fifo)));
    }
}
