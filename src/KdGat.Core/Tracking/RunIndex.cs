using System.Globalization;
using System.Text.Json;
using KdGat.Core.Diagnostics;
using Microsoft.Data.Sqlite;

namespace KdGat.Core.Tracking;

/// <summary>One indexed run: the record as it was written, and the file it came from (relative to the records dir).</summary>
internal sealed record IndexedRun(RunRecord Record, string RecordFile);

internal sealed record IngestResult(int Added, int AlreadyIndexed, int Damaged, int Files)
{
    /// <summary>Rows dropped: their record files are gone.</summary>
    public int Gone { get; init; }
}

/// <summary>
/// The SQLite index over the immutable run records: a cache, written only by the process that
/// ingests or queries (the orchestrator), never by compute nodes. Ingest is idempotent (record id
/// is the primary key, INSERT OR IGNORE, the set of ingested files is remembered), every write is
/// one transaction retried on busy/locked/I/O errors, and a missing, damaged or too-new database
/// is moved aside and rebuilt from the records, so history can never be lost with it.
/// </summary>
internal sealed class RunIndex : IDisposable
{
    /// <summary>user_version of a current index. Each step in <see cref="Migrations"/> moves it up by one.</summary>
    public const int SchemaVersion = 4;

    private static readonly string[] Migrations =
    [
        // 0 -> 1: runs with their params and metrics.
        """
        CREATE TABLE runs(
          record_id TEXT PRIMARY KEY, build_id TEXT NOT NULL, dataset TEXT NOT NULL, stage TEXT NOT NULL,
          fingerprint TEXT NOT NULL, executor TEXT, job_id TEXT, attempt INTEGER NOT NULL, state TEXT NOT NULL,
          exec_state TEXT, exit_code INTEGER, started_utc TEXT, finished_utc TEXT NOT NULL, wall_s REAL,
          cpu_s REAL, peak_rss_kb INTEGER, mem_request_mb INTEGER, host TEXT, log TEXT, detail TEXT,
          record_file TEXT NOT NULL, json TEXT NOT NULL);
        CREATE INDEX runs_by_stage ON runs(stage, dataset, finished_utc);
        CREATE TABLE params(record_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(record_id, name)) WITHOUT ROWID;
        CREATE TABLE metrics(record_id TEXT NOT NULL, name TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY(record_id, name)) WITHOUT ROWID;
        """,
        // 1 -> 2: remember which record files were ingested, so an ingest reads only new files.
        """
        CREATE TABLE record_files(path TEXT PRIMARY KEY, record_id TEXT NOT NULL) WITHOUT ROWID;
        INSERT OR IGNORE INTO record_files(path, record_id) SELECT record_file, record_id FROM runs;
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        """,
        // 2 -> 3: a swept instance's grid point as a column, so Status asks for the newest run of each
        // instance, and for one attempt's run, without reading every record's JSON into memory.
        """
        ALTER TABLE runs ADD COLUMN variant TEXT NOT NULL DEFAULT '';
        UPDATE runs SET variant = coalesce(json_extract(json, '$.variant'), '');
        CREATE INDEX runs_by_instance ON runs(dataset, stage, variant, finished_utc, record_id);
        CREATE INDEX runs_by_build ON runs(build_id, dataset);
        """,
        // 3 -> 4: the record's place in the pipeline's record sequence, the order runs are told apart by (not a clock).
        """
        ALTER TABLE runs ADD COLUMN seq INTEGER;
        UPDATE runs SET seq = json_extract(json, '$.seq');
        """,
    ];

    /// <summary>
    /// Runs newest first, and oldest first: by the record sequence (<see cref="RunRecord.Seq"/>; records without one,
    /// older, first), then finish time. By finish time alone, a clock running fast made an older run the newest.
    /// </summary>
    private const string NewestFirst = "seq DESC, finished_utc DESC, record_id DESC", OldestFirst = "seq, finished_utc, record_id";

    /// <summary><see cref="OldestFirst"/> for runs in memory.</summary>
    public static IOrderedEnumerable<IndexedRun> InOrder(IEnumerable<IndexedRun> runs) =>
        runs.OrderBy(r => r.Record.Seq ?? 0).ThenBy(r => Time(r.Record.FinishedUtc), StringComparer.Ordinal).ThenBy(r => r.Record.RecordId, StringComparer.Ordinal);

    private readonly IBuildLog? _log;
    private IndexLock _lock;
    private SqliteConnection _db;

    private readonly Action _lockedNote;
    private CancellationToken _cancel;

    private RunIndex(IndexLocation location, RecordStore records, IBuildLog? log, IndexLock @lock, SqliteConnection db, Action lockedNote)
    {
        _lockedNote = lockedNote;
        Location = location;
        Records = records;
        _log = log;
        _lock = @lock;
        _db = db;
    }

    public IndexLocation Location { get; }
    public RecordStore Records { get; }
    public string LockPath => Location.DbPath + ".lock";
    /// <summary>Set when this open found the database missing, damaged or too new and rebuilt it.</summary>
    public string? RebuiltBecause { get; private set; }

