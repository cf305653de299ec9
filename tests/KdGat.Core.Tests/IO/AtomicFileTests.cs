using KdGat.Core.Hashing;
using KdGat.Core.IO;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.IO;

[Trait("Category", "Unit")]
public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    private string[] DirEntries() => Directory.EnumerateFileSystemEntries(_dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    /// <summary>
    /// A failing fsync is an IOException: .NET's Flush(true) ignores it, and NFS reports a write the server
    /// refused for quota only there, so a run record was committed empty with no error (a quota review).
    /// </summary>
    [Fact]
    public void AFailingFsync_IsAnIOException()
    {
        if (OperatingSystem.IsWindows()) return;
        using var closed = new Microsoft.Win32.SafeHandles.SafeFileHandle(987_654, ownsHandle: false); // EBADF: fsync fails
        var e = Assert.ThrowsAny<IOException>(() => AtomicFile.FsyncChecked(closed, "/x/record.json"));
        Assert.Contains("/x/record.json", e.Message);
    }

    /// <summary>
    /// NFS reports a write-back the server refused (quota, full disk) only at close(2), which .NET's Dispose ignores:
    /// a cut last-build.json was renamed over a good one (a full-quota review). The seam makes the close report EIO.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFailingClose_IsAnIOException_AndKeepsTheOldFile(bool durable)
    {
        var path = _dir.Write("last-build.json", "the good report");
        CrashPoints.Current = new CrashPoints.Plan(2, CrashPoints.Mode.Fail); // operations: write, close, rename
        try
        {
            var e = Assert.Throws<IOException>(() => AtomicFile.WriteAllText(path, "a report cut by the server", durable));
            Assert.Contains("(close)", e.Message);
            Assert.Contains(Path.GetFileName(path), e.Message);
        }
        finally { CrashPoints.Current = null; }
        Assert.Equal("the good report", File.ReadAllText(path));
        Assert.Equal(["last-build.json"], DirEntries()); // no temp left
    }

    /// <summary>
    /// A write of KdGat's own file (a stamp, a marker, a report) is no observation of a check: its stat before the
    /// replace was recorded, so a stamp the plan rewrote made every settled no-op's certificate see two answers
    /// for it, and none was written (CI: NoOpCertificateTests, after stamps went through AtomicFile).
    /// </summary>
    [Fact]
    public void AWrite_IsNoObservationOfACheck()
    {
        var path = Path.Combine(_dir.Path, "fingerprints");
        File.WriteAllText(path, "old");
        var seen = new KdGat.Core.NoOp.FileObservations();
        KdGat.Core.NoOp.FileObservations.RecordInto(seen);
        try { AtomicFile.WriteAllText(path, "new", durable: false); }
        finally { KdGat.Core.NoOp.FileObservations.RecordInto(null); }
        Assert.Empty(seen.All);
        Assert.Equal("new", File.ReadAllText(path));
    }

    /// <summary>A report or graph file given as a FIFO or device: the rename would replace it (root's /dev/null), a read of it would wait forever.</summary>
    [Fact]
    public void AFifoOrDeviceTarget_IsRefused_AndLeftAsItWas()
    {
        Assert.Equal(0, Sh.Run("mkfifo pipe", _dir.Path).ExitCode);
        var pipe = _dir["pipe"];
        var e = Assert.Throws<IOException>(() => AtomicFile.WriteAllText(pipe, "x"));
        Assert.Contains("FIFO", e.Message);
        Assert.Throws<IOException>(() => AtomicFile.WriteAllTextIfChanged(pipe, "x")); // refused before reading it
        Assert.Equal(PathKind.Other, PathStat.Of(pipe).Kind);
        Assert.Equal(["pipe"], DirEntries());

        // A character device, where the test may make one (root): a private /dev/null.
        if (Sh.Run("mknod -m 666 null c 1 3", _dir.Path).ExitCode == 0)
        {
            Assert.Contains("character device", Assert.Throws<IOException>(() => AtomicFile.WriteAllText(_dir["null"], "x")).Message);
            Assert.Equal("character device", PathStat.Of(_dir["null"]).TypeName);
        }
    }

    [Fact]
    public void TheRootDirectory_IsNoFileName() =>
        Assert.Contains("not a file name", Assert.Throws<IOException>(() => AtomicFile.WriteAllText("/", "x")).Message);

    /// <summary>A name that fits but whose temp name would not (a run record of a long sweep point) failed as "path too long" (a review).</summary>
    [Fact]
    public void AFileWhoseTempNameWouldBeTooLong_IsWritten()
    {
        var name = new string('r', 240) + ".json";

        AtomicFile.WriteAllText(_dir[name], "record");
        AtomicFile.WriteAllText(_dir[name], "record 2");

        Assert.Equal("record 2", File.ReadAllText(_dir[name]));
        Assert.Equal([name], DirEntries()); // no temp left
    }

    [Fact]
    public void WriteAllText_ExistingFile_ReplacesContent()
    {
        var path = _dir.Write("a.txt", "old content that is longer than the new one");

        AtomicFile.WriteAllText(path, "new");

        Assert.Equal("new", File.ReadAllText(path));
    }

    [Fact]
    public void WriteAllText_MissingDirectory_CreatesIt()
    {
        var path = _dir["x/y/z.json"];

        AtomicFile.WriteAllText(path, "{}");

        Assert.Equal("{}", File.ReadAllText(path));
    }

    [Fact]
    public void WriteAllText_RepeatedWrites_LeaveNoTempFiles()
    {
        var path = _dir["a.txt"];

        for (var i = 0; i < 5; i++) AtomicFile.WriteAllText(path, $"v{i}");

        Assert.Equal(["a.txt"], DirEntries());
        Assert.Equal("v4", File.ReadAllText(path));
    }

    [Fact]
    public void WriteAllBytes_TargetIsADirectory_ThrowsAndLeavesNoTempFile()
    {
        var target = _dir["target"];
        Directory.CreateDirectory(target);

        var e = Record.Exception(() => AtomicFile.WriteAllBytes(target, "data"u8));

        Assert.True(e is IOException or UnauthorizedAccessException, $"unexpected {e?.GetType().Name}");
        Assert.Equal(["target"], DirEntries());
        Assert.True(Directory.Exists(target));
    }

    [Fact]
    public void WriteAllText_ReplacesByRename_SoAnOpenReaderKeepsTheOldVersion()
    {
        var path = _dir.Write("a.txt", "old");
        using var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

        AtomicFile.WriteAllText(path, "new");

        using var sr = new StreamReader(reader);
        Assert.Equal("old", sr.ReadToEnd());
        Assert.Equal("new", File.ReadAllText(path));
    }

    [Fact]
    public void WriteAllTextIfChanged_IdenticalContent_ReturnsFalseAndDoesNotRewrite()
    {
        var path = _dir.Write("a.txt", "same");
        var past = new DateTime(2001, 2, 3, 4, 5, 6, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, past);
        var before = FileIdentity.Of(path)!.Value;

        var written = AtomicFile.WriteAllTextIfChanged(path, "same");

        Assert.False(written);
        var after = FileIdentity.Of(path)!.Value;
        Assert.Equal(before.Inode, after.Inode);
        Assert.Equal(before.MtimeNs, after.MtimeNs);
        Assert.Equal(past, File.GetLastWriteTimeUtc(path));
    }

    [Fact]
    public void WriteAllTextIfChanged_DifferentContent_ReturnsTrueAndReplaces()
    {
        var path = _dir.Write("a.txt", "old");
        var before = FileIdentity.Of(path)!.Value;

        var written = AtomicFile.WriteAllTextIfChanged(path, "new");

        Assert.True(written);
        Assert.Equal("new", File.ReadAllText(path));
        Assert.NotEqual(before.Inode, FileIdentity.Of(path)!.Value.Inode); // a new file renamed over the old one
        Assert.Equal(["a.txt"], DirEntries());
    }

    [Fact]
    public void WriteAllTextIfChanged_MissingFile_WritesAndReturnsTrue()
    {
        var path = _dir["new.txt"];

        Assert.True(AtomicFile.WriteAllTextIfChanged(path, "hello"));
        Assert.Equal("hello", File.ReadAllText(path));
    }

    private const string Guid32 = "0123456789abcdef0123456789abcdef";

    /// <summary>
    /// Exactly KdGat's own temp names: any dotted .tmp name was skipped by directory hashing, so a
    /// stage's own .meta.tmp in an output dir changed nothing downstream (found by review).
    /// </summary>
    [Theory]
    [InlineData(".a.txt.myhost-123." + Guid32 + ".tmp", true)]       // AtomicFile
    [InlineData(".a.b.txt.node-01.cluster-7." + Guid32 + ".tmp", true)] // dots in the name, '-' in the host
    [InlineData(".a.txt.-123." + Guid32 + ".tmp", true)]              // no host name
    [InlineData(".model.ckpt.4242." + Guid32 + ".tmp", true)]         // the sample stages' AtomicWrite
    [InlineData(".clock-77-" + Guid32 + ".tmp", true)]                // the hash cache's clock probe
    [InlineData(".a.txt.123.0123abcd.tmp", false)]
    [InlineData(".a.txt.myhost-123." + "0123456789ABCDEF0123456789abcdef" + ".tmp", false)]
    [InlineData(".a.txt.myhost-123.0123456789abcdef0123456789abcde.tmp", false)]
    [InlineData(".a.txt.myhost-12x." + Guid32 + ".tmp", false)]
    [InlineData(".." + Guid32 + ".tmp", false)]
    [InlineData("a.txt.123." + Guid32 + ".tmp", false)]
    [InlineData(".meta.tmp", false)]
    [InlineData(".x.tmp", false)]
    [InlineData(".c.txt.1.2.tmp", false)]
    [InlineData("a.tmp", false)]
    [InlineData(".hidden", false)]
    [InlineData(".a.tmp.bak", false)]
    public void IsTempName_RecognisesExactlyKdGatsTempNames(string name, bool expected) =>
        Assert.Equal(expected, AtomicFile.IsTempName(name));

    /// <summary>The name a real write gives its temp file is one IsTempName knows (a crash between write and rename leaves it).</summary>
    [Fact]
    public void Write_TempFileItLeavesOnACrash_IsATempName()
    {
        var plan = new CrashPoints.Plan(3, CrashPoints.Mode.Crash); // 1 write temp, 2 close it, 3 rename: crash
        CrashPoints.Current = plan;
        try { Assert.ThrowsAny<Exception>(() => AtomicFile.WriteAllText(_dir["a.txt"], "x")); }
        finally { CrashPoints.Current = null; }

        var left = Assert.Single(DirEntries());
        Assert.True(AtomicFile.IsTempName(left), left);
    }

    /// <summary>Stale-temp removal deletes only KdGat's temp names, not a stage's file that happens to carry this host's marker.</summary>
    [Fact]
    public void RemoveStaleTemps_LeavesANameThatIsNotATempName()
    {
        var host = new string(Environment.MachineName.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());
        var notOurs = _dir.Write($".run.{host}-999999999.tmp", "a stage's file");
        var ours = _dir.Write($".run.{host}-999999999.{Guid32}.tmp", "temp of a dead writer");

        AtomicFile.RemoveStaleTemps(_dir.Path);

        Assert.True(File.Exists(notOurs));
        Assert.False(File.Exists(ours));
    }
}
