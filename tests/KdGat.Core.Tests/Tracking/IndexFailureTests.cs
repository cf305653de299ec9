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
