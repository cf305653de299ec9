using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Locking;
using KdGat.Core.Tests.Support;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// The no-op fast path (InstanceRunner.UpToDateWithoutLock): an up-to-date instance is reported
/// without its stage lock, but only when no attempt is in progress or left over; anything else is
/// decided under the lock, where recovery runs. And what a no-op skips: the live report, the index step.
/// </summary>
[Trait("Category", "Unit")]
public sealed class NoOpFastPathTests : IDisposable
{
    private readonly TempDir _d = NewRoot(Yaml("1", cache: false));

    public void Dispose() => _d.Dispose();

    private string StateDir(string stage) =>
        Directory.EnumerateFiles(_d.Path, "lock", SearchOption.AllDirectories).Single(f => Path.GetFileName(Path.GetDirectoryName(f)) == stage) is { } l
            ? Path.GetDirectoryName(l)! : throw new InvalidOperationException();

    private async Task<(BuildReport Report, RecordingLog Log, BuildEngine Engine)> BuildAsync(CancellationToken cancel = default, string? liveReport = null)
    {
        var log = new RecordingLog();
        var engine = new BuildEngine();
        var report = await engine.RunAsync(Request(_d) with { LiveReportFile = liveReport }, log, cancel);
        return (report, log, engine);
    }

    [Fact]
    public async Task UpToDateInstance_IsReportedWithoutWaitingForItsStageLock()
    {
        Assert.True((await BuildAsync()).Report.Succeeded);
        // Another holder of a's and b's stage locks (a build that is about to check them): the no-op does not wait for it.
        using var a = StageLock.TryAcquire(Path.Combine(StateDir("a"), "lock"));
        using var b = StageLock.TryAcquire(Path.Combine(StateDir("b"), "lock"));
        Assert.NotNull(a);
        Assert.NotNull(b);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var (report, _, _) = await BuildAsync(timeout.Token);
        Assert.All(report.Stages, s => Assert.Equal(Outcome.UpToDate, s.Outcome));
    }

