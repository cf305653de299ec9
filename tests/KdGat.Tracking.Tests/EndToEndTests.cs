using System.Diagnostics;
using System.Text.RegularExpressions;
using KdGat.Core.Tracking;
using KdGat.Testing;
using Microsoft.Data.Sqlite;
using Xunit;

namespace KdGat.Tracking.Tests;

/// <summary>Real `dotnet msbuild` runs of the 13-stage pipeline (trivial commands) in temp dirs.</summary>
[Trait("Category", "EndToEnd")]
public sealed class EndToEndTests
{
    /// <summary>A stage whose last attempt failed: Status warns KDG5021 with its log (the code was documented but never raised, found by review).</summary>
    [Fact]
    public void Status_OfAFailedStage_WarnsKdg5021WithItsLog()
    {
        using var s = TrackingSandbox.Create();
        s.PrefixCommand("gat_large_curriculum", "exit 3; ");
        Assert.NotEqual(0, s.Build("-p:Dataset=hcrl_sa").ExitCode);

        var status = s.Ok("-t:Status", "-p:Dataset=hcrl_sa");

        Assert.Matches(@"\.(out|err)[^\n]*: warning KDG5021: hcrl_sa/gat_large_curriculum: its last attempt failed \(", status.Output);
        Assert.DoesNotContain("KDG5021: hcrl_sa/preprocess", status.Output);
    }

    /// <summary>
    /// A dataset whose raw data a build would generate: Status says so, as Explain does, instead of
    /// telling the user to create a missing input by hand (found by review).
    /// </summary>
    [Fact]
    public void Status_OfADatasetWithoutRawData_SaysABuildGeneratesIt()
    {
        using var s = TrackingSandbox.Create();
        s.Ok("-p:Dataset=hcrl_sa");

        var status = s.Ok("-t:Status", "-p:Dataset=hcrl_ch");

        var row = Assert.Single(TrackingSandbox.StatusRows(status), r => r.StartsWith("hcrl_ch/preprocess"));
        Assert.Contains("raw data not found at 'data/automotive/hcrl_ch' (a build generates it first)", row);
        Assert.DoesNotContain("Create it", row);
    }

    [Fact]
    public void DeleteTheDatabase_StatusShowsTheSameRows_RebuiltFromRecords()
    {
        using var s = TrackingSandbox.Create();
        s.Ok("-p:Dataset=hcrl_sa");
        // One stage stale, so the rows are not all alike.
        var gat = Path.Combine(s.Dir, "models", "gat", "large.yaml");
        File.WriteAllText(gat, File.ReadAllText(gat).Replace("lr: 0.001", "lr: 0.002"));

        var before = s.Ok("-t:Status", "-p:Dataset=hcrl_sa");
        var rowsBefore = TrackingSandbox.StatusRows(before);
        Assert.Equal(13, rowsBefore.Length);
        Assert.Contains(rowsBefore, r => r.StartsWith("hcrl_sa/gat_large_curriculum") && r.Contains("stale") && r.Contains("lr") && r.Contains("0.002"));
        Assert.Contains(rowsBefore, r => r.StartsWith("hcrl_sa/preprocess") && r.Contains("up-to-date"));
        IReadOnlyList<string> dumpBefore;
        using (var i = RunIndex.Open(new IndexLocation(TrackingSandbox.IndexDb(s), true, "test"), new RecordStore(Path.Combine(s.Dir, ".kdgat")))) dumpBefore = i.Dump();
        Assert.Equal(13, dumpBefore.Count(l => l.StartsWith("run\t")));

        foreach (var f in Directory.GetFiles(Path.Combine(s.Dir, ".kdgat"), "index.db*")) File.Delete(f);
        var after = s.Ok("-t:Status", "-p:Dataset=hcrl_sa");
        Assert.Contains("run index created", after.Output);
        Assert.Equal(rowsBefore, TrackingSandbox.StatusRows(after));
        using var rebuilt = RunIndex.Open(new IndexLocation(TrackingSandbox.IndexDb(s), true, "test"), new RecordStore(Path.Combine(s.Dir, ".kdgat")));
        Assert.Equal(dumpBefore, rebuilt.Dump());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // no index step after the first build: the rerun itself must archive the manifest it replaces
    public void TwoRunsWithDifferentParams_HistoryShowsBothWithMetrics_AndThePreviousManifest(bool firstBuildIndexed)
    {
        using var s = TrackingSandbox.Create();
        // gat_large_curriculum also writes metrics.json, from its lr.
        s.PrefixCommand("gat_large_curriculum", "printf \"{{\\\"loss\\\": %s}}\" {params.lr} > metrics.json && ");
        s.EditConfig(c =>
        {
            var at = c.IndexOf("  gat_large_curriculum:", StringComparison.Ordinal);
            const string declared = "outputs: [model.ckpt, train_log.json, curves.jsonl]";
            var outputs = c.IndexOf(declared, at, StringComparison.Ordinal);
            return c[..outputs] + "outputs: [model.ckpt, train_log.json, curves.jsonl, metrics.json]" + c[(outputs + declared.Length)..];
        });
        s.Ok("-p:Dataset=hcrl_sa", $"-p:KdGatTracking={firstBuildIndexed}");
        var gat = Path.Combine(s.Dir, "models", "gat", "large.yaml");
        File.WriteAllText(gat, File.ReadAllText(gat).Replace("lr: 0.001", "lr: 0.002"));
        s.Ok("-p:Dataset=hcrl_sa");

        var h = s.Ok("-t:History", "-p:Stage=gat_large_curriculum", "-p:Dataset=hcrl_sa");
        Assert.Contains("2 recorded attempt(s)", h.Output);
        var lines = h.Output.Split('\n').Where(l => l.Contains("hcrl_sa-gat_large_curriculum-1")).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Contains("param lr", h.Output);
        Assert.Contains(lines, l => l.Contains("0.002") && System.Text.RegularExpressions.Regex.IsMatch(l, @"\b0\.002\s+0\.002\b")); // newest first: lr and loss
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"\b0\.001\s+0\.001\b"));
        Assert.Contains(" loss ", h.Output);

