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
}