    [Fact]
    public async Task JournalOfAnInterruptedAttempt_IsRecoveredUnderTheLock_NotPassedOverAsUpToDate()
    {
        Assert.True((await BuildAsync()).Report.Succeeded);
        // An attempt interrupted before it started: its journal only (the live result is the good one).
        var journal = Path.Combine(StateDir("a"), "attempt.json");
        File.WriteAllText(journal, $$"""{"AttemptId":"t-a-1","Host":"{{Environment.MachineName}}","BuildPid":2147483647,"Phase":"aside"}""");

        var (report, log, _) = await BuildAsync();
        Assert.True(report.Succeeded);
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.RecoveredAttempt && d.Message.Contains("t-a-1", StringComparison.Ordinal));
        Assert.False(File.Exists(journal));
        Assert.All(report.Stages, s => Assert.Equal(Outcome.UpToDate, s.Outcome));
    }

    /// <summary>
    /// The live page a killed build left says its attempt runs, and reloads itself: a build that rolls that
    /// attempt back writes the page again, though everything then is up to date (a no-op writes none, so the
    /// page said "running" forever; a review).
    /// </summary>
    [Fact]
    public async Task ARecoveringBuild_WritesTheLivePageAgain_EvenWhenNothingRuns()
    {
        Assert.True((await BuildAsync()).Report.Succeeded);
        var page = _d["live.html"];
        Assert.True((await BuildAsync(liveReport: page)).Report.Succeeded);
        Assert.False(File.Exists(page)); // a no-op writes no page
        File.WriteAllText(Path.Combine(StateDir("a"), "attempt.json"), $$"""{"AttemptId":"t-a-1","Host":"{{Environment.MachineName}}","BuildPid":2147483647,"Phase":"aside"}""");

        var (report, _, _) = await BuildAsync(liveReport: page);

        Assert.All(report.Stages, s => Assert.Equal(Outcome.UpToDate, s.Outcome));
        Assert.True(File.Exists(page));
    }

    [Fact]
    public async Task AsideDirWithoutJournal_IsClearedUnderTheLock()
    {
        Assert.True((await BuildAsync()).Report.Succeeded);
        var aside = Path.Combine(StateDir("b"), "aside");
        Directory.CreateDirectory(aside);
        File.WriteAllText(Path.Combine(aside, "out.txt"), "left by a committed attempt\n");

        var (report, _, _) = await BuildAsync();
        Assert.All(report.Stages, s => Assert.Equal(Outcome.UpToDate, s.Outcome));
        Assert.False(Directory.Exists(aside));
    }

    [Fact]
    public async Task NoOp_WritesNoStateAndNoLiveReport_AStaleInstanceDoes()
    {
        var page = _d["out/report.html"];
        var first = await BuildAsync(liveReport: page);
        Assert.True(first.Engine.WroteState);
        Assert.True(File.Exists(page));
        // The build says where its page is (nothing did: first users never found it).
        Assert.Contains(first.Log.Items, i => i.Message.StartsWith($"KdGat: report: {page} ", StringComparison.Ordinal));
        File.Delete(page);

        var noop = await BuildAsync(liveReport: page);
        Assert.All(noop.Report.Stages, s => Assert.Equal(Outcome.UpToDate, s.Outcome));
        Assert.False(noop.Engine.WroteState);
        Assert.False(File.Exists(page));
        Assert.DoesNotContain(noop.Log.Items, i => i.Message.StartsWith("KdGat: report:", StringComparison.Ordinal));

        // b stale, a up to date: the page opens when b runs and still shows a (ended before it opened).
        File.Delete(Path.Combine(_d.Path, "runs", "d1", "b", "out.txt"));
        var again = await BuildAsync(liveReport: page);
        Assert.True(again.Engine.WroteState);
        var html = File.ReadAllText(page);
        Assert.Contains("data-id=\"d1/a\" data-state=\"up-to-date\"", html, StringComparison.Ordinal);
        Assert.Contains("data-id=\"d1/b\" data-state=\"ran\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALiveReportThatCouldNotBeWritten_IsNotNamedAsTheBuildsPage()
    {
        _d.Write("blocker", "a file where the report's directory should be");
        var page = _d["blocker/report.html"];
        var (report, log, _) = await BuildAsync(liveReport: page);
        Assert.True(report.Succeeded);
        Assert.Contains(log.Items, i => i.Code == ErrorCodes.LiveReportWriteFailed);
        // KDG4020 said it: no "open it in a browser" line for a file that does not exist.
        Assert.DoesNotContain(log.Items, i => i.Message.StartsWith("KdGat: report:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NoOpAfterABuildThatFilledTheOutputStore_HashesNothing()
    {
        // The store hard-links each new output, which changes its ctime: without the hash cache
        // following, the first no-op after every build read every new checkpoint again.
        using var d = NewRoot(Yaml("1", cache: true));
        Assert.True((await CrashLab.BuildAsync(d)).Succeeded);
        Assert.NotEmpty(Directory.EnumerateFiles(d["store"], "*", SearchOption.AllDirectories));
        var log = new RecordingLog();
        var noop = await CrashLab.BuildAsync(d, log: log);
        Assert.All(noop.Stages, s => Assert.Equal(Outcome.UpToDate, s.Outcome));
        Assert.Contains(log.Items, i => i.Message.Contains("(hashed 0 file(s)", StringComparison.Ordinal));
    }

    /// <summary>
    /// A one-stage pipeline built once, then what a killed build left of an attempt on seed=1, a sweep point
    /// since taken out of the grid: its journal, a partial output and a file beside it, and its process still
    /// running (its environment names the attempt). Disposing kills that process (a failing test leaves
    /// none behind) and removes the pipeline.
    /// </summary>
    private sealed class StrandedPoint(TestPipeline p, BuildRequest request, string state, System.Diagnostics.Process orphan) : IDisposable
    {
        public TestPipeline P => p;
        public BuildRequest Request => request;
        public string State => state;
        public System.Diagnostics.Process Orphan => orphan;

        /// <param name="sweep">The stage's sweep today, e.g. ", sweep: { seed: [0] }" ("": unswept).</param>
        public static async Task<StrandedPoint> Make(string attemptId, string sweep = "")
        {
            var p = new TestPipeline($$"""
                datasets: [d1]
                paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
                defaults: { cache: false }
                stages:
                  a: { command: 'echo a > out.txt', outputs: [out.txt]{{sweep}} }
                """, "d1");
            var request = p.Request([new("a", [])]);
            Assert.True((await new BuildEngine().RunAsync(request, new RecordingLog(), default)).Succeeded);
            var state = p.Dir["runs/d1/.kdgat/a/seed=1"];
            Directory.CreateDirectory(state);
            File.WriteAllText(Path.Combine(state, "attempt.json"),
                $$"""{"AttemptId":"{{attemptId}}","Host":"{{Environment.MachineName}}","BuildPid":2147483647,"Phase":"running","Outputs":["runs/d1/a/seed=1/out.txt"],"Had":[]}""");
            Directory.CreateDirectory(p.Dir["runs/d1/a/seed=1"]);
            File.WriteAllText(p.Dir["runs/d1/a/seed=1/out.txt"], "partial");
            File.WriteAllText(p.Dir["runs/d1/a/seed=1/scratch.txt"], "written beside its outputs");
            var start = new System.Diagnostics.ProcessStartInfo("sleep", "120");
            start.Environment["KDGAT_ATTEMPT_ID"] = attemptId;
            return new StrandedPoint(p, request, state, System.Diagnostics.Process.Start(start)!);
        }

        public void Dispose()
        {
            try { if (!orphan.HasExited) orphan.Kill(); }
            catch (InvalidOperationException) { } // ended meanwhile
            orphan.Dispose();
            p.Dispose();
        }
    }

    /// <summary>
    /// A build of the stage swept over seeds was killed while seed=1 ran, then the sweep was taken out
    /// again: nothing recovered that point (its journal said "running" for good, its process wrote on into
    /// seed=1/ inside the result every build called up to date; a crash review). The unswept instance is
    /// stale while such a journal is there, and recovers it.
    /// </summary>
    [Fact]
    public async Task AnInterruptedAttemptOfAFormerSweepPoint_IsRecoveredByTheUnsweptInstance()
    {
        using var stranded = await StrandedPoint.Make("t-seed1-1");
        var (p, request, state, orphan) = (stranded.P, stranded.Request, stranded.State, stranded.Orphan);

        var explained = await new BuildEngine().RunAsync(request with { Mode = BuildMode.Explain }, new RecordingLog(), default);
        Assert.Contains("seed=1/ (an interrupted attempt)", Assert.Single(Assert.Single(explained.Stages).Reasons));

        var log = new RecordingLog();
        var built = await new BuildEngine().RunAsync(request, log, default);

        Assert.True(built.Succeeded, string.Join("\n", log.Items.Select(d => d.Message)));
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.RecoveredAttempt && d.Message.Contains("a former sweep point of d1/a", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(state, "attempt.json")));
        Assert.False(Directory.Exists(p.Dir["runs/d1/a/seed=1"])); // nothing of it left in the result a downstream gets whole
        Assert.Single(Directory.GetFiles(Path.Combine(state, "failed"), "scratch.txt", SearchOption.AllDirectories));
        Assert.Equal("a\n", File.ReadAllText(p.Dir["runs/d1/a/out.txt"]));
        Assert.True(orphan.WaitForExit(10_000), "the attempt's process was not stopped");
    }

    /// <summary>
    /// The same with the stage still swept, over a smaller grid (seed [0, 1] -> [0]): today's point was up to
    /// date without a look at its siblings, so nothing stopped seed=1's process (a review). The build recovers
    /// it before anything runs, and today's point does not run again.
    /// </summary>
    [Fact]
    public async Task AnInterruptedAttemptOfAPointDroppedFromAStillSweptGrid_IsRecovered_TodaysPointNotRerun()
    {
        using var stranded = await StrandedPoint.Make("t-seed1-3", sweep: ", sweep: { seed: [0] }");
        var (p, request, state, orphan) = (stranded.P, stranded.Request, stranded.State, stranded.Orphan);

        var explainLog = new RecordingLog();
        var explained = await new BuildEngine().RunAsync(request with { Mode = BuildMode.Explain }, explainLog, default);
        Assert.Equal(Outcome.UpToDate, Assert.Single(explained.Stages).Outcome);
        Assert.Contains(explainLog.Items, d => d.Message.Contains("d1/a/seed=1: an attempt a crash interrupted", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(state, "attempt.json"))); // Explain recovers nothing

        var log = new RecordingLog();
        var built = await new BuildEngine().RunAsync(request, log, default);

        Assert.True(built.Succeeded, string.Join("\n", log.Items.Select(d => d.Message)));
        Assert.Equal(Outcome.UpToDate, Assert.Single(built.Stages).Outcome);
        Assert.Contains(log.Items, d => d.Code == ErrorCodes.RecoveredAttempt && d.Message.Contains("a point no longer in the sweep of d1/a", StringComparison.Ordinal));
        Assert.True(orphan.WaitForExit(10_000), "the attempt's process was not stopped");
        Assert.False(File.Exists(Path.Combine(state, "attempt.json")));
        Assert.False(Directory.Exists(p.Dir["runs/d1/a/seed=1"]));
        Assert.Single(Directory.GetFiles(Path.Combine(state, "failed"), "scratch.txt", SearchOption.AllDirectories));
        Assert.Equal("a\n", File.ReadAllText(p.Dir["runs/d1/a/seed=0/out.txt"]));

        var quiet = new RecordingLog();
        await new BuildEngine().RunAsync(request, quiet, default);
        Assert.DoesNotContain(quiet.Items, d => d.Code == ErrorCodes.RecoveredAttempt);
    }

    /// <summary>
    /// With -p:Sweep the points it leaves out are still in the grid: an attempt on one is its own build's to recover
    /// or re-attach to (a review: a -p:Sweep=seed=0 build stopped seed=1's running stage, and would have cancelled its job).
    /// </summary>
    [Fact]
    public async Task APointLeftOutByPSweep_IsNotRecoveredAsDropped()
    {
        using var stranded = await StrandedPoint.Make("t-seed1-4", sweep: ", sweep: { seed: [0, 1] }");
        var (request, state, orphan) = (stranded.Request with { Sweep = "seed=0", GlobalPropertyNames = ["Dataset"] }, stranded.State, stranded.Orphan);

        var explainLog = new RecordingLog();
        await new BuildEngine().RunAsync(request with { Mode = BuildMode.Explain }, explainLog, default);
        var log = new RecordingLog();
        var built = await new BuildEngine().RunAsync(request, log, default);

        Assert.True(built.Succeeded, string.Join("\n", log.Items.Select(d => d.Message)));
        Assert.DoesNotContain(explainLog.Items, d => d.Message.Contains("no longer in the sweep", StringComparison.Ordinal));
        Assert.DoesNotContain(log.Items, d => d.Code == ErrorCodes.RecoveredAttempt);
        Assert.True(File.Exists(Path.Combine(state, "attempt.json")));
        Assert.False(orphan.HasExited);
    }

    /// <summary>Clean of the stage stops a former point's interrupted attempt before it deletes its folder (its process wrote on into a cleaned tree).</summary>
    [Fact]
    public async Task Clean_StopsAnInterruptedAttemptOfAFormerSweepPoint()
    {
        using var stranded = await StrandedPoint.Make("t-seed1-2");
        var (request, state, orphan) = (stranded.Request, stranded.State, stranded.Orphan);

        var log = new RecordingLog();
        await Cleaner.CleanAsync(request, null, log);

        Assert.Contains(log.Items, d => d.Code == ErrorCodes.RecoveredAttempt && d.Message.Contains("t-seed1-2", StringComparison.Ordinal));
        Assert.True(orphan.WaitForExit(10_000), "the attempt's process was not stopped");
        Assert.False(File.Exists(Path.Combine(state, "attempt.json")));
    }
}
