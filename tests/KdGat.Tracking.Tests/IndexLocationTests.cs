using KdGat.Core.Tracking;
using Xunit;

namespace KdGat.Tracking.Tests;

[Trait("Category", "Unit")]
public sealed class IndexLocationTests
{
    private static Func<string, string?> Env(params (string, string)[] vars) =>
        n => vars.FirstOrDefault(v => v.Item1 == n).Item2;

    [Fact]
    public void LocalPipeline_IndexInStateDir_Wal()
    {
        var loc = IndexLocation.Choose("/data/pipe", networkFs: _ => null, env: Env());
        Assert.Equal("/data/pipe/.kdgat/index.db", loc.DbPath);
        Assert.True(loc.Wal);
    }

    [Fact]
    public void PipelineOnNfs_IndexOnLocalDisk_KeyedByPipelinePath_Wal()
    {
        Func<string, string?> fs = p => p.StartsWith("/home/", StringComparison.Ordinal) ? "nfs" : null;
        var a = IndexLocation.Choose("/home/u/pipe", networkFs: fs, env: Env(("USER", "u")));
        var b = IndexLocation.Choose("/home/u/other", networkFs: fs, env: Env(("USER", "u")));
        Assert.StartsWith("/var/tmp/kdgat-u/", a.DbPath);
        Assert.True(a.Wal);
        Assert.NotEqual(a.DbPath, b.DbPath);
        Assert.Contains("nfs", a.Why);
        var custom = IndexLocation.Choose("/home/u/pipe", networkFs: fs, env: Env(("KDGAT_INDEX_DIR", "/scratch/local")));
        Assert.StartsWith("/scratch/local/", custom.DbPath);
    }

    /// <summary>KDGAT_INDEX_DIR is read only where the per-host directory is chosen: errors advise it only there.</summary>
    [Fact]
    public void TheIndexDirApplies_OnlyToAPipelineOnANetworkFileSystemWithoutAnExplicitPath()
    {
        Func<string, string?> fs = p => p.StartsWith("/home/", StringComparison.Ordinal) ? "nfs" : null;
        Assert.True(IndexLocation.Choose("/home/u/pipe", networkFs: fs, env: Env()).IndexDirApplies);
        Assert.False(IndexLocation.Choose("/data/pipe", networkFs: fs, env: Env()).IndexDirApplies);
        Assert.False(IndexLocation.Choose("/home/u/pipe", explicitPath: "/data/i.db", networkFs: fs, env: Env()).IndexDirApplies);
        Assert.False(IndexLocation.Choose("/home/u/pipe", networkFs: fs, env: Env(("KDGAT_INDEX", "/data/i.db"))).IndexDirApplies);
    }

    /// <summary>-p:KdGatIndex=/ crashed (no directory of "/"); a device made SQLite wait ~36 s before an I/O error.</summary>
    [Theory]
    [InlineData("/", "a directory")]
    [InlineData("/dev/null", "character device")]
    public void AnExplicitPathThatIsNoDatabaseFile_IsRefused(string path, string what)
    {
        var e = Assert.Throws<IOException>(() => IndexLocation.Choose("/data/pipe", explicitPath: path, networkFs: _ => null, env: Env()));
        Assert.Contains(what, e.Message);
        Assert.Contains("-p:KdGatIndex", e.Message);
    }

    /// <summary>
    /// A FIFO where the default index goes was SQLite's "I/O error ... -wal/-shm not a regular file", naming
    /// neither the index file nor what to do (a FIFO review); now the path, what it is, and to remove it.
    /// </summary>
    [Fact]
    public void AFifoAtTheDefaultIndexPath_IsNamed_WithWhatToDo()
    {
        var root = Path.Combine(Path.GetTempPath(), "kdgat-indexfifo-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(root, ".kdgat"));
        try
        {
            var db = Path.Combine(root, ".kdgat", "index.db");
            Assert.Equal(LocalPipeline(root).DbPath, db);
            var mkfifo = System.Diagnostics.Process.Start("mkfifo", [db])!;
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
            var e = Assert.Throws<IOException>(() => LocalPipeline(root));
            Assert.Contains(db, e.Message);
            Assert.Contains("FIFO", e.Message);
            Assert.Contains("Remove it", e.Message);
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    private IndexLocation LocalPipeline(string root) => IndexLocation.Choose(root, networkFs: _ => null, env: Env());

    [Fact]
    public void ExplicitPathOnNfs_UsesRollbackJournalNotWal()
    {
        Func<string, string?> fs = p => p.StartsWith("/home/", StringComparison.Ordinal) ? "nfs" : null;
        var loc = IndexLocation.Choose("/data/pipe", explicitPath: "/home/u/index.db", networkFs: fs, env: Env());
        Assert.Equal("/home/u/index.db", loc.DbPath);
        Assert.False(loc.Wal);
        var fromEnv = IndexLocation.Choose("/data/pipe", networkFs: _ => null, env: Env(("KDGAT_INDEX", "idx/i.db")));
        Assert.Equal("/data/pipe/idx/i.db", fromEnv.DbPath);
        Assert.True(fromEnv.Wal);
    }

    [Fact]
    public void Statfs_ReadsRealFileSystemTypes()
    {
        Assert.Equal(0x9fa0, FileSystemKind.TypeOf("/proc/self")); // PROC_SUPER_MAGIC
        Assert.NotNull(FileSystemKind.TypeOf(Path.Combine(Path.GetTempPath(), "does", "not", "exist")));
        Assert.Equal("nfs", FileSystemKind.NetworkName(0x6969));
        Assert.Equal("lustre", FileSystemKind.NetworkName(0x0BD00BD0));
        Assert.Null(FileSystemKind.NetworkName(0xEF53)); // ext4
    }
}