    /// <summary>Opens (creating, migrating or rebuilding as needed) and ingests every record not yet indexed.</summary>
    /// <param name="cancel">Ctrl+C: ingesting stops between record files (what was written stays; the next open goes on).</param>
    public static RunIndex Open(IndexLocation location, RecordStore records, IBuildLog? log = null, CancellationToken cancel = default)
    {
        if (location.Explicit && NotKdGats(location.DbPath) is { } what)
            throw new KdgException(ErrorCodes.IndexUnusable,
                $"the run index path {location.DbPath} (-p:KdGatIndex or KDGAT_INDEX) is {what}, not a run index KdGat made; KdGat leaves it as it is. Give the path of a new file (e.g. -p:KdGatIndex=.kdgat/index.db) or leave -p:KdGatIndex and KDGAT_INDEX out; if it is an index of KdGat's that is damaged, delete it. The run records are not affected.",
                location.DbPath);
        Directory.CreateDirectory(Path.GetDirectoryName(location.DbPath)!);
        var lockPath = location.DbPath + ".lock";
        var existed = File.Exists(location.DbPath);
        var lockedNote = LockedNote(log, location.DbPath);
        IndexLock shared;
        try
        {
            shared = IndexLock.Shared(lockPath, TimeSpan.FromMinutes(2), waiting: () => log?.Warn(ErrorCodes.LockWait,
                $"KdGat: waiting for the run index lock {lockPath}: another process is rebuilding or replacing the index (up to 2 min)"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not IndexLockHeldException)
        {
            throw CannotOpenHere(location, $"its lock file {Path.GetFileName(lockPath)}: {e.Message.Trim()}", e); // a read-only mount fails here first
        }
        SqliteConnection? db = null;
        string? problem;
        try
        {
            (db, problem) = TryOpen(location, lockedNote);
        }
        catch
        {
            shared.Dispose();
            throw;
        }
        var index = db is null
            ? Replace(location, records, log, shared, problem!, lockedNote)
            : new RunIndex(location, records, log, shared, db, lockedNote);
        if (!existed && index.RebuiltBecause is null) index.RebuiltBecause = "no index yet";
        try
        {
            if (index.ClaimFor(records.Dir) is { } other)
            {
                // A default index that holds another live pipeline's runs (an index.db copied from another
                // clone): its rows are not this pipeline's records, and History would show them as its own.
                log?.Warn(ErrorCodes.IndexRebuilt, $"KdGat: the run index {location.DbPath} held the runs of another pipeline ({other}), for example copied from another clone; it was rebuilt from this pipeline's records.");
                index.Rebuild();
                index.ClaimFor(records.Dir);
                index.RebuiltBecause = "it held another pipeline's runs";
            }
        }
        catch { index.Dispose(); throw; }
        index._cancel = cancel;
        try { index.Ingest(); }
        catch (OperationCanceledException) { index.Dispose(); throw; }
        return index;
    }

    /// <summary>
    /// -question: the index at <paramref name="location"/> copied to a temp dir and brought up to date there, so the
    /// answers are the records' and the real index is not written (Status, Report wrote it under -question: a review).
    /// WouldChange: what opening the real one would have changed, or null.
    /// </summary>
    public static (RunIndex Index, string? WouldChange) OpenCopy(IndexLocation location, RecordStore records, IBuildLog? log = null, CancellationToken cancel = default)
    {
        var dir = Directory.CreateTempSubdirectory("kdgat-question-index-").FullName;
        try
        {
            var copy = Path.Combine(dir, "index.db");
            CopyWhole(location.DbPath, copy);
            var index = Open(location with { DbPath = copy }, records, log, cancel);
            index._tempDir = dir;
            var why = index.RebuiltBecause is { } rebuilt ? $"it would be made again: {rebuilt}"
                : index.LastIngest is { } r && (r.Added > 0 || r.Gone > 0) ? $"{r.Added} run record(s) to add, {r.Gone} gone to drop" : null;
            return (index, why);
        }
        catch
        {
            Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    /// <summary>How many times <see cref="CopyWhole"/> copies an index that changed during the copy before it gives up.</summary>
    internal const int MaxCopies = 40;

    /// <summary>
    /// Copies <paramref name="db"/> with its -wal and -journal as one state, though a build may be writing it (the
    /// index lock is shared by writers, so it does not keep them out): copied one after the other, a WAL checkpoint
    /// between them gave a copy without committed rows, or damaged (a false KDG1218, "made again", or an SQLite
    /// error). Their headers are read before and after the copy; when any changed (the WAL restarted or truncated,
    /// a rollback journal came or went, the file change counter moved) it is copied again. With the WAL header
    /// unchanged no frame was overwritten, so every page a checkpoint wrote into the main file meanwhile is in the
    /// copied WAL too, and SQLite drops a frame cut short at its end. No SQLite connection to the real index: it
    /// would leave -wal and -shm files where -question writes nothing.
    /// </summary>
    /// <param name="betweenFiles">Called after the main file is copied (tests: a checkpoint at the worst moment).</param>
    internal static void CopyWhole(string db, string to, Action? betweenFiles = null)
    {
        string[] suffixes = ["", "-wal", "-journal"];
        for (var attempt = 1; ; attempt++)
        {
            var before = Marks();
            foreach (var suffix in suffixes)
            {
                File.Delete(to + suffix);
                try { File.Copy(db + suffix, to + suffix); }
                catch (FileNotFoundException) { } // none, or gone meanwhile (a journal at commit): the marks tell
                if (suffix.Length == 0) betweenFiles?.Invoke();
            }
            if (Marks() == before) return;
            if (attempt == MaxCopies)
                throw new KdgException(ErrorCodes.IndexReadFailed,
                    $"the run index {db} changed during each of {MaxCopies} copies -question took of it: another process (a build) writes it without pause. Run again when that build is done. The run records in .kdgat/records are not affected.", db);
            KdGat.Core.Time.Clock.Sleep(TimeProvider.System, TimeSpan.FromMilliseconds(Math.Min(5 * attempt, 100)));
        }

        // The database header (its change counter), the WAL header (salts and checkpoint sequence), the journal's.
        string Marks() => $"{Head(db, 100)}/{Head(db + "-wal", 32)}/{Head(db + "-journal", 28)}";

        static string Head(string path, int bytes)
        {
            try { return Convert.ToHexString(IO.SmallFile.Head(path, bytes)); }
            catch (FileNotFoundException) { return "none"; }
        }
    }

    /// <summary>The temp dir of an <see cref="OpenCopy"/> index, deleted with it.</summary>
    private string? _tempDir;

    /// <summary>
    /// One index serves one pipeline: record files are keyed relative to the records dir, so two
    /// clones sharing a -p:KdGatIndex showed each other's runs as their own (Status, Compare; a
    /// hostile-input pass). The index remembers whose records it holds; an explicit path that holds
    /// another pipeline's is refused (KDG5003), a default one follows its pipeline when it moves and is
    /// rebuilt from this pipeline's records when the other pipeline still exists (an index.db copied
    /// from another clone).
    /// </summary>
    private const string OwnerQuery = "SELECT value FROM meta WHERE key = 'records_dir';";

    /// <returns>The other pipeline's records dir when a default index held a live other pipeline's runs (the caller rebuilds it); else null.</returns>
    private string? ClaimFor(string recordsDir)
    {
        var mine = Path.GetFullPath(recordsDir);
        if (Sql(() => Scalar(_db, OwnerQuery)?.ToString()) == mine) return null; // the usual case: no write
        string? foreign = null;
        var owner = Sql(() =>
        {
            using var tx = _db.BeginTransaction(deferred: false);
            using (var insert = Command(tx, "INSERT OR IGNORE INTO meta(key, value) VALUES('records_dir', $v);"))
            {
                insert.Parameters.AddWithValue("$v", mine);
                insert.ExecuteNonQuery();
            }
            var value = Scalar(_db, OwnerQuery, tx)?.ToString();
            // The same pipeline under another name (moved, reached through a symlink) or an owner
            // that is gone: take it over. Only a live other pipeline's records keep an explicit index.
            foreign = value is not null && value != mine && !Location.Explicit && !SameOrGone(value, mine) ? value : null;
            if (value != mine && (!Location.Explicit || value is null || SameOrGone(value, mine)))
            {
                using var update = Command(tx, "UPDATE meta SET value = $v WHERE key = 'records_dir';");
                update.Parameters.AddWithValue("$v", mine);
                update.ExecuteNonQuery();
                value = mine;
            }
            tx.Commit();
            return value;
        });
        if (owner != mine)
            throw new KdgException(ErrorCodes.IndexUnusable,
                $"the run index {Location.DbPath} (-p:KdGatIndex or KDGAT_INDEX) holds the runs of another pipeline ({owner}); one index serves one pipeline, or each would show the other's runs as its own. Give this pipeline its own index path, or leave -p:KdGatIndex out (or delete that index file to give it to this pipeline). The run records are not affected.",
                Location.DbPath);
        return foreign;
    }

    /// <summary>
    /// Why the file at an explicit index path is not KdGat's to use; null when it is missing, empty,
    /// an SQLite database without tables (one being created) or KdGat's own index (its meta and
    /// record_files tables, which KdGat's schema makes together; another of its tables may be
    /// damaged). -p:KdGatIndex=kdgat.yaml, a typo, moved the user's config aside as a "damaged
    /// index"; another program's database got KdGat's tables. Read
    /// with immutable=1: no lock taken, no -shm or -wal created (an existing -wal is read: an index
    /// another KdGat has just made and still has open holds its tables there; a test covers it).
    /// </summary>
    private static string? NotKdGats(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists || info.Length == 0) return null;
        if (!IO.SmallFile.Head(path, 16).AsSpan().SequenceEqual("SQLite format 3\0"u8))
            return "an existing file that is not an SQLite database";
        try
        {
            var tables = TablesOf(new Uri(path).AbsoluteUri + "?immutable=1");
            return Ours(tables) ? null : $"an SQLite database of another program (its tables: {string.Join(", ", tables.Take(5))})";
        }
        catch (SqliteException e)
        {
            return $"an SQLite database that cannot be read ({e.Message})";
        }

        static bool Ours(List<string> t) => t.Count == 0 || (t.Contains("meta") && t.Contains("record_files"));

        static List<string> TablesOf(string source)
        {
            using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = source, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name;";
            using var r = cmd.ExecuteReader();
            var names = new List<string>();
            while (r.Read()) names.Add(r.GetString(0));
            return names;
        }
    }

    private static bool SameOrGone(string recorded, string mine)
    {
        var then = Hashing.PathStat.Of(recorded);
        if (then.Kind != Hashing.PathKind.Directory) return true;
        var now = Hashing.PathStat.Of(mine);
        return then.Inode != 0 && (then.Device, then.Inode) == (now.Device, now.Inode);
    }

    private static RunIndex Replace(IndexLocation location, RecordStore records, IBuildLog? log, IndexLock shared, string problem, Action lockedNote)
    {
        shared.Dispose();
        string? aside = null;
        using (IndexLock.Exclusive(location.DbPath + ".lock", TimeSpan.FromMinutes(2)))
        {
            // Another process may have replaced it while we waited for the exclusive lock.
            var (db, stillProblem) = TryOpen(location, lockedNote);
            db?.Dispose();
            if (db is null)
            {
                SqliteConnection.ClearAllPools();
                aside = $"{location.DbPath}.damaged-{KdGat.Core.Time.Clock.Stamp(TimeProvider.System)}-{Environment.ProcessId}";
                try
                {
                    if (File.Exists(location.DbPath)) File.Move(location.DbPath, aside);
                    foreach (var suffix in new[] { "-wal", "-shm", "-journal" })
                        if (File.Exists(location.DbPath + suffix)) File.Move(location.DbPath + suffix, aside + suffix);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // A damaged index on a read-only folder: said as such, not as a failure to write the aside name.
                    throw CannotOpenHere(location, $"it is damaged: {stillProblem ?? problem}; and it cannot be moved aside: {e.Message.Trim()}", e);
                }
                problem = stillProblem ?? problem;
            }
        }
        var again = IndexLock.Shared(location.DbPath + ".lock", TimeSpan.FromMinutes(2));
        var (fresh, err) = TryOpen(location, lockedNote);
        if (fresh is null)
        {
            again.Dispose();
            throw new KdgException(ErrorCodes.IndexUnusable,
                $"the run index {location.DbPath} cannot be created ({err}). The run records are safe; {IndexLocation.MoveAdvice(location.IndexDirApplies)}.");
        }
        if (aside is not null)
            log?.Warn(ErrorCodes.IndexRebuilt,
                $"KdGat: the run index was unusable ({problem}); it was moved to {aside} and is rebuilt from the run records in {records.Dir}. No history is lost.",
                location.DbPath);
        return new RunIndex(location, records, log, again, fresh, lockedNote) { RebuiltBecause = aside is null ? null : problem };
    }

    /// <summary>Opens, checks and migrates; (null, problem) when the file is damaged or from a newer KdGat.</summary>
    private static (SqliteConnection? Db, string? Problem) TryOpen(IndexLocation location, Action lockedNote)
    {
        // Busy waits of a second inside SQLite (and of Microsoft.Data.Sqlite's own retry loop, DefaultTimeout):
        // the rest of the wait is SqliteRetry's, which says it (see there).
        var cs = new SqliteConnectionStringBuilder { DataSource = location.DbPath, Pooling = false, DefaultTimeout = 1 }.ToString();
        SqliteConnection? db = null;
        CreateEmpty(location.DbPath);
        try
        {
            return SqliteRetry.Run<(SqliteConnection?, string?)>(waiting: lockedNote, op: () =>
            {
                db?.Dispose();
                db = new SqliteConnection(cs);
                db.Open();
                Exec(db, "PRAGMA busy_timeout=1000;");
                var mode = Scalar(db, location.Wal ? "PRAGMA journal_mode=WAL;" : "PRAGMA journal_mode=DELETE;")?.ToString();
                Exec(db, location.Wal ? "PRAGMA synchronous=NORMAL;" : "PRAGMA synchronous=FULL;");
                if (!location.Wal && string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
                    return (Fail(db), "it is in WAL mode on a network file system");
                var check = Scalar(db, "PRAGMA quick_check(1);")?.ToString();
                if (check != "ok") return (Fail(db), $"integrity check: {check}");
                var version = Convert.ToInt32(Scalar(db, "PRAGMA user_version;"), CultureInfo.InvariantCulture);
                if (version > SchemaVersion) return (Fail(db), $"schema version {version} is newer than this KdGat's {SchemaVersion}");
                // A valid database whose schema is not what its version says (a table dropped, user_version
                // reset by hand) failed every query and every -t:RebuildIndex with KDG5005: rebuilt instead.
                if (version < SchemaVersion && TryMigrate(db) is { } failed) return (Fail(db), $"its schema does not match its version {version} ({failed})");
                var tables = Scalar(db, $"SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN ({string.Join(",", Tables.Select(t => $"'{t}'"))});");
                if (Convert.ToInt32(tables, CultureInfo.InvariantCulture) != Tables.Length) return (Fail(db), $"some of its tables ({string.Join(", ", Tables)}) are missing");
                return (db, null);
            });
        }
        catch (SqliteException e) when (SqliteRetry.IsCorrupt(e))
        {
            db?.Dispose();
            return (null, e.Message);
        }
        catch (SqliteException e) when (SqliteRetry.CannotOpenHere(e))
        {
            // Not damage: a good index on a read-only mount or behind permissions was moved aside as
            // "damaged" (or failed naming the aside name), losing the history's fast path for nothing.
            db?.Dispose();
            throw CannotOpenHere(location, e.Message.Trim(), e);
        }

        static SqliteConnection? Fail(SqliteConnection db) { db.Dispose(); return null; }
    }

    /// <summary>
    /// SQLite creates a database 0644 whatever the umask, and its -wal, -shm and -journal take the database's mode: in a
    /// project a group shares (umask 002) the other members could not write the index (KDG5004 at every build of
    /// theirs). An empty file created here gets the umask's mode, and SQLite takes it as a new database. A file
    /// that is there is left alone; a refusal is SQLite's to report.
    /// </summary>
    private static void CreateEmpty(string dbPath)
    {
        if (File.Exists(dbPath)) return; // every build but the first: no exception thrown and caught on the no-op path
        try { using (File.Open(dbPath, FileMode.CreateNew, FileAccess.Write)) { } }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>
    /// KDG5031 for an index that is there and cannot be opened or replaced where it is (read-only file
    /// system, permissions, a passing network file system error): it is left as it is. Where none is
    /// there yet, KDG5003: it cannot be created.
    /// </summary>
    private static KdgException CannotOpenHere(IndexLocation location, string why, Exception inner)
    {
        var move = IndexLocation.MoveAdvice(location.IndexDirApplies);
        if (!File.Exists(location.DbPath))
            return new KdgException(ErrorCodes.IndexUnusable, $"the run index {location.DbPath} cannot be created ({why}). The run records are safe; {move}.", location.DbPath, inner: inner);
        return new KdgException(ErrorCodes.IndexCannotOpen,
            $"the run index {location.DbPath} cannot be opened for writing where it is ({why}): a read-only file system, permissions of this user on it or its directory (SQLite makes {Path.GetFileName(location.DbPath)}-wal, -shm and -journal beside it), or a passing error of a network file system (then running again works). KdGat left it as it is. Make the directory and the index writable, or {move}; with -question, History, Compare and Status (with -p:LiveReport=false) read it without writing. The run records in .kdgat/records are not affected.{IndexFailure.SharedAdvice(location.DbPath)}",
            location.DbPath, inner: inner);
    }

    /// <summary>The tables a current index has (<see cref="Migrations"/>).</summary>
    private static readonly string[] Tables = ["runs", "params", "metrics", "record_files", "meta"];

    /// <summary>Migrates; the error when a step does not apply (its tables exist already: the version was reset), else null.</summary>
    private static string? TryMigrate(SqliteConnection db)
    {
        try { Migrate(db); return null; }
        catch (SqliteException e) when (e.SqliteErrorCode == 1) { return e.Message; } // SQLITE_ERROR: "table runs already exists"
    }

    /// <summary>Each step runs in its own IMMEDIATE transaction that re-reads the version, so concurrent openers migrate once.</summary>
    private static void Migrate(SqliteConnection db)
    {
        while (true)
        {
            using var tx = db.BeginTransaction(deferred: false);
            var version = Convert.ToInt32(Scalar(db, "PRAGMA user_version;", tx), CultureInfo.InvariantCulture);
            if (version >= SchemaVersion) { tx.Commit(); return; }
            Exec(db, Migrations[version], tx);
            Exec(db, $"PRAGMA user_version={version + 1};", tx);
            tx.Commit();
        }
    }

    /// <summary>Migrates an empty database only up to <paramref name="version"/> (tests of the migrations use this).</summary>
    public static void CreateAtVersion(string dbPath, int version)
    {
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = dbPath, Pooling = false }.ToString());
        db.Open();
        for (var v = 0; v < version; v++) Exec(db, Migrations[v] + $"PRAGMA user_version={v + 1};");
    }

    public int UserVersion => Convert.ToInt32(Scalar(_db, "PRAGMA user_version;"), CultureInfo.InvariantCulture);
    public string JournalMode => Scalar(_db, "PRAGMA journal_mode;")?.ToString() ?? "";

    /// <summary>Indexes record files not indexed yet and drops the rows of those that are gone. Safe to run any number of times, from any number of processes.</summary>
    public IngestResult Ingest(int batchSize = 500) => LastIngest = WithRecovery(() => IngestOnce(batchSize));

    /// <summary>What the latest Ingest (Open runs one) added.</summary>
    public IngestResult? LastIngest { get; private set; }

    private IngestResult IngestOnce(int batchSize)
    {
        // Read before the records are listed: a path known here and not listed then was deleted (records never move).
        var known = Sql(() =>
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            using var cmd = _db.CreateCommand();
            cmd.CommandText = "SELECT path, record_id FROM record_files;";
            using var r = cmd.ExecuteReader();
            while (r.Read()) map[r.GetString(0)] = r.GetString(1);
            return map;
        });
        var files = Records.EnumerateFiles().ToArray();
        int added = 0, already = 0, damaged = 0;
        var batch = new List<(string Rel, RunRecord Record, string Json)>();
        var listed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            _cancel.ThrowIfCancellationRequested(); // the batches written so far stay: a later ingest skips them
            var rel = Path.GetRelativePath(Records.Dir, file).Replace('\\', '/');
            listed.Add(rel);
            if (known.ContainsKey(rel)) { already++; continue; }
            var (record, json, problem) = RecordStore.TryRead(file);
            if (record is null)
            {
                damaged++;
                _log?.Warn(ErrorCodes.RecordDamaged, $"KdGat: run record {file} is unreadable ({problem}) and is left out of the index. Restore it from a backup or delete it.", file);
                continue;
            }
            batch.Add((rel, record, json!));
            if (batch.Count >= batchSize) { added += WriteBatch(batch); batch.Clear(); }
        }
        if (batch.Count > 0) added += WriteBatch(batch);
        if (already < known.Count) DropGone(known, listed, batchSize);
        return new IngestResult(added, already, damaged, files.Length) { Gone = known.Count - already };
    }

    /// <summary>
    /// Drops the rows of record files that are gone (deleted by hand; an index outside the clone that
    /// outlived a re-clone): they stayed in History and Compare for good. The records are the truth.
    /// A run stays while another file still holds its record id (its record_file then names that one).
    /// </summary>
    private void DropGone(Dictionary<string, string> known, HashSet<string> listed, int batchSize)
    {
        var stays = new Dictionary<string, string>(StringComparer.Ordinal); // record id -> a file still there
        foreach (var (path, id) in known)
            if (listed.Contains(path)) stays.TryAdd(id, path);
        var gone = known.Where(k => !listed.Contains(k.Key)).ToArray();
        foreach (var chunk in gone.Chunk(batchSize))
            Sql(() =>
            {
                using var tx = _db.BeginTransaction(deferred: false);
                using var file = Command(tx, "DELETE FROM record_files WHERE path = $path;");
                using var run = Command(tx, "DELETE FROM runs WHERE record_id = $id;");
                using var param = Command(tx, "DELETE FROM params WHERE record_id = $id;");
                using var metric = Command(tx, "DELETE FROM metrics WHERE record_id = $id;");
                using var moved = Command(tx, "UPDATE runs SET record_file = $other WHERE record_id = $id AND record_file = $path;");
                foreach (var (path, id) in chunk)
                {
                    Set(file, ("$path", path));
                    file.ExecuteNonQuery();
                    if (stays.TryGetValue(id, out var other))
                    {
                        Set(moved, ("$other", other), ("$id", id), ("$path", path));
                        moved.ExecuteNonQuery();
                        continue;
                    }
                    foreach (var cmd in new[] { run, param, metric })
                    {
                        Set(cmd, ("$id", id));
                        cmd.ExecuteNonQuery();
                    }
                }
                tx.Commit();
                return chunk.Length;
            });
    }

    private int WriteBatch(List<(string Rel, RunRecord Record, string Json)> batch) => Sql(() =>
    {
        using var tx = _db.BeginTransaction(deferred: false);
        using var run = Command(tx, """
            INSERT OR IGNORE INTO runs(record_id, build_id, dataset, stage, variant, fingerprint, executor, job_id, attempt, state, exec_state,
              exit_code, started_utc, finished_utc, wall_s, cpu_s, peak_rss_kb, mem_request_mb, host, log, detail, record_file, json, seq)
            VALUES($id, $build, $dataset, $stage, $variant, $fp, $executor, $job, $attempt, $state, $exec, $exit, $started, $finished, $wall, $cpu,
              $rss, $mem, $host, $log, $detail, $file, $json, $seq);
            """);
        using var param = Command(tx, "INSERT OR IGNORE INTO params(record_id, name, value) VALUES($id, $name, $value);");
        using var metric = Command(tx, "INSERT OR IGNORE INTO metrics(record_id, name, value) VALUES($id, $name, $value);");
        using var file = Command(tx, "INSERT OR IGNORE INTO record_files(path, record_id) VALUES($path, $id);");
        var added = 0;
        foreach (var (rel, r, json) in batch)
        {
            Set(run, ("$id", r.RecordId), ("$build", r.BuildId), ("$dataset", r.Dataset), ("$stage", r.Stage), ("$variant", r.Variant ?? ""), ("$fp", r.Fingerprint),
                ("$executor", r.Executor), ("$job", r.JobId), ("$attempt", r.Attempt), ("$state", r.State), ("$exec", r.ExecState),
                ("$exit", r.ExitCode), ("$started", Time(r.StartedUtc)), ("$finished", Time(r.FinishedUtc)), ("$wall", r.WallSeconds),
                ("$cpu", r.CpuSeconds), ("$rss", r.PeakRssKb), ("$mem", r.MemRequestMb), ("$host", r.Host), ("$log", r.Log),
                ("$detail", r.Detail), ("$file", rel), ("$json", json), ("$seq", r.Seq));
            var isNew = run.ExecuteNonQuery() == 1;
            if (isNew)
            {
                added++;
                foreach (var (k, v) in r.Params) { Set(param, ("$id", r.RecordId), ("$name", k), ("$value", v)); param.ExecuteNonQuery(); }
                // SQLite stores a NaN double as NULL (value is NOT NULL): as text, which the REAL column keeps as such.
                foreach (var (k, v) in r.Metrics ?? []) { Set(metric, ("$id", r.RecordId), ("$name", k), ("$value", double.IsNaN(v) ? "NaN" : v)); metric.ExecuteNonQuery(); }
            }
            Set(file, ("$path", rel), ("$id", r.RecordId));
            file.ExecuteNonQuery();
        }
        tx.Commit();
        return added;
    });

    public long Count() => WithRecovery(() => Sql(() => Convert.ToInt64(Scalar(_db, "SELECT count(*) FROM runs;"), CultureInfo.InvariantCulture)));

    /// <summary>Runs matching the filters, oldest first.</summary>
    public IReadOnlyList<IndexedRun> Runs(string? stage = null, string? dataset = null, string? state = null) => Query($"""
        SELECT json, record_file FROM runs
        WHERE ($stage IS NULL OR stage = $stage) AND ($dataset IS NULL OR dataset = $dataset) AND ($state IS NULL OR state = $state)
        ORDER BY {OldestFirst};
        """, ("$stage", stage), ("$dataset", dataset), ("$state", state));

    /// <summary>
    /// The newest run per (dataset, slot: "stage" or "stage/variant"), optionally only successful ones:
    /// one row per instance read, however long the history (it read and parsed every run).
    /// </summary>
    public IReadOnlyDictionary<(string Dataset, string Stage), IndexedRun> Latest(bool successfulOnly = false)
    {
        var result = new Dictionary<(string, string), IndexedRun>();
        foreach (var run in Query($"""
            SELECT json, record_file FROM (
              SELECT json, record_file, seq, finished_utc, record_id,
                row_number() OVER (PARTITION BY dataset, stage, variant ORDER BY {NewestFirst}) AS n
              FROM runs WHERE $state IS NULL OR state = $state)
            WHERE n = 1 ORDER BY {OldestFirst};
            """, ("$state", successfulOnly ? Engine.Outcome.Ran : null)))
            result[(run.Record.Dataset, run.Record.Slot)] = run;
        return result;
    }

    /// <summary>
    /// The runs Status, Compare and the report show, not the whole history (History lists that): per
    /// instance its latest run by end and by start and its latest successful run (ran, restored,
    /// adopted) with metrics; per dataset every run of the build that ended last; and the run of each
    /// current result in <paramref name="results"/>. Oldest first, as <see cref="Runs"/>. A long
    /// history made them read and parse every record (100,000 runs: 7.6 s and 450 MB for Status).
    /// </summary>
    public IReadOnlyList<IndexedRun> Shown(IEnumerable<(string Dataset, string Stage, string? Variant, string BuildId, int Attempt)> results)
    {
        var shown = Query($"""
            WITH ranked AS (
              SELECT record_id,
                row_number() OVER (PARTITION BY dataset, stage, variant ORDER BY {NewestFirst}) AS by_end,
                row_number() OVER (PARTITION BY dataset, stage, variant ORDER BY started_utc DESC, finished_utc DESC, record_id DESC) AS by_start
              FROM runs),
            with_metrics AS (
              SELECT record_id, row_number() OVER (PARTITION BY dataset, stage, variant ORDER BY {NewestFirst}) AS n
              FROM runs WHERE state IN ('{Engine.Outcome.Ran}', '{Engine.Outcome.Restored}', '{Engine.Outcome.Adopted}') AND EXISTS (SELECT 1 FROM metrics m WHERE m.record_id = runs.record_id)),
            last_build AS (
              SELECT dataset, build_id FROM (
                SELECT dataset, build_id, row_number() OVER (PARTITION BY dataset ORDER BY {NewestFirst}) AS n FROM runs)
              WHERE n = 1)
            SELECT json, record_file FROM runs WHERE record_id IN (
              SELECT record_id FROM ranked WHERE by_end = 1 OR by_start = 1
              UNION SELECT record_id FROM with_metrics WHERE n = 1
              UNION SELECT r.record_id FROM runs r JOIN last_build b ON r.build_id = b.build_id AND r.dataset = b.dataset)
            ORDER BY {OldestFirst};
            """).ToList();
        var have = shown.Select(r => r.Record.RecordId).ToHashSet(StringComparer.Ordinal);
        foreach (var (dataset, stage, variant, build, attempt) in results)
            if (RunOf(dataset, stage, variant, build, attempt) is { } run && have.Add(run.Record.RecordId)) shown.Add(run);
        return InOrder(shown).ToArray();
    }

    /// <summary>
    /// Runs of <paramref name="stage"/> that <paramref name="keep"/> keeps (by dataset and grid point, null
    /// for an unswept run), newest first, at most <paramref name="limit"/> (0: all): only those are parsed,
    /// and with a limit the rest is not read (History of a long history read and parsed every run, twice).
    /// </summary>
    public IReadOnlyList<IndexedRun> Newest(string stage, Func<string, string?, bool> keep, int limit) => WithRecovery(() => Sql(() =>
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = $"SELECT dataset, variant, json, record_file FROM runs WHERE stage = $stage ORDER BY {NewestFirst};";
        Set(cmd, ("$stage", stage));
        var list = new List<IndexedRun>();
        using var r = cmd.ExecuteReader();
        while ((limit <= 0 || list.Count < limit) && r.Read())
            if (keep(r.GetString(0), NullIfEmpty(r.GetString(1))) && RecordStore.Parse(r.GetString(2)) is { } rec) list.Add(new IndexedRun(rec, r.GetString(3)));
        return (IReadOnlyList<IndexedRun>)list;
    }));

