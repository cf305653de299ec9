using KdGat.Core.Diagnostics;
using KdGat.Core.Tracking;
using Microsoft.Data.Sqlite;
using Xunit;

namespace KdGat.Tracking.Tests;

/// <summary>The SQLite index over the run records: idempotent ingest, rebuild from records, migrations, damaged input.</summary>
[Trait("Category", "Unit")]
public sealed class IndexTests
{
    private static RunIndex Open(TempDir t, RecordingLog? log = null) =>
        RunIndex.Open(new IndexLocation(t.Db, true, "test"), new RecordStore(t.StateDir), log);

    private static void WriteRecords(TempDir t, int n, string prefix = "r")
    {
        var store = new RecordStore(t.StateDir);
        for (var i = 0; i < n; i++)
            store.Write(Records.Make($"{prefix}{i}", dataset: i % 2 == 0 ? "hcrl_sa" : "set_01", metrics: new Dictionary<string, double> { ["f1"] = i / 100.0 }));
    }

    [Fact]
    public void Ingest_IsIdempotent_AndOnlyReadsNewFiles()
    {
        using var t = new TempDir();
        WriteRecords(t, 10);
        using var index = Open(t);
        Assert.Equal(10, index.Count());
        Assert.Equal("wal", index.JournalMode);
        var again = index.Ingest();
        Assert.Equal(new IngestResult(0, 10, 0, 10), again);
        WriteRecords(t, 3, "new");
        Assert.Equal(3, index.Ingest().Added);
        Assert.Equal(13, index.Count());
        var run = Assert.Single(index.Runs(stage: "gat_large_curriculum", dataset: "hcrl_sa"), r => r.Record.RecordId == "r4");
        Assert.Equal(0.04, run.Record.Metrics!["f1"]);
        Assert.Equal("0.001", run.Record.Params["lr"]);
    }

    /// <summary>
    /// A project shared by a group (setgid directory, umask 002): SQLite made index.db 0644 whatever the umask, and
    /// its -wal and -shm take the database's mode, so every other member's build warned KDG5004 and their Status
    /// and History could not use the index. The index gets the mode any new file of this process gets.
    /// </summary>
    [Fact]
    public void TheIndex_IsCreatedWithTheUmasksMode_SoTheGroupCanWriteIt()
    {
        if (OperatingSystem.IsWindows()) return;
        using var t = new TempDir();
        WriteRecords(t, 2);
        var before = umask(0b000_000_010); // 002: the group's umask (process-wide, put back below)
        try
        {
            using (var index = Open(t)) Assert.Equal(2, index.Count());
            var plain = Path.Combine(t.StateDir, "plain");
            File.WriteAllText(plain, "");
            Assert.Equal(File.GetUnixFileMode(plain), File.GetUnixFileMode(t.Db));
            Assert.True(File.GetUnixFileMode(t.Db).HasFlag(UnixFileMode.GroupWrite));
        }
        finally { umask(before); }
    }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern uint umask(uint mask);

    /// <summary>
    /// Ctrl+C while the index takes in a large history stops it between record files (MSBuild waited for
    /// the whole ingest, then failed without a KdGat line: a review); what was written stays, and the next
    /// open takes in the rest. The index is not left locked.
    /// </summary>
    [Fact]
    public void ACancelledIngest_StopsBetweenFiles_AndTheNextOpenTakesInTheRest()
    {
        using var t = new TempDir();
        WriteRecords(t, 30);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            RunIndex.Open(new IndexLocation(t.Db, true, "test"), new RecordStore(t.StateDir), null, cancel.Token));

