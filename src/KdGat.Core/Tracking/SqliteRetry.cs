using Microsoft.Data.Sqlite;

namespace KdGat.Core.Tracking;

/// <summary>
/// Retries an index operation (a whole transaction) when SQLite says busy, locked or disk I/O
/// error, with exponential backoff and jitter. busy_timeout already waits inside SQLite; this
/// covers what it does not (busy on BEGIN IMMEDIATE after a WAL checkpoint, transient I/O errors,
/// a snapshot that went stale). A disk I/O error gets a few quick tries only: a full disk reports it
/// too, and 40 tries with backoff kept a build silent for 35 s before its KDG5004 (a review).
/// Busy or locked is waited for here, not inside SQLite (the index keeps busy_timeout to a second),
/// so a wait can be said: KdGat's own writers hold the write lock for one batch of rows, milliseconds;
/// a lock held for seconds is another program's open transaction (sqlite3 after BEGIN, a database
/// browser), which kept a build silent ~2 min before a KDG5004 that advised moving the index.
/// </summary>
internal static class SqliteRetry
{
    public const int Perm = 3, Busy = 5, Locked = 6, ReadOnly = 8, IoErr = 10, Corrupt = 11, CantOpen = 14, Protocol = 15, Auth = 23, NotADb = 26;

    /// <summary>
    /// Tries of an operation failing with a disk I/O error: backoff 10-640 ms between them, 1-2 s in
    /// all, enough for a passing error of a network file system, not the 35 s a full disk took.
    /// </summary>
    public const int MaxIoErrAttempts = 8;

    /// <summary>
    /// How long a busy or locked index is waited for in all. 30 s, not the 2 min it was: 32 processes
    /// writing at once (ConcurrencyTests) wait far less, and a lock held longer is a program that will
    /// not let go soon; the user is told which and what to do (IndexFailure).
    /// </summary>
    public static readonly TimeSpan LockedWait = TimeSpan.FromSeconds(30);

    /// <summary>How long busy or locked lasts before the waiting callback is called (once): a wait is never silent.</summary>
    public static readonly TimeSpan SayWaitingAfter = TimeSpan.FromSeconds(3);

    public static bool IsLocked(SqliteException e) => e.SqliteErrorCode is Busy or Locked;
    public static bool IsTransient(SqliteException e) => e.SqliteErrorCode is Busy or Locked or IoErr or Protocol;
    public static bool IsCorrupt(SqliteException e) => e.SqliteErrorCode is Corrupt or NotADb;

    /// <summary>The index cannot be opened or written here (read-only, permissions, cannot open a file of it): never damage.</summary>
    public static bool CannotOpenHere(SqliteException e) => e.SqliteErrorCode is CantOpen or ReadOnly or Perm or Auth;

    /// <summary>How many retries were needed across the process (for tests and the concurrency numbers).</summary>
    public static int Retries => _retries;
    private static int _retries;

    /// <param name="waiting">Called once when busy or locked has lasted <see cref="SayWaitingAfter"/>.</param>
    public static T Run<T>(Func<T> op, int maxAttempts = 40, TimeSpan? maxTotal = null, TimeProvider? time = null, Action? waiting = null)
    {
        var clock = time ?? TimeProvider.System;
        var start = clock.GetUtcNow();
        var deadline = start + (maxTotal ?? LockedWait);
        var delayMs = 10.0;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return op();
            }
            catch (SqliteException e) when (IsTransient(e) && attempt < (e.SqliteErrorCode == IoErr ? Math.Min(maxAttempts, MaxIoErrAttempts) : maxAttempts)
                                            && clock.GetUtcNow() < deadline)
            {
                Interlocked.Increment(ref _retries);
                if (waiting is not null && IsLocked(e) && clock.GetUtcNow() - start >= SayWaitingAfter)
                {
                    waiting();
                    waiting = null;
                }
                Time.Clock.Sleep(clock, TimeSpan.FromMilliseconds(delayMs * (0.5 + Random.Shared.NextDouble())));
                delayMs = Math.Min(delayMs * 2, 1000);
            }
        }
    }

    public static void Run(Action op, Action? waiting = null) => Run(() => { op(); return 0; }, waiting: waiting);
}
