using KdGat.Core.Tests.Support;
using KdGat.Core.Tracking;
using Microsoft.Data.Sqlite;

namespace KdGat.Core.Tests.Tracking;

/// <summary>Which SQLite errors are tried again, and how often.</summary>
[Trait("Category", "Unit")]
public sealed class SqliteRetryTests
{
    private static (int Tries, SqliteException? Error) Failing(int code, int maxAttempts = 40)
    {
        var tries = 0;
        try { SqliteRetry.Run<int>(() => { tries++; throw new SqliteException("failing", code); }, maxAttempts); }
        catch (SqliteException e) { return (tries, e); }
        return (tries, null);
    }

    /// <summary>A full disk reports SQLITE_IOERR too: 40 tries with backoff kept a build silent for 35 s (a review); a few seconds' worth stay for NFS.</summary>
    [Fact]
    public void DiskIoError_IsTriedAFewTimesOnly()
    {
        var (tries, error) = Failing(SqliteRetry.IoErr);

        Assert.Equal(SqliteRetry.MaxIoErrAttempts, tries);
        Assert.Equal(SqliteRetry.IoErr, error!.SqliteErrorCode);
    }

    [Fact]
    public void Busy_IsTriedUpToTheLimitGiven()
    {
        Assert.Equal(8, Failing(SqliteRetry.Busy, maxAttempts: 8).Tries);
    }

    /// <summary>
    /// Another process holding a write transaction on the index kept a build silent ~2 min, then
    /// "SQLite failed ... pass -p:KdGatIndex" (a review). Now a line once it has waited a few seconds,
    /// and a bounded wait in all.
    /// </summary>
    [Theory]
    [InlineData(SqliteRetry.Busy)]
    [InlineData(SqliteRetry.Locked)]
    public void ALockHeldOn_IsSaidOnceAfterAFewSeconds_AndWaitedForABoundedTime(int code)
    {
        var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var start = time.Now;
        var saidAt = new List<TimeSpan>();

        var e = Assert.Throws<SqliteException>(() => SqliteRetry.Run<int>(() =>
        {
            time.Advance(TimeSpan.FromSeconds(2)); // each try waits in SQLite's busy handler (the backoff between them is real time)
            throw new SqliteException("database is locked", code);
        }, time: time, waiting: () => saidAt.Add(time.Now - start)));

        Assert.Equal(code, e.SqliteErrorCode);
        var said = Assert.Single(saidAt);
        Assert.InRange(said, SqliteRetry.SayWaitingAfter, SqliteRetry.SayWaitingAfter + TimeSpan.FromSeconds(2));
        Assert.InRange(time.Now - start, SqliteRetry.LockedWait, SqliteRetry.LockedWait + TimeSpan.FromSeconds(2));
    }

    [Theory]
    [InlineData(13)] // SQLITE_FULL
    [InlineData(SqliteRetry.Corrupt)]
    [InlineData(SqliteRetry.CantOpen)]
    public void OtherErrors_AreNotTriedAgain(int code)
    {
        Assert.Equal(1, Failing(code).Tries);
    }

    [Fact]
    public void ASucceedingTry_EndsTheRetries()
    {
        var tries = 0;
        var value = SqliteRetry.Run(() => ++tries < 3 ? throw new SqliteException("busy", SqliteRetry.Busy) : 42);

        Assert.Equal((42, 3), (value, tries));
    }
}
