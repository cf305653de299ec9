using System.Diagnostics;
using KdGat.Core.Tracking;
using KdGat.Testing;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace KdGat.Tracking.Tests;

/// <summary>
/// Real processes: 32 at once each writing records and ingesting them into one index after every
/// write; and an ingest killed with SIGKILL midway. The children are this test assembly run with
/// `dotnet` (see Program.cs).
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class ConcurrencyTests
{
    private readonly ITestOutputHelper _out;
    public ConcurrencyTests(ITestOutputHelper output) => _out = output;

    private static string Self => typeof(Program).Assembly.Location;

    [Theory]
    [InlineData("wal")]
    [InlineData("delete")]
    public void ThirtyTwoProcesses_WriteAndIngestAtOnce_NoLostRows_NoCrashes(string mode)
    {
        const int processes = 32, perProcess = 8;
        using var t = new TempDir();
        var sw = Stopwatch.StartNew();
        var children = Enumerable.Range(0, processes).Select(i =>
            (Process: ProcessRunner.Start("dotnet", [Self, "write-ingest", t.Path, t.Db, mode, $"w{i:00}", perProcess.ToString()], t.Path, null, out var output), Output: output)).ToArray();
        foreach (var c in children)
            Assert.True(c.Process.WaitForExit(TimeSpan.FromMinutes(4)), "child did not finish: " + c.Output);
        var outputs = children.Select(c => { c.Process.WaitForExit(); lock (c.Output) return (c.Process.ExitCode, Text: c.Output.ToString()); }).ToArray();
        sw.Stop();
        foreach (var (code, text) in outputs) Assert.True(code == 0, $"exit {code}: {text}");
        var retries = outputs.Sum(o => int.TryParse(o.Text.Split("retries=").ElementAtOrDefault(1)?.Trim(), out var n) ? n : 0);

        // Count what the children put in the index, before this process ingests anything itself.
        using (var db = new SqliteConnection($"Data Source={t.Db};Pooling=False;Mode=ReadOnly"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "PRAGMA integrity_check;";
            Assert.Equal("ok", cmd.ExecuteScalar());
            cmd.CommandText = "SELECT count(*), count(DISTINCT record_id) FROM runs;";
            using var r = cmd.ExecuteReader();
            r.Read();
            Assert.Equal(processes * perProcess, r.GetInt64(0));
            Assert.Equal(processes * perProcess, r.GetInt64(1));
            cmd.Dispose();
        }
        using var index = RunIndex.Open(new IndexLocation(t.Db, mode == "wal", "test"), new RecordStore(t.StateDir));
        Assert.Equal(processes * perProcess, index.Count());
        Assert.Equal(mode, index.JournalMode);
        _out.WriteLine($"{mode}: {processes} processes x {perProcess} write+ingest cycles: {sw.Elapsed.TotalSeconds:0.0} s, {retries} SQLite busy retries in all, {index.Count()} rows");
    }

    /// <summary>
    /// -question's copy of the index (<see cref="RunIndex.OpenCopy"/>) was two plain file copies, index.db then its
    /// -wal, while a build may write the index: a checkpoint that restarts the WAL between them gave a copy missing
    /// committed rows or damaged (a false KDG1218, "it would be made again", or an SQLite error). Here a writer
    /// ingests new records in small transactions and restarts the WAL as fast as it can while copies are taken:
    /// every copy opens as it is, with at least the rows committed before it began.
    /// </summary>
    [Fact]
    public async Task CopiesForQuestion_WhileAWriterCommitsAndCheckpoints_AreNeverTorn()
    {
        using var t = new TempDir();
        var store = new RecordStore(t.StateDir);
        for (var i = 0; i < 3000; i++) store.Write(Records.Make($"c{i:0000}", dataset: "d" + (i % 5), stage: "s" + (i % 7), metrics: new Dictionary<string, double> { ["f1"] = i }));
        var location = new IndexLocation(t.Db, true, "test");
        using var writer = RunIndex.Open(location, store);
        long committed = writer.Count();
        using var stop = new CancellationTokenSource();
        var writing = Task.Run(() =>
        {
            using var checkpointer = new SqliteConnection($"Data Source={t.Db};Pooling=False");
            checkpointer.Open();
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                for (var i = 0; i < 40; i++) store.Write(Records.Make($"w{n:0000}-{i:00}", dataset: "d" + (i % 5), stage: "s" + (i % 7)));
                writer.Ingest(batchSize: 4);
                Volatile.Write(ref committed, writer.Count());
                using var cmd = checkpointer.CreateCommand();
                cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE);";
                try { cmd.ExecuteNonQuery(); } catch (SqliteException) { } // busy: the next round
            }
        });
        try
        {
            var sw = Stopwatch.StartNew();
            var copies = 0;
            while (sw.Elapsed < TimeSpan.FromSeconds(10) && !writing.IsCompleted)
            {
                var before = Volatile.Read(ref committed);
                var (copy, _) = RunIndex.OpenCopy(location, store);
                using (copy)
                {
                    Assert.Null(copy.RebuiltBecause);
                    Assert.True(copy.LastIngest!.AlreadyIndexed >= before, $"copy {copies}: {copy.LastIngest} of at least {before} committed rows");
                }
                copies++;
            }
            _out.WriteLine($"{copies} copies, {Volatile.Read(ref committed)} rows at the end");
            Assert.True(copies > 0, "no copy was taken");
        }
        finally
        {
            await stop.CancelAsync();
            await writing;
        }
    }

    [Fact]
    public void IngestKilledMidway_LeavesAConsistentIndex_TheNextOneCompletesIt()
    {
        const int n = 3000;
        using var t = new TempDir();
        var store = new RecordStore(t.StateDir);
        for (var i = 0; i < n; i++) store.Write(Records.Make($"k{i:0000}", dataset: "d" + (i % 5), stage: "s" + (i % 7), metrics: new Dictionary<string, double> { ["f1"] = i }));

        // Kill an ingesting child (SIGKILL) as soon as a reader sees some but not all rows committed;
        // watching the database rather than sleeping a fixed time keeps this independent of machine speed.
        var killedPartial = false;
        for (var attempt = 1; attempt <= 10 && !killedPartial; attempt++)
        {
            foreach (var f in Directory.GetFiles(t.StateDir, "index.db*")) File.Delete(f);
            var p = ProcessRunner.Start("dotnet", [Self, "ingest", t.Path, t.Db], t.Path, null, out _);
            if (Eventually.Within(TimeSpan.FromMinutes(1), () => p.HasExited || CommittedRows(t.Db) is > 0 and < n, TimeSpan.FromMilliseconds(1)) && !p.HasExited)
                p.Kill();
            p.WaitForExit();
            if (!File.Exists(t.Db)) continue;
            using var db = new SqliteConnection($"Data Source={t.Db};Pooling=False");
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "PRAGMA integrity_check;";
            Assert.Equal("ok", cmd.ExecuteScalar());
            cmd.CommandText = "SELECT name FROM sqlite_master WHERE name='runs';";
            if (cmd.ExecuteScalar() is null) continue;
            cmd.CommandText = "SELECT count(*) FROM runs;";
            var rows = (long)cmd.ExecuteScalar()!;
            cmd.CommandText = "SELECT count(*) FROM record_files;";
            var files = (long)cmd.ExecuteScalar()!;
            cmd.CommandText = "SELECT count(*) FROM runs WHERE record_id NOT IN (SELECT record_id FROM metrics);";
            var runsWithoutMetrics = (long)cmd.ExecuteScalar()!;
            // Each batch is one transaction: rows, their metrics and their files appear together or not at all.
            Assert.Equal(rows, files);
            Assert.Equal(0, runsWithoutMetrics);
            _out.WriteLine($"attempt {attempt}: child ended with {rows} of {n} rows committed");
            killedPartial = rows > 0 && rows < n;
        }
        Assert.True(killedPartial, "no kill landed in the middle of an ingest in 10 tries");

        using var index = RunIndex.Open(new IndexLocation(t.Db, true, "test"), store);
        Assert.Equal(n, index.Count());
        Assert.Equal(n, index.Runs().Select(r => r.Record.RecordId).Distinct().Count());
    }

    /// <summary>Rows a reader sees committed, or null while the database or its table does not exist yet.</summary>
    private static long? CommittedRows(string db)
    {
        if (!File.Exists(db)) return null;
        try
        {
            using var c = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM runs;";
            return (long)cmd.ExecuteScalar()!;
        }
        catch (SqliteException)
        {
            return null; // schema not created yet, or busy: look again
        }
    }
}
