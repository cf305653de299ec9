using KdGat.Core.Diagnostics;
using KdGat.Core.Tracking;
using Microsoft.Data.Sqlite;

namespace KdGat.Core.Tests.Tracking;

/// <summary>What a failing run index says to do.</summary>
[Trait("Category", "Unit")]
public sealed class IndexFailureTests
{
    [Fact]
    public void ALockedIndex_SaysAnotherProcessHoldsIt_NotToMoveTheIndex()
    {
        var e = IndexFailure.From(new SqliteException("SQLite Error 5: 'database is locked'.", SqliteRetry.Busy), ErrorCodes.IndexUpdateFailed, "/p/.kdgat/index.db");

        Assert.NotNull(e);
        Assert.Equal(ErrorCodes.IndexUpdateFailed, e.Code);
        Assert.Contains("the run index /p/.kdgat/index.db is locked by another process", e.Message);
        Assert.Contains("Close the program holding it", e.Message);
        Assert.DoesNotContain("KdGatIndex=", e.Message);
        Assert.DoesNotContain("SQLite failed", e.Message);
    }

    /// <summary>KdGat's own lock beside the index, held past its bound, was "a file of it cannot be read or written. Fix the path or its permissions".</summary>
    [Fact]
    public void ItsLockHeldByAnotherKdGatProcess_SaysHeld_NotPermissions()
    {
        using var dir = new KdGat.Core.Tests.Support.TempDir();
        var lockFile = Path.Combine(dir.Path, "index.db.lock");
        using var held = IndexLock.Exclusive(lockFile, TimeSpan.FromSeconds(5));
        var thrown = Assert.ThrowsAny<IOException>(() => IndexLock.Shared(lockFile, TimeSpan.FromMilliseconds(100)));

        var e = IndexFailure.From(thrown, ErrorCodes.IndexReadFailed, Path.Combine(dir.Path, "index.db"));

        Assert.NotNull(e);
        Assert.Contains("in use by another KdGat process", e.Message);
        Assert.Contains(lockFile, e.Message);
        Assert.DoesNotContain("permissions", e.Message);
        Assert.DoesNotContain("KdGatIndex=", e.Message);
    }

    /// <summary>
    /// A project a group shares: an index another member made 0644 (SQLite's mode before KdGat gave it the umask's)
    /// was "attempt to write a readonly database" at every build of the other member, with no word of whose it is.
    /// </summary>
    [Fact]
    public void AnIndexAnotherMemberMadeThatTheGroupMayNotWrite_NamesItsOwnerAndTheFix()
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess) return; // root makes the other member's file
        using var dir = new KdGat.Core.Tests.Support.TempDir();
        var db = Path.Combine(dir.Path, "index.db");
        File.WriteAllText(db, "");
        File.SetUnixFileMode(db, (UnixFileMode)0b110_100_100);
        Assert.Equal(0, lchown(db, 3001, -1));

        var e = IndexFailure.From(new SqliteException("SQLite Error 8: 'attempt to write a readonly database'.", SqliteRetry.ReadOnly), ErrorCodes.IndexUpdateFailed, db);

        Assert.NotNull(e);
        Assert.Contains($"'{db}' belongs to uid 3001", e.Message);
        Assert.Contains("chmod -R g+w", e.Message);
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int lchown(string path, int owner, int group);

    /// <summary>
    /// "or set KDGAT_INDEX_DIR" was said for every index; it is read only for a pipeline on a network
    /// file system without an explicit path (IndexLocation), so elsewhere following it changed nothing (a review).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KdgatIndexDir_IsAdvisedOnlyWhereItIsRead(bool indexDirApplies)
    {
        var e = IndexFailure.From(new UnauthorizedAccessException("Access denied"), ErrorCodes.IndexReadFailed, "/p/.kdgat/index.db", indexDirApplies);

        Assert.NotNull(e);
        Assert.Contains("-p:KdGatIndex=", e.Message);
        Assert.Equal(indexDirApplies, e.Message.Contains("KDGAT_INDEX_DIR"));
    }
}