        using (IndexLock.Exclusive(t.Db + ".lock", TimeSpan.FromMilliseconds(300))) { } // the cancelled open holds no lock (a shared one would not block the open below)
        using var index = Open(t);
        Assert.Equal(30, index.Count());
    }

    [Fact]
    public void SameRecordIdInTwoFiles_IsOneRow()
    {
        using var t = new TempDir();
        var store = new RecordStore(t.StateDir);
        store.Write(Records.Make("dup", finished: DateTimeOffset.Parse("2025-02-01T00:00:00Z")));
        store.Write(Records.Make("dup", finished: DateTimeOffset.Parse("2025-02-02T00:00:00Z")));
        using var index = Open(t);
        Assert.Equal(1, index.Count());
        Assert.Equal(new IngestResult(0, 2, 0, 2), index.Ingest());
    }

    /// <summary>
    /// Ingest only added rows: runs whose record files were deleted (by hand, or an index outside the
    /// clone that outlived a re-clone) stayed in History and Compare for good (a review). The records
    /// are the truth: their rows go; a run whose record id another file still holds stays.
    /// </summary>
    [Fact]
    public void RecordFilesThatAreGone_LeaveTheIndex()
    {
        using var t = new TempDir();
        WriteRecords(t, 5);
        var store = new RecordStore(t.StateDir);
        store.Write(Records.Make("dup"));
        store.Write(Records.Make("dup"));
        using var index = Open(t);
        Assert.Equal(6, index.Count());
        var files = store.EnumerateFiles().ToArray();
        var r0 = files.Single(f => f.EndsWith("r0.json", StringComparison.Ordinal));
        File.Delete(r0);
        File.Delete(files.First(f => f.EndsWith("dup.json", StringComparison.Ordinal)));
        File.Delete(files.Single(f => f.EndsWith("r3.json", StringComparison.Ordinal)));

        index.Ingest();

        Assert.Equal(4, index.Count());
        var ids = index.Runs().Select(r => r.Record.RecordId).Order().ToArray();
        Assert.Equal(["dup", "r1", "r2", "r4"], ids);
        Assert.DoesNotContain(index.Dump(), row => row.Contains("\tr0\t") || row.Contains("\tr3\t") || row.EndsWith("\tr0") || row.EndsWith("\tr3"));
        var dup = Assert.Single(index.Runs(), r => r.Record.RecordId == "dup");
        Assert.True(File.Exists(Path.Combine(store.Dir, dup.RecordFile)), dup.RecordFile); // the file still there

        Directory.Delete(store.Dir, recursive: true); // a fresh clone: no records at all
        index.Ingest();
        Assert.Equal(0, index.Count());
        Assert.Empty(index.Dump());
    }

    [Fact]
    public void DeletedDatabase_IsRebuiltWithTheSameRows()
    {
        using var t = new TempDir();
        WriteRecords(t, 25);
        IReadOnlyList<string> before;
        using (var index = Open(t)) before = index.Dump();
        foreach (var f in Directory.GetFiles(t.StateDir, "index.db*")) File.Delete(f);
        using var rebuilt = Open(t);
        Assert.Equal(before, rebuilt.Dump());
        Assert.Equal("no index yet", rebuilt.RebuiltBecause);
    }

    [Fact]
    public void CorruptDatabase_IsMovedAsideAndRebuiltWithAWarning()
    {
        using var t = new TempDir();
        WriteRecords(t, 12);
        IReadOnlyList<string> before;
        using (var index = Open(t)) before = index.Dump();
        // Garbage over the header and the first pages, as a torn NFS write would leave.
        using (var fs = new FileStream(t.Db, FileMode.Open, FileAccess.Write))
            fs.Write(Enumerable.Repeat((byte)0x5A, 8192).ToArray());
        foreach (var f in Directory.GetFiles(t.StateDir, "index.db-*")) File.Delete(f);

        var log = new RecordingLog();
        using var rebuilt = Open(t, log);
        Assert.Equal(before, rebuilt.Dump());
        var warning = Assert.Single(log.Items, d => d.Code == ErrorCodes.IndexRebuilt);
        Assert.Equal(Severity.Warning, warning.Severity);
        Assert.Contains("No history is lost", warning.Message);
        Assert.Single(Directory.GetFiles(t.StateDir, "index.db.damaged-*"), f => !f.EndsWith("-wal") && !f.EndsWith("-shm"));
    }

    /// <summary>
    /// The newest run of each instance, told apart by dataset, stage and grid point, and one attempt's
    /// run, from queries that read one row per instance (Status parsed every record of the history).
    /// </summary>
    [Fact]
    public void Latest_AndRunOf_AnswerPerInstance_SweptPointsApart()
    {
        using var t = new TempDir();
        var store = new RecordStore(t.StateDir);
        var day = DateTimeOffset.Parse("2025-03-01T00:00:00Z");
        store.Write(Records.Make("old", finished: day));
        store.Write(Records.Make("new", finished: day.AddHours(1)));
        store.Write(Records.Make("failed", state: "failed", finished: day.AddHours(2)));
        store.Write(Records.Make("other-dataset", dataset: "set_01", finished: day.AddHours(3)));
        store.Write(Records.Make("seed1", finished: day.AddHours(4)) with { Variant = "seed=1", BuildId = "b-sweep" });
        store.Write(Records.Make("seed2-old", finished: day.AddHours(4)) with { Variant = "seed=2" });
        store.Write(Records.Make("seed2", finished: day.AddHours(5)) with { Variant = "seed=2", BuildId = "b-sweep" });
        using var index = Open(t);

        var latest = index.Latest();
        Assert.Equal("failed", latest[("hcrl_sa", "gat_large_curriculum")].Record.RecordId);
        Assert.Equal("other-dataset", latest[("set_01", "gat_large_curriculum")].Record.RecordId);
        Assert.Equal("seed1", latest[("hcrl_sa", "gat_large_curriculum/seed=1")].Record.RecordId);
        Assert.Equal("seed2", latest[("hcrl_sa", "gat_large_curriculum/seed=2")].Record.RecordId);
        Assert.Equal(4, latest.Count);
        Assert.Equal("new", index.Latest(successfulOnly: true)[("hcrl_sa", "gat_large_curriculum")].Record.RecordId);

        Assert.Equal("old", index.RunOf("hcrl_sa", "gat_large_curriculum", null, "b-old", 1)?.Record.RecordId);
        Assert.Equal("seed2", index.RunOf("hcrl_sa", "gat_large_curriculum", "seed=2", "b-sweep", 1)?.Record.RecordId);
        Assert.Null(index.RunOf("hcrl_sa", "gat_large_curriculum", null, "b-sweep", 1));
        Assert.Null(index.RunOf("hcrl_sa", "gat_large_curriculum", "seed=1", "b-sweep", 2));
    }

    /// <summary>
    /// The record sequence's counter (.kdgat/records/.seq) that cannot be read or replaced (a directory in its place; another
    /// user's file under a umask) failed the record's write, and a failed record write undoes the run it proves. The
    /// counter only orders runs: the records are written, numbered after the highest there.
    /// </summary>
    [Fact]
    public void ARecordSequenceCounterThatCannotBeUsed_NeverCostsTheRecord()
    {
        using var t = new TempDir();
        var store = new RecordStore(t.StateDir);
        Directory.CreateDirectory(Path.Combine(store.Dir, ".seq", "in-the-way"));
        var day = DateTimeOffset.Parse("2025-03-01T12:00:00Z");
        store.Write(Records.Make("first", finished: day.AddHours(2)));
        store.Write(Records.Make("second", finished: day));
        using var index = Open(t);

        Assert.Equal("second", index.Latest()[("hcrl_sa", "gat_large_curriculum")].Record.RecordId);
    }

    /// <summary>
    /// The newest run of an instance was the one with the latest finish time: a run on a node whose clock runs two
    /// hours fast (a SLURM job's times are sacct's) stayed "latest" in Status and first in History after the run
    /// that followed it. Runs are told apart by the order their records were written (runs of one instance are
    /// serialised by its stage lock), the same after a rebuild from the records.
    /// </summary>
    [Fact]
    public void TheLatestRun_IsTheLastWritten_NotTheOneAFastClockDatesLater()
    {
        using var t = new TempDir();
        var store = new RecordStore(t.StateDir);
        var day = DateTimeOffset.Parse("2025-03-01T12:00:00Z");
        store.Write(Records.Make("skewed", state: "failed", finished: day.AddHours(2))); // ran first, on the fast clock
        store.Write(Records.Make("after", finished: day.AddMinutes(30)));
        using var index = Open(t);

        Assert.Equal("after", index.Latest()[("hcrl_sa", "gat_large_curriculum")].Record.RecordId);
        Assert.Equal(["after", "skewed"], index.Newest("gat_large_curriculum", (_, _) => true, 0).Select(r => r.Record.RecordId));
        Assert.Equal(["skewed", "after"], index.Runs().Select(r => r.Record.RecordId));
        Assert.Contains(index.Shown([]), r => r.Record.RecordId == "after");
        var before = index.Dump();
        index.Rebuild();
        Assert.Equal(before, index.Dump());
        Assert.Equal("after", index.Latest()[("hcrl_sa", "gat_large_curriculum")].Record.RecordId);
    }

    /// <summary>History reads the newest runs it shows and counts the rest without parsing them; a run id prefix or build id finds its runs.</summary>
    [Fact]
    public void Newest_Count_AndMatching_FilterInTheIndex()
    {
        using var t = new TempDir();
        var store = new RecordStore(t.StateDir);
        var day = DateTimeOffset.Parse("2025-04-01T00:00:00Z");
        for (var i = 0; i < 6; i++)
            store.Write(Records.Make($"run-{i}", dataset: i % 3 == 0 ? "other" : "hcrl_sa", finished: day.AddHours(i)) with { Variant = i % 2 == 0 ? "seed=0" : null, BuildId = $"build-{i / 2}" });
        store.Write(Records.Make("eval-1", stage: "eval", finished: day));
        using var index = Open(t);
        bool Keep(string dataset, string? variant) => dataset == "hcrl_sa" && variant is null;

        Assert.Equal(["run-5", "run-1"], index.Newest("gat_large_curriculum", Keep, 0).Select(r => r.Record.RecordId));
        Assert.Equal(["run-5"], index.Newest("gat_large_curriculum", Keep, 1).Select(r => r.Record.RecordId));
        Assert.Equal(2, index.Count("gat_large_curriculum", Keep));
        Assert.Equal(6, index.Count("gat_large_curriculum", (_, _) => true));

        Assert.Equal(["run-1"], index.Matching("run-1").Select(r => r.Record.RecordId));
        Assert.Equal(["run-2", "run-3"], index.Matching("build-1").Select(r => r.Record.RecordId));
        Assert.Equal(7, index.Matching("").Count);
        Assert.Empty(index.Matching("eval", stage: "gat_large_curriculum"));
    }

    /// <summary>An index of schema 2 (before the variant column) gets its runs' grid points from their JSON.</summary>
    [Fact]
    public void Schema2_IsMigrated_WithEachRunsGridPoint()
    {
        using var t = new TempDir();
        var store = new RecordStore(t.StateDir);
        store.Write(Records.Make("plain"));
        store.Write(Records.Make("swept") with { Variant = "seed=1" });
        Directory.CreateDirectory(t.StateDir);
        RunIndex.CreateAtVersion(t.Db, 2);
        using (var db = new SqliteConnection($"Data Source={t.Db};Pooling=False"))
        {
            db.Open();
            foreach (var file in store.EnumerateFiles())
            {
                var (record, json, _) = RecordStore.TryRead(file);
                using var cmd = db.CreateCommand();
                cmd.CommandText = """
                    INSERT INTO runs(record_id, build_id, dataset, stage, fingerprint, attempt, state, finished_utc, record_file, json)
                    VALUES($id, $b, $d, $s, 'fp', 1, 'ran', $f, $file, $json);
                    INSERT INTO record_files(path, record_id) VALUES($file, $id);
                    """;
                cmd.Parameters.AddWithValue("$id", record!.RecordId);
                cmd.Parameters.AddWithValue("$b", record.BuildId);
                cmd.Parameters.AddWithValue("$d", record.Dataset);
                cmd.Parameters.AddWithValue("$s", record.Stage);
                cmd.Parameters.AddWithValue("$f", RunIndex.Time(record.FinishedUtc));
                cmd.Parameters.AddWithValue("$file", Path.GetRelativePath(store.Dir, file));
                cmd.Parameters.AddWithValue("$json", json);
                cmd.ExecuteNonQuery();
            }
        }

        using var index = Open(t);

        Assert.Equal(RunIndex.SchemaVersion, index.UserVersion);
        Assert.Equal(new IngestResult(0, 2, 0, 2), index.LastIngest);
        var latest = index.Latest();
        Assert.Equal("plain", latest[("hcrl_sa", "gat_large_curriculum")].Record.RecordId);
        Assert.Equal("swept", latest[("hcrl_sa", "gat_large_curriculum/seed=1")].Record.RecordId);
    }

    [Fact]
    public void ExplicitRebuild_GivesTheSameRows()
    {
        using var t = new TempDir();
        WriteRecords(t, 7);
        using var index = Open(t);
        var before = index.Dump();
        var r = index.Rebuild();
        Assert.Equal(7, r.Added);
        Assert.Equal(before, index.Dump());
    }

    [Fact]
    public void OldSchema_IsMigrated_NewerSchema_IsRebuilt()
    {
        using var t = new TempDir();
        WriteRecords(t, 4);
        Directory.CreateDirectory(t.StateDir);
        RunIndex.CreateAtVersion(t.Db, 1);
        using (var index = Open(t))
        {
            Assert.Equal(RunIndex.SchemaVersion, index.UserVersion);
            Assert.Equal(4, index.Count());
        }

        using (var db = new SqliteConnection($"Data Source={t.Db};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "PRAGMA user_version=99;";
            cmd.ExecuteNonQuery();
        }
        var log = new RecordingLog();
        using var again = Open(t, log);
        Assert.Equal(RunIndex.SchemaVersion, again.UserVersion);
        Assert.Equal(4, again.Count());
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.IndexRebuilt && d.Message.Contains("newer"));
    }

    [Theory]
    [InlineData("DROP TABLE metrics;", "missing")]
    [InlineData("PRAGMA user_version=0;", "does not match its version 0")]
    public void AValidDatabaseWithADamagedSchema_IsRebuilt(string damage, string said)
    {
        using var t = new TempDir();
        WriteRecords(t, 4);
        using (Open(t)) { }
        using (var db = new SqliteConnection($"Data Source={t.Db};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = damage;
            cmd.ExecuteNonQuery();
        }

        // Was KDG5005 on every tracking target and on -t:RebuildIndex (a hostile-input pass).
        var log = new RecordingLog();
        using var again = Open(t, log);
        Assert.Equal(4, again.Count());
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.IndexRebuilt && d.Message.Contains(said));
    }

    [Fact]
    public void AnExplicitIndexOfAnotherPipeline_IsRefused_ADefaultOneFollowsItsPipeline()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        WriteRecords(a, 3);
        WriteRecords(b, 2, prefix: "other");
        var shared = new IndexLocation(a.Db, true, "test") { Explicit = true };
        using (var index = RunIndex.Open(shared, new RecordStore(a.StateDir))) Assert.Equal(3, index.Count());

        // Was: b's runs ingested next to a's, each clone's Status and Compare showing the other's as its own.
        var e = Assert.Throws<KdgException>(() => RunIndex.Open(shared, new RecordStore(b.StateDir)));
        Assert.Equal(ErrorCodes.IndexUnusable, e.Code);
        Assert.Contains(Path.GetFullPath(Path.Combine(a.StateDir, "records")), e.Message);
        using (var index = RunIndex.Open(shared, new RecordStore(a.StateDir))) Assert.Equal(3, index.Count()); // untouched

        // Through a symlink to the same pipeline: the same records, accepted (a review: refused before).
        var link = a.Path + "-link";
        File.CreateSymbolicLink(link, a.Path);
        try
        {
            using (var index = RunIndex.Open(shared, new RecordStore(Path.Combine(link, ".kdgat")))) Assert.Equal(3, index.Count());
        }
        finally { File.Delete(link); }

        // A default index.db holding a's runs opened for b while a still exists (copied from another
        // clone): rebuilt from b's records. It was kept, and b's History showed a's 3 runs as its own.
        using (RunIndex.Open(new IndexLocation(a.Db, true, "test"), new RecordStore(a.StateDir))) { } // a's again (the link above is gone)
        var log = new RecordingLog();
        using (var copied = RunIndex.Open(new IndexLocation(a.Db, true, "test"), new RecordStore(b.StateDir), log))
        {
            Assert.Equal(2, copied.Count());
            Assert.Contains(log.Items, d => d.Code == ErrorCodes.IndexRebuilt);
        }

        // The pipeline's own .kdgat/index.db after the pipeline moved (the old records are gone): it follows, nothing rebuilt.
        using (RunIndex.Open(new IndexLocation(a.Db, true, "test"), new RecordStore(a.StateDir))) { } // a's again
        var c = a.Path + "-moved";
        Directory.Move(a.Path, c);
        try
        {
            var quiet = new RecordingLog();
            using var moved = RunIndex.Open(new IndexLocation(Path.Combine(c, ".kdgat", "index.db"), true, "test"), new RecordStore(Path.Combine(c, ".kdgat")), quiet);
            Assert.Equal(3, moved.Count());
            Assert.DoesNotContain(quiet.Items, d => d.Code == ErrorCodes.IndexRebuilt);
        }
        finally { Directory.Move(c, a.Path); }
    }

    private static void Sql(string db, string sql)
    {
        using var c = new SqliteConnection($"Data Source={db};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>
    /// -p:KdGatIndex=kdgat.yaml (a typo for KdGatConfig) moved the user's config aside as a "damaged
    /// index" and put a database in its place; an SQLite database of another program got KdGat's
    /// tables and WAL mode (a review). An explicit path is used only when it is missing, empty or an
    /// index KdGat made; anything else is refused (KDG5003) and left byte for byte as it was, with no
    /// file beside it.
    /// </summary>
    [Theory]
    [InlineData("yaml")]
    [InlineData("sqlite-with-runs")]
    [InlineData("sqlite-of-its-own")]
    public void AnExplicitPathHoldingAFileKdGatDidNotMake_IsRefusedAndLeftAlone(string kind)
    {
        using var t = new TempDir();
        WriteRecords(t, 2);
        var path = Path.Combine(t.Path, "user-file");
        switch (kind)
        {
            case "yaml": File.WriteAllText(path, "datasets:\n  hcrl_sa: {}\n"); break;
            case "sqlite-with-runs": Sql(path, "CREATE TABLE runs(run_uuid TEXT PRIMARY KEY, status TEXT); INSERT INTO runs VALUES('abc','FINISHED');"); break;
            default: Sql(path, "CREATE TABLE results(name TEXT, f1 REAL); INSERT INTO results VALUES('a',0.9);"); break;
        }
        var bytes = File.ReadAllBytes(path);
        var listing = Directory.GetFileSystemEntries(t.Path).Order().ToArray();

        var e = Assert.Throws<KdgException>(() => RunIndex.Open(new IndexLocation(path, true, "test") { Explicit = true }, new RecordStore(t.StateDir)));

        Assert.Equal(ErrorCodes.IndexUnusable, e.Code);
        Assert.Contains(path, e.Message);
        Assert.Contains("not a run index KdGat made", e.Message);
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Equal(listing, Directory.GetFileSystemEntries(t.Path).Order().ToArray()); // no .lock, -wal, -shm, .damaged-*
    }

    /// <summary>What an explicit path may hold: nothing yet, an empty file, or KdGat's own index (repaired when damaged).</summary>
    [Fact]
    public void AnExplicitPathThatIsEmptyOrKdGatsOwnIndex_IsUsed_AndRepairedWhenDamaged()
    {
        using var t = new TempDir();
        WriteRecords(t, 3);
        var path = Path.Combine(t.Path, "idx.db");
        var explicitly = new IndexLocation(path, true, "test") { Explicit = true };
        File.WriteAllBytes(path, []);
        using (var first = RunIndex.Open(explicitly, new RecordStore(t.StateDir)))
        {
            Assert.True(new FileInfo(path + "-wal").Length > 0); // its tables are in the -wal until the first one closes
            using var second = RunIndex.Open(explicitly, new RecordStore(t.StateDir));
            Assert.Equal((3L, 3L), (first.Count(), second.Count()));
        }

        Sql(path, "DROP TABLE metrics;");
        var log = new RecordingLog();
        using (var index = RunIndex.Open(explicitly, new RecordStore(t.StateDir), log)) Assert.Equal(3, index.Count());
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.IndexRebuilt);
    }

    [Fact]
    public void AnExplicitIndex_FollowsItsPipelineWhenTheOldPlaceIsGone()
    {
        using var t = new TempDir();
        WriteRecords(t, 2);
        var db = Path.Combine(Path.GetTempPath(), "kdgat-idx-" + Guid.NewGuid().ToString("N")[..8] + ".db");
        var shared = new IndexLocation(db, true, "test") { Explicit = true };
        try
        {
            using (RunIndex.Open(shared, new RecordStore(t.StateDir))) { }
            var movedTo = t.Path + "-moved";
            Directory.Move(t.Path, movedTo);
            try
            {
                using var index = RunIndex.Open(shared, new RecordStore(Path.Combine(movedTo, ".kdgat")));
                Assert.Equal(2, index.Count());
            }
            finally { Directory.Move(movedTo, t.Path); }
        }
        finally
        {
            foreach (var f in Directory.GetFiles(Path.GetDirectoryName(db)!, Path.GetFileName(db) + "*")) File.Delete(f);
        }
    }

    /// <summary>
    /// A write transaction another program keeps open on the index (sqlite3 after BEGIN, a database
    /// browser with unsaved edits) made a build go silent ~2 min (a review). Now a line once it has
    /// waited a few seconds, naming the index; the wait goes on (bounded) and ends when the lock does.
    /// </summary>
    [Fact]
    public async Task AnIndexLockedByAnotherProgram_IsSaidWhileWaiting_AndUsedOnceReleased()
    {
        using var t = new TempDir();
        WriteRecords(t, 2);
        using (Open(t)) { }
        WriteRecords(t, 1, "new"); // to ingest: a write
        using var holder = new SqliteConnection($"Data Source={t.Db};Pooling=False");
        holder.Open();
        var tx = holder.BeginTransaction(deferred: false);

        var log = new RecordingLog();
        var opening = Task.Run(() => { using var index = Open(t, log); return index.Count(); });
        var said = KdGat.Testing.Eventually.Within(TimeSpan.FromSeconds(20), () => log.Items.Any(d => d.Severity == Severity.Message && d.Message.Contains("locked by another process")));
        var stillWaiting = !opening.IsCompleted;
        tx.Rollback();

        Assert.True(said, string.Join("\n", log.Items.Select(d => d.Message)));
        Assert.True(stillWaiting);
        Assert.Contains(t.Db, Assert.Single(log.Items, d => d.Message.Contains("locked by another process")).Message);
        Assert.Equal(3, await opening.WaitAsync(TimeSpan.FromSeconds(60)));
    }

    /// <summary>
    /// A good index that cannot be opened for writing where it is (a read-only mount, a folder this user
    /// may not write, where SQLite cannot make its -wal or -shm) was read as damaged: moved aside when
    /// it could be, else a KDG5005 naming the aside name (Status on a read-only file system). It is a
    /// KDG5031 naming the index and what to do, and the index is left as it was. Root ignores
    /// permissions, so the folder is made immutable (chattr +i) or bind-mounted read-only.
    /// </summary>
    [Theory]
    [InlineData("chattr")]
    [InlineData("ro-mount")]
    public void AGoodIndexThatCannotBeOpenedForWriting_IsLeftAsItIs_AndSaidSo(string how)
    {
        using var t = new TempDir();
        WriteRecords(t, 3);
        IReadOnlyList<string> before;
        using (var index = Open(t)) before = index.Dump();
        var bytes = File.ReadAllBytes(t.Db);
        string[] on = how == "chattr" ? ["chattr", "+i", t.StateDir] : ["mount", "--bind", t.StateDir, t.StateDir];
        if (KdGat.Testing.ProcessRunner.Run(on[0], on[1..], t.Path).ExitCode != 0) return; // not root, or a file system without it: nothing to show
        try
        {
            if (how == "ro-mount") Assert.Equal(0, KdGat.Testing.ProcessRunner.Run("mount", ["-o", "remount,bind,ro", t.StateDir], t.Path).ExitCode);
            var log = new RecordingLog();
            var e = Assert.Throws<KdgException>(() => Open(t, log));

            Assert.Equal(ErrorCodes.IndexCannotOpen, e.Code);
            Assert.Equal(t.Db, e.File);
            Assert.Contains("-p:KdGatIndex=", e.Message);
            Assert.DoesNotContain("damaged", e.Message);
            Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.IndexRebuilt);
        }
        finally
        {
            KdGat.Testing.ProcessRunner.Run(how == "chattr" ? "chattr" : "umount", how == "chattr" ? ["-i", t.StateDir] : [t.StateDir], t.Path);
        }
        Assert.Empty(Directory.GetFiles(t.StateDir, "index.db.damaged-*"));
        Assert.Equal(bytes, File.ReadAllBytes(t.Db));
        using var again = Open(t);
        Assert.Null(again.RebuiltBecause);
        Assert.Equal(before, again.Dump());
    }

    /// <summary>
    /// -question's copy of the index while a build writes it: a checkpoint that truncates the WAL after the main file
    /// is copied and before the WAL is lost the rows only the WAL held (the copy was index.db, then index.db-wal).
    /// The copy is taken again; it has every committed row and is not damaged.
    /// </summary>
    [Fact]
    public void ACopyForQuestion_TornByACheckpointBetweenItsFiles_IsTakenAgain()
    {
        using var t = new TempDir();
        WriteRecords(t, 40);
        using var writer = Open(t); // kept open: its rows stay in the WAL
        WriteRecords(t, 20, "more");
        writer.Ingest();
        var copy = Path.Combine(t.Path, "copy.db");
        var checkpoints = 0;

        RunIndex.CopyWhole(t.Db, copy, betweenFiles: () =>
        {
            if (checkpoints++ > 0) return; // once, as a build would
            using var db = new SqliteConnection($"Data Source={t.Db};Pooling=False");
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
            cmd.ExecuteNonQuery();
        });

        using var copied = new SqliteConnection($"Data Source={copy};Pooling=False");
        copied.Open();
        using var count = copied.CreateCommand();
        count.CommandText = "PRAGMA quick_check;";
        Assert.Equal("ok", count.ExecuteScalar());
        count.CommandText = "SELECT count(*) FROM runs;";
        Assert.Equal(60L, count.ExecuteScalar());
        Assert.Equal(2, checkpoints); // copied again
    }

    /// <summary>A damaged index in a folder it cannot be moved out of: KDG5031 saying both, not an error about the aside name.</summary>
    [Fact]
    public void ADamagedIndexThatCannotBeMovedAside_IsSaidAsSuch()
    {
        using var t = new TempDir();
        WriteRecords(t, 3);
        using (Open(t)) { }
        using (var fs = new FileStream(t.Db, FileMode.Open, FileAccess.Write))
            fs.Write(Enumerable.Repeat((byte)0x5A, 8192).ToArray());
        if (KdGat.Testing.ProcessRunner.Run("chattr", ["+i", t.StateDir], t.Path).ExitCode != 0) return;
        try
        {
            var e = Assert.Throws<KdgException>(() => Open(t));
            Assert.Equal(ErrorCodes.IndexCannotOpen, e.Code);
            Assert.Contains("damaged", e.Message);
            Assert.Contains("cannot be moved aside", e.Message);
        }
        finally { KdGat.Testing.ProcessRunner.Run("chattr", ["-i", t.StateDir], t.Path); }
        using var rebuilt = Open(t);
        Assert.Equal(3, rebuilt.Count());
    }

    /// <summary>An index that cannot be created advises KDGAT_INDEX_DIR only where that variable is read (a review: always).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnIndexThatCannotBeCreated_AdvisesKdgatIndexDirOnlyWhereItApplies(bool indexDirApplies)
    {
        using var t = new TempDir();
        Directory.CreateDirectory(t.Db); // a directory where the database file should be

        var e = Assert.Throws<KdgException>(() => RunIndex.Open(new IndexLocation(t.Db, true, "test") { IndexDirApplies = indexDirApplies }, new RecordStore(t.StateDir)));

        Assert.Equal(ErrorCodes.IndexUnusable, e.Code);
        Assert.Contains("-p:KdGatIndex=", e.Message);
        Assert.Equal(indexDirApplies, e.Message.Contains("KDGAT_INDEX_DIR"));
    }

    [Fact]
    public void ARecordsDirThatIsAFile_IsSaid_NotReadAsNoRecords()
    {
        using var t = new TempDir();
        Directory.CreateDirectory(t.StateDir);
        File.WriteAllText(Path.Combine(t.StateDir, "records"), "not a directory");

        var e = Assert.Throws<IOException>(() => Open(t)); // tracking targets make it KDG5005, a build KDG5004
        Assert.Contains("not the run records directory", e.Message);
    }

    [Fact]
    public void DamagedRecord_IsWarnedAndLeftOut_OthersIndexed()
    {
        using var t = new TempDir();
        WriteRecords(t, 3);
        var bad = Path.Combine(t.StateDir, "records", "hcrl_sa", "gat_large_curriculum", "20250101T000000.000Z-bad.json");
        File.WriteAllText(bad, "{ \"record_id\": ");
        var log = new RecordingLog();
        using var index = Open(t, log);
        Assert.Equal(3, index.Count());
        var w = Assert.Single(log.Items, d => d.Code == ErrorCodes.RecordDamaged);
        Assert.Equal(bad, w.File);
    }

    [Fact]
    public void TempFilesOfWritesInFlight_AreNotRecords()
    {
        using var t = new TempDir();
        WriteRecords(t, 2);
        var dir = Path.Combine(t.StateDir, "records", "hcrl_sa", "gat_large_curriculum");
        File.WriteAllText(Path.Combine(dir, ".20250101T000000.000Z-x.json.123.abc.tmp"), "{");
        using var index = Open(t);
        Assert.Equal(2, index.Count());
    }
}
