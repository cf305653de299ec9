using KdGat.Core.Diagnostics;
using Microsoft.Data.Sqlite;

namespace KdGat.Core.Tracking;

/// <summary>
/// Turns a failure of the run index or the records (SQLite error, full disk, read-only or
/// unusable path) into a KDG error that says what to do, instead of a stack trace. After a build
/// it is a warning (<see cref="ErrorCodes.IndexUpdateFailed"/>): the build's result stands and the
/// records are safe; for Status, History, Compare and Report an error (<see cref="ErrorCodes.IndexReadFailed"/>).
/// </summary>
internal static class IndexFailure
{
    private const int Full = 13;

    /// <summary>The KdgException for <paramref name="e"/>, or null when it is not a tracking failure.</summary>
    /// <param name="indexDirApplies">The index is where KDGAT_INDEX_DIR puts it (<see cref="IndexLocation.IndexDirApplies"/>): only then is that advised.</param>
    public static KdgException? From(Exception e, string code, string? indexPath, bool indexDirApplies = false)
    {
        const string stands = "KdGat: the build's result stands, but ";
        if (e is KdgException k) // already a KDG error: only "cannot be created or opened here" (KDG5003, KDG5031) is a warning after a build
            return code == ErrorCodes.IndexUpdateFailed && k.Code is ErrorCodes.IndexUnusable or ErrorCodes.IndexCannotOpen ? new KdgException(code, stands + k.Message, k.File, inner: k) : null;
        var where = indexPath is null ? "the run index" : $"the run index {indexPath}";
        // After a build a warning that the result stands; for the read targets the error it is.
        KdgException Said(string message) => new(code, code == ErrorCodes.IndexUpdateFailed ? stands + message : message, indexPath, inner: e);
        if (e is SqliteException locked && SqliteRetry.IsLocked(locked))
        {
            // Moving the index (the advice below) does not help: another program has it open.
            var held = $"{where} is locked by another process: it stayed locked for {SqliteRetry.LockedWait.TotalSeconds:0} s (a program with a write transaction open on it, such as sqlite3 or a database browser, or another build writing it). Close the program holding it, or end its transaction, or wait for that build to finish, then run again. The run records in .kdgat/records are not affected; the next tracking target indexes them. ({e.Message.Trim()})";
            return Said(held);
        }
        if (e is IndexLockHeldException)
        {
            // KdGat's own lock beside the index: only another KdGat process holds it (one replacing a damaged index, or hung).
            var held = $"{where} is in use by another KdGat process ({e.Message.Trim()}): another build, Status or Report, or one replacing a damaged index, holds it. Wait for it to finish, or end it if it hangs, then run again. The run records in .kdgat/records are not affected; the next tracking target indexes them.";
            return Said(held);
        }
        var what = e switch
        {
            SqliteException { SqliteErrorCode: Full } => "the disk holding it is full. Free space there",
            SqliteException { SqliteErrorCode: SqliteRetry.ReadOnly or SqliteRetry.Perm or SqliteRetry.Auth or SqliteRetry.CantOpen } =>
                "it cannot be created or written there (read-only file system, permissions, or the path is a directory). Make it writable",
            SqliteException { SqliteErrorCode: SqliteRetry.IoErr } => "the file system reported an I/O error (full, read-only or failing disk, one of its files -wal, -shm, -journal is not a regular file, or a passing error of a network file system with other builds writing it: then running the command again works). Check the disk and those files",
            SqliteException => "SQLite failed",
            IOException when IsDiskFull(e) => "the disk holding it is full. Free space there",
            IOException or UnauthorizedAccessException => "a file of it cannot be read or written. Fix the path or its permissions",
            _ => null,
        };
        if (what is null) return null;
        var message = $"{where} cannot be used: {what}, or {IndexLocation.MoveAdvice(indexDirApplies)}, then run again. The run records in .kdgat/records are not affected; the index is rebuilt from them. ({e.Message.Trim()}){SharedAdvice(indexPath)}";
        return Said(message);
    }

    /// <summary>
    /// In a project a group shares: the index, or its -wal or -shm, another member made that the group may not write
    /// (an index from before KdGat gave it the umask's mode, or a member's umask 022), named with the fix; else "".
    /// </summary>
    internal static string SharedAdvice(string? indexPath) =>
        indexPath is null ? "" : new[] { "", "-wal", "-shm" }.Select(x => IO.GroupAccess.Advice(indexPath + x)).FirstOrDefault(a => a.Length > 0) ?? "";

    // ENOSPC (28) and EDQUOT (122): .NET puts the errno in the low bits of HResult on Unix.
    private static bool IsDiskFull(Exception e) => (e.HResult & 0xFFFF) is 28 or 122 || e.Message.Contains("No space left", StringComparison.Ordinal);
}