        // The first run's record and manifest survive the rerun.
        var oldId = lines[^1].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];
        var one = s.Ok("-t:History", $"-p:RunId={oldId}");
        Assert.Contains("params: ", one.Output);
        Assert.Contains("lr=0.001", one.Output);
        Assert.Contains("metrics: loss=0.001", one.Output);
        var manifestLine = one.Output.Split('\n').Single(l => l.Trim().StartsWith("manifest: "));
        var manifest = Path.Combine(s.Dir, manifestLine.Trim()["manifest: ".Length..].Trim());
        Assert.True(File.Exists(manifest), manifestLine);
        Assert.Contains("0.001", File.ReadAllText(manifest));
    }

    /// <summary>
    /// -question writes nothing, so it archives no manifest: History -p:RunId -question said "none" for a run whose
    /// manifest a plain History archives first and shows. It names the live manifest, as not archived yet.
    /// </summary>
    [Fact]
    public void HistoryOfOneRun_UnderQuestion_ShowsTheManifestAPlainRunWouldArchive_WritingNothing()
    {
        using var s = TrackingSandbox.Create();
        s.Ok("-p:Dataset=hcrl_sa");
        var archive = Path.Combine(s.Dir, ".kdgat", "manifests");
        Directory.Delete(archive, recursive: true); // as left by a KdGat that did not archive, or a KDG5028
        var list = s.Ok("-t:History", "-p:Stage=preprocess", "-p:Dataset=hcrl_sa", "-question");
        var id = list.Output.Split('\n').Single(l => l.Contains("hcrl_sa-preprocess-1")).Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1];

        var looked = s.Ok("-t:History", $"-p:RunId={id}", "-question");

        var line = looked.Output.Split('\n').Single(l => l.Trim().StartsWith("manifest: ")).Trim();
        Assert.DoesNotContain("none", line);
        Assert.Contains("not archived yet", line);
        var live = Path.Combine(s.Dir, line["manifest: ".Length..line.IndexOf(" (", StringComparison.Ordinal)]);
        Assert.True(File.Exists(live), line);
        Assert.False(Directory.Exists(archive) && Directory.EnumerateFiles(archive, "*", SearchOption.AllDirectories).Any(), "-question archived a manifest");

        var plain = s.Ok("-t:History", $"-p:RunId={id}");
        var archived = plain.Output.Split('\n').Single(l => l.Trim().StartsWith("manifest: ")).Trim()["manifest: ".Length..];
        Assert.StartsWith(".kdgat/manifests/", archived);
        Assert.Equal(File.ReadAllBytes(live), File.ReadAllBytes(Path.Combine(s.Dir, archived)));
    }

    [Fact]
    public void BuildKilledMidway_IndexStaysConsistent_NextBuildCompletesIt()
    {
        using var s = TrackingSandbox.Create();
        s.PrefixCommand("dqn_large_fusion", "sleep 120 && ");
        var p = ProcessRunner.Start("dotnet", s.MSBuildArgs(["-p:Dataset=hcrl_sa", "-p:MaxParallelStages=2"]), s.Dir, null, out var output);
        // Wait until dqn_large_fusion is running (everything not downstream of it has had time to finish or run)
        // and its journal names the process, which is what Status shows.
        var journal = Path.Combine(s.Dir, "experimentruns", "hcrl_sa", ".kdgat", "dqn_large_fusion", "attempt.json");
        Eventually.Within(TimeSpan.FromMinutes(3), () => p.HasExited || File.Exists(journal) && File.ReadAllText(journal).Contains("\"pid:", StringComparison.Ordinal), TimeSpan.FromMilliseconds(200));
        Assert.True(File.Exists(journal) && !p.HasExited, "dqn_large_fusion never started:\n" + output);

        // While it runs, Status says so, with the job (process) id.
        var status = s.Ok("-t:Status", "-p:Dataset=hcrl_sa");
        Assert.Contains(TrackingSandbox.StatusRows(status), r => r.StartsWith("hcrl_sa/dqn_large_fusion") && r.Contains("running") && Regex.IsMatch(r, @"\bpid \d+ \(attempt"));

        p.Kill(entireProcessTree: true);
        p.WaitForExit();
        var recordsAtKill = TrackingSandbox.RecordFiles(s).Length;
        Assert.True(recordsAtKill > 0);
        using (var db = new SqliteConnection($"Data Source={TrackingSandbox.IndexDb(s)};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "PRAGMA integrity_check;";
            Assert.Equal("ok", cmd.ExecuteScalar());
            cmd.CommandText = "SELECT count(*) FROM runs;";
            Assert.True((long)cmd.ExecuteScalar()! <= recordsAtKill);
        }

        s.EditConfig(c => c.Replace("sleep 120 && ", ""));
        var again = s.Ok("-p:Dataset=hcrl_sa");
        var records = TrackingSandbox.RecordFiles(s).Length;
        var final = s.Ok("-t:Status", "-p:Dataset=hcrl_sa");
        Assert.All(TrackingSandbox.StatusRows(final), r => Assert.Contains("up-to-date", r));
        using var index = RunIndex.Open(new IndexLocation(TrackingSandbox.IndexDb(s), true, "test"), new RecordStore(Path.Combine(s.Dir, ".kdgat")));
        Assert.Equal(records, index.Count());
        Assert.Equal(13, index.Latest(successfulOnly: true).Count);
    }

    [Fact]
    public void FailedStage_StatusShowsItsLog_UserErrorsAreOneLineWithACode()
    {
        using var s = TrackingSandbox.Create();
        s.PrefixCommand("gat_small_curriculum", "exit 3; ");
        var build = s.Build("-p:Dataset=hcrl_sa");
        Assert.NotEqual(0, build.ExitCode);
        var status = s.Ok("-t:Status", "-p:Dataset=hcrl_sa");
        var row = Assert.Single(TrackingSandbox.StatusRows(status), r => r.StartsWith("hcrl_sa/gat_small_curriculum "));
        Assert.Contains("failed", row);
        Assert.Contains("exit code 3", row);
        Assert.Matches(@"log: experimentruns/hcrl_sa/gat_small_curriculum/logs/\S+\.err", row);

        // The command fixed, and an upstream changed before any build: the old failure is no longer what a build
        // would run into, so the stage is stale (naming that failure), with no KDG5021 "fix what its log says".
        s.EditConfig(c => c.Replace("exit 3; ", ""));
        File.AppendAllText(s.RawFile("hcrl_sa"), "\n");
        var after = s.Ok("-t:Status", "-p:Dataset=hcrl_sa");
        var stale = Assert.Single(TrackingSandbox.StatusRows(after), r => r.StartsWith("hcrl_sa/gat_small_curriculum "));
        Assert.Matches(@"hcrl_sa/gat_small_curriculum\s+stale\s+.*its last attempt failed with what has changed since \(exit code 3", stale);
        Assert.DoesNotContain("KDG5021", after.Output);

        var noStage = s.Build("-t:History");
        Assert.NotEqual(0, noStage.ExitCode);
        Assert.Contains("error KDG5010", noStage.Output);
        var unknown = s.Build("-t:History", "-p:Stage=gat_larg");
        Assert.Contains("error KDG1203", unknown.Output); // the code the build gives it
        Assert.Contains("gat_large_curriculum", unknown.Output);
        var run = s.Build("-t:History", "-p:RunId=nope");
        Assert.Contains("error KDG5012", run.Output);
        var limit = s.Build("-t:History", "-p:Stage=preprocess", "-p:Limit=ten");
        Assert.Contains("error KDG5013", limit.Output);
        foreach (var r in new[] { noStage, unknown, run, limit })
        {
            Assert.DoesNotContain("   at ", r.Output);
            Assert.DoesNotContain("MSB4018", r.Output);
            Assert.DoesNotContain("KDG9001", r.Output);
        }
    }

    [Fact]
    public void Compare_TablesLargeVsSmallKdVsSmallNoKd_PerDataset()
    {
        using var s = TrackingSandbox.Create();
        s.Ok("-p:Dataset=hcrl_sa set_01");
        var r = s.Ok("-t:Compare", "-p:Dataset=hcrl_sa set_01");
        var header = r.Output.Split('\n').Single(l => l.Contains("dataset") && l.Contains("metric"));
        Assert.Matches(@"dataset\s+metric\s+large\s+small_kd\s+small_nokd", header);
        foreach (var d in new[] { "hcrl_sa", "set_01" })
        {
            Assert.Matches($@"{d}\s+f1\s+0\.5\s+0\.5\s+0\.5", r.Output);
            Assert.Matches($@"{d}\s+bytes\s+\d+\s+\d+\s+\d+", r.Output);
        }
        var only = s.Ok("-t:Compare", "-p:Metrics=f1");
        Assert.DoesNotContain(" bytes ", only.Output);
    }

    /// <summary>
    /// Compare showed each variant's latest run with metrics, whatever the instance's state: with the
    /// large chain stale, its old metrics stood next to small_kd's current ones, unmarked; and after
    /// a change was undone and the result restored from the cache, the metrics of the undone run
    /// (restored and adopted runs were never looked at). Now each value is the current result's, or
    /// marked.
    /// </summary>
    [Fact]
    public void Compare_MarksTheValuesOfAStaleChain_AndTakesARestoredResultAsCurrent()
    {
        using var s = TrackingSandbox.Create();
        s.Ok("-p:Dataset=hcrl_sa");
        var gat = Path.Combine(s.Dir, "models", "gat", "large.yaml");
        var original = File.ReadAllText(gat);
        File.WriteAllText(gat, original.Replace("lr: 0.001", "lr: 0.002"));

        var stale = s.Ok("-t:Compare", "-p:Dataset=hcrl_sa");
        // large and small_kd (distilled from the large teacher) are stale, small_nokd is current.
        Assert.Matches(@"hcrl_sa\s+f1\s+0\.5 \*\s+0\.5 \*\s+0\.5\s*\n", stale.Output);
        Assert.Matches(@"hcrl_sa large: eval_large_evaluation, run \S+ \(ran\) finished [^\n]*NOT CURRENT: stale", stale.Output);
        Assert.DoesNotMatch(@"hcrl_sa small_nokd: [^\n]*NOT CURRENT", stale.Output);

        s.Ok("-p:Dataset=hcrl_sa");                 // the large chain runs with lr 0.002
        File.WriteAllText(gat, original);
        s.Ok("-p:Dataset=hcrl_sa");                 // and is restored from the cache with lr 0.001
        var restored = s.Ok("-t:Compare", "-p:Dataset=hcrl_sa");
        Assert.Matches(@"hcrl_sa large: eval_large_evaluation, run \S+ \(restored\) finished", restored.Output);
        Assert.DoesNotContain("NOT CURRENT", restored.Output);
    }
}