    /// <summary>How many runs of <paramref name="stage"/> <paramref name="keep"/> keeps (see <see cref="Newest"/>), without reading their records.</summary>
    public int Count(string stage, Func<string, string?, bool> keep) => WithRecovery(() => Sql(() =>
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT dataset, variant, count(*) FROM runs WHERE stage = $stage GROUP BY dataset, variant;";
        Set(cmd, ("$stage", stage));
        var n = 0;
        using var r = cmd.ExecuteReader();
        while (r.Read())
            if (keep(r.GetString(0), NullIfEmpty(r.GetString(1)))) n += r.GetInt32(2);
        return n;
    }));

    /// <summary>Runs whose record id is <paramref name="id"/> or starts with it, or whose build id is it, oldest first: only those are parsed.</summary>
    public IReadOnlyList<IndexedRun> Matching(string id, string? stage = null) => Query($"""
        SELECT json, record_file FROM runs
        WHERE ($stage IS NULL OR stage = $stage) AND (substr(record_id, 1, length($id)) = $id OR build_id = $id)
        ORDER BY {OldestFirst};
        """, ("$stage", stage), ("$id", id));

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;

    /// <summary>How many runs each instance has recorded, by (dataset, slot).</summary>
    public IReadOnlyDictionary<(string Dataset, string Slot), int> Counts() => WithRecovery(() => Sql(() =>
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT dataset, stage, variant, count(*) FROM runs GROUP BY dataset, stage, variant;";
        var counts = new Dictionary<(string, string), int>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var (stage, variant) = (r.GetString(1), r.GetString(2));
            counts[(r.GetString(0), variant.Length == 0 ? stage : $"{stage}/{variant}")] = r.GetInt32(3);
        }
        return (IReadOnlyDictionary<(string, string), int>)counts;
    }));

    /// <summary>The run of one attempt of one instance (the latest indexed, should a build id and attempt repeat); null when none is indexed.</summary>
    public IndexedRun? RunOf(string dataset, string stage, string? variant, string buildId, int attempt) => Query($"""
        SELECT json, record_file FROM runs
        WHERE build_id = $build AND dataset = $dataset AND stage = $stage AND variant = $variant AND attempt = $attempt
        ORDER BY {NewestFirst} LIMIT 1;
        """, ("$dataset", dataset), ("$stage", stage), ("$variant", variant ?? ""), ("$build", buildId), ("$attempt", attempt)).FirstOrDefault();

    private IReadOnlyList<IndexedRun> Query(string sql, params (string Name, object? Value)[] args) => WithRecovery(() => Sql(() =>
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        Set(cmd, args);
        var list = new List<IndexedRun>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
            if (RecordStore.Parse(r.GetString(0)) is { } rec) list.Add(new IndexedRun(rec, r.GetString(1)));
        return (IReadOnlyList<IndexedRun>)list;
    }));

    /// <summary>Rows of every table, in a stable order: what "the same rows" means after a rebuild.</summary>
    public IReadOnlyList<string> Dump() => WithRecovery(() => Sql(() =>
    {
        var rows = new List<string>();
        foreach (var sql in new[]
        {
            "SELECT 'run', record_id, dataset, stage, state, finished_utc, seq, record_file FROM runs ORDER BY record_id",
            "SELECT 'param', record_id, name, value FROM params ORDER BY record_id, name",
            "SELECT 'metric', record_id, name, value FROM metrics ORDER BY record_id, name",
            "SELECT 'file', path, record_id FROM record_files ORDER BY path",
        })
        {
            using var cmd = _db.CreateCommand();
            cmd.CommandText = sql;
            using var r = cmd.ExecuteReader();
            while (r.Read())
                rows.Add(string.Join('\t', Enumerable.Range(0, r.FieldCount).Select(i => Convert.ToString(r.GetValue(i), CultureInfo.InvariantCulture))));
        }
        return (IReadOnlyList<string>)rows;
    }));

    /// <summary>Drops the database and indexes every record again (the RebuildIndex target).</summary>
    public IngestResult Rebuild()
    {
        _db.Dispose();
        _lock.Dispose();
        using (IndexLock.Exclusive(LockPath, TimeSpan.FromMinutes(2)))
        {
            SqliteConnection.ClearAllPools();
            foreach (var suffix in new[] { "", "-wal", "-shm", "-journal" })
                if (File.Exists(Location.DbPath + suffix)) File.Delete(Location.DbPath + suffix);
        }
        _lock = IndexLock.Shared(LockPath, TimeSpan.FromMinutes(2));
        var (db, problem) = TryOpen(Location, _lockedNote);
        _db = db ?? throw new KdgException(ErrorCodes.IndexUnusable, $"the run index {Location.DbPath} cannot be created ({problem}). The run records are safe; {IndexLocation.MoveAdvice(Location.IndexDirApplies)}.");
        RebuiltBecause = "rebuild requested";
        return Ingest();
    }

    /// <summary>A database that turns out damaged mid-operation is replaced and the operation redone once.</summary>
    private T WithRecovery<T>(Func<T> op)
    {
        try
        {
            return op();
        }
        catch (SqliteException e) when (SqliteRetry.IsCorrupt(e))
        {
            _db.Dispose();
            var replaced = Replace(Location, Records, _log, _lock, e.Message, _lockedNote);
            (_db, _lock, RebuiltBecause) = (replaced._db, replaced._lock, replaced.RebuiltBecause);
            IngestOnce(500);
            return op();
        }
    }

    /// <summary>An index operation, retried on busy, locked and I/O errors (<see cref="SqliteRetry"/>); a lock held on says so.</summary>
    private T Sql<T>(Func<T> op) => SqliteRetry.Run(op, waiting: _lockedNote);

    /// <summary>Said once per open when another process keeps the index locked for seconds: a wait is never silent.</summary>
    private static Action LockedNote(IBuildLog? log, string dbPath)
    {
        var said = 0;
        return () =>
        {
            if (Interlocked.Exchange(ref said, 1) == 0)
                log?.Info($"KdGat: the run index {dbPath} is locked by another process (a program with a write transaction open on it, such as sqlite3 or a database browser, or another build writing it); waiting up to {SqliteRetry.LockedWait.TotalSeconds:0} s. Close the program holding it, or end its transaction, to go on at once.");
        };
    }

    public void Dispose()
    {
        _db.Dispose();
        _lock.Dispose();
        if (_tempDir is not null)
        {
            try { Directory.Delete(_tempDir, recursive: true); } catch (IOException) { } // a temp dir: the system's to clear
        }
    }

    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private SqliteCommand Command(SqliteTransaction tx, string sql)
    {
        var cmd = _db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return cmd;
    }

    private static void Set(SqliteCommand cmd, params (string Name, object? Value)[] values)
    {
        foreach (var (name, value) in values)
        {
            var p = cmd.Parameters.Contains(name) ? cmd.Parameters[name] : cmd.Parameters.Add(new SqliteParameter { ParameterName = name });
            p.Value = value ?? DBNull.Value;
        }
    }

    private static void Exec(SqliteConnection db, string sql, SqliteTransaction? tx = null)
    {
        using var cmd = db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection db, string sql, SqliteTransaction? tx = null)
    {
        using var cmd = db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }
}
