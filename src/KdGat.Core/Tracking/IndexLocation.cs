using System.Security.Cryptography;
using System.Text;

namespace KdGat.Core.Tracking;

/// <summary>
/// Where the SQLite index lives and how it is journalled.
///
/// The index is a cache: the JSON records under .kdgat/records are the truth and it is rebuilt
/// from them at any time. So it does not need to be shared, and it must never sit where SQLite's
/// locks are unreliable:
///   - pipeline on a local disk: {root}/.kdgat/index.db, WAL (readers never block the writer);
///   - pipeline on NFS/Lustre/GPFS/...: a local directory keyed by the pipeline path,
///     {KDGAT_INDEX_DIR or /var/tmp/kdgat-{user}}/{sha256(root)[..16]}/index.db, WAL. Each
///     orchestrating host then has its own index, rebuilt from the shared records when first
///     used; nothing on NFS is ever locked by SQLite;
///   - an explicit path (-p:KdGatIndex / KDGAT_INDEX) is honoured; if it is on a network file
///     system, journal_mode=DELETE (no shared-memory file) is used instead of WAL.
/// /var/tmp rather than $XDG_RUNTIME_DIR or /tmp: it survives logouts and reboots (so the index
/// is not rebuilt every session) and is local on cluster login nodes, where $HOME is NFS.
/// </summary>
internal sealed record IndexLocation(string DbPath, bool Wal, string Why)
{
    /// <summary>Named by -p:KdGatIndex or KDGAT_INDEX: the one kind of index path two pipelines can share by mistake.</summary>
    public bool Explicit { get; init; }

    /// <summary>In the per-host directory, the one place KDGAT_INDEX_DIR is read: only here may an error advise it.</summary>
    public bool IndexDirApplies { get; init; }

    /// <summary>What an error says to do to put the index elsewhere.</summary>
    public static string MoveAdvice(bool indexDirApplies) =>
        "pass -p:KdGatIndex=<path on a local, writable disk>" + (indexDirApplies ? " (or set KDGAT_INDEX_DIR)" : "");

    public static IndexLocation Choose(string root, string? explicitPath = null, Func<string, string?>? networkFs = null, Func<string, string?>? env = null)
    {
        networkFs ??= FileSystemKind.NetworkNameOf;
        env ??= Environment.GetEnvironmentVariable;
        root = Path.GetFullPath(root);

        var requested = !string.IsNullOrWhiteSpace(explicitPath) ? explicitPath : env("KDGAT_INDEX");
        if (!string.IsNullOrWhiteSpace(requested))
        {
            var path = Path.GetFullPath(Path.Combine(root, requested));
            // SQLite would wait on a FIFO or device, and "/" has no file name to open (a directory that
            // has one is RunIndex's KDG5003: it cannot be created there).
            if (Hashing.PathStat.NotAFileToWrite(path) is { } what)
                throw new IOException($"the run index path '{requested}' (-p:KdGatIndex or KDGAT_INDEX) is {what}, not a database file. Give a file path, e.g. -p:KdGatIndex=.kdgat/index.db.");
            var fs = networkFs(path);
            return fs is null
                ? new(path, true, "explicit path on a local file system (WAL)") { Explicit = true }
                : new(path, false, $"explicit path on {fs} (journal_mode=DELETE: WAL needs a local file system)") { Explicit = true };
        }

        var stateDir = Path.Combine(root, Pipeline.PipelineLayout.StateDirName);
        var rootFs = networkFs(stateDir);
        if (rootFs is null) return Openable(new(Path.Combine(stateDir, "index.db"), true, "pipeline on a local file system (WAL)"));

        var baseDir = env("KDGAT_INDEX_DIR");
        if (string.IsNullOrWhiteSpace(baseDir))
            baseDir = Path.Combine("/var/tmp", "kdgat-" + (env("USER") ?? Environment.UserName));
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(root)))[..16].ToLowerInvariant();
        var local = Path.Combine(Path.GetFullPath(baseDir), key, "index.db");
        var localFs = networkFs(local);
        return Openable(localFs is null
            ? new(local, true, $"pipeline on {rootFs}: index kept on local disk (WAL); rebuilt from the shared records when missing") { IndexDirApplies = true }
            : new(local, false, $"pipeline on {rootFs} and {baseDir} on {localFs} too: journal_mode=DELETE") { IndexDirApplies = true });
    }

    /// <summary>
    /// The default index path with a FIFO, device or socket in its place (left by hand, a sync tool) was SQLite's
    /// I/O error naming its -wal or -journal file (a FIFO review): the path itself is named, and what to do.
    /// </summary>
    private static IndexLocation Openable(IndexLocation location) =>
        Hashing.PathStat.NotAFileToWrite(location.DbPath) is { } what
            ? throw new IOException($"the run index {location.DbPath} is {what}, not a database file (put there by hand or by a sync tool?). Remove it: the next build makes the index again from the run records.")
            : location;
}
