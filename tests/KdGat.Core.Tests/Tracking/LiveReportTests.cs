using KdGat.Core.Execution;
using System.Text.RegularExpressions;
using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Planning;
using KdGat.Core.Tests.Support;
using KdGat.Core.Tracking;
using KdGat.Testing;

namespace KdGat.Core.Tests.Tracking;

/// <summary>The page a build rewrites while it runs: states on the graph, timeline, curves, reload only while live.</summary>
[Trait("Category", "Unit")]
public sealed class LiveReportTests : IDisposable
{
    private readonly TestPipeline _p = new(KdGatGraph.Yaml(), "d1");
    public void Dispose() => _p.Dispose();

    private static string NodeState(string html, string id) =>
        Regex.Match(html, $"<g class=\"node\" data-id=\"{Regex.Escape(id)}\" data-state=\"([^\"]*)\"").Groups[1].Value;

    [Fact]
    public void WrittenAtStart_RewrittenOnStateChange_FinalPageStopsReloading()
    {
        var instances = _p.Instances(KdGatGraph.Stages);
        var pre = instances.First(i => i.Name == "preprocess");
        var gat = instances.First(i => i.Name == "gat_large_curriculum");
        var file = _p.Dir["out/report.html"];
        var log = new RecordingLog();
        using var live = new LiveReport(file, "b1", _p.Root, instances, log, refreshSeconds: 2, minInterval: TimeSpan.Zero);

        var first = File.ReadAllText(file);
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"2\">", first);
        Assert.Equal(instances.Count, Regex.Matches(first, "<g class=\"node\"").Count);
        Assert.All(instances, i => Assert.Equal("waiting", NodeState(first, i.Key)));

        live.Ended(new InstanceResult(pre, Outcome.UpToDate, []));
        live.Started(gat, "running", 1, ["parameter lr changed"]);
        live.JobStarted(gat, AttemptHandle.Process(4242));
        Directory.CreateDirectory(gat.RunDir);
        File.WriteAllText(Path.Combine(gat.RunDir, EpochCurves.FileName), "{\"epoch\":1,\"loss\":0.8}\n{\"epoch\":2,\"loss\":0.6}\n");
        live.Started(gat, "running", 1, ["parameter lr changed"]); // nudge: the curves were written after the first change
        // Written by the report's own thread; one render may take its states before JobStarted and read the curves after.
        Eventually.Until(() => File.ReadAllText(file) is var h && NodeState(h, gat.Key) == "running" && h.Contains("data-metric=\"loss\"") && h.Contains("running, pid 4242"),
            TimeSpan.FromSeconds(30), "the report shows the running state, its pid and its curve");
        var running = File.ReadAllText(file);
        Assert.Equal("up-to-date", NodeState(running, pre.Key));
        Assert.Contains("data-id=\"d1/gat_large_curriculum\" data-state=\"running\"", running); // its timeline bar
        Assert.Contains("<meta http-equiv=\"refresh\"", running);

        live.Ended(new InstanceResult(gat, Outcome.Ran, [new StaleReason("params", "parameter lr changed")]) { Seconds = 3, Handle = AttemptHandle.Process(4242) });
        live.Complete();
        var final = File.ReadAllText(file);
        Assert.Equal("ran", NodeState(final, gat.Key));
        Assert.DoesNotContain("http-equiv=\"refresh\"", final);
        Assert.Contains("data-state=\"done\"", final);
        Assert.Empty(log.Items);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(file)!, ".*.tmp"));
    }

    /// <summary>A swept pipeline (the README's seed sweep): a box per grid point; the page was never written (two nodes with one id).</summary>
    [Fact]
    public void ASweptPipeline_GetsABoxPerGridPoint()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              prep: { command: x, outputs: [p] }
              train: { command: x, outputs: [m], sweep: { seed: [0, 1] } }
            """, "d1");
        var instances = p.Instances([new("prep", []), new("train", ["prep"])]);
        Assert.Equal(3, instances.Count);
        var file = p.Dir["report.html"];
        var log = new RecordingLog();
        using var live = new LiveReport(file, "b1", p.Root, instances, log, refreshSeconds: 2, minInterval: TimeSpan.Zero);
        var seed1 = instances.Single(i => i.Variant == "seed=1");
        live.Ended(new InstanceResult(seed1, Outcome.Ran, []) { Seconds = 1 });
        live.Complete();

        Assert.Empty(log.Items);
        var html = File.ReadAllText(file);
        Assert.Equal("waiting", NodeState(html, "d1/train/seed=0"));
        Assert.Equal("ran", NodeState(html, "d1/train/seed=1"));
        Assert.Equal("waiting", NodeState(html, "d1/prep"));
        Assert.Equal(2, Regex.Matches(html, "<g class=\"edge\">").Count); // prep -> each grid point
    }

    [Fact]
    public void ASubmittedJob_IsShownRunningOnceSeenRunning_AndQueuedAgainWhenRequeued()
    {
        var instances = _p.Instances(KdGatGraph.Stages);
        var job = instances.First(i => i.Name == "preprocess");
        var file = _p.Dir["out/report.html"];
        using var live = new LiveReport(file, "b1", _p.Root, instances, new RecordingLog(), refreshSeconds: 2, minInterval: TimeSpan.Zero);

        live.Started(job, "submitting", 1, []);
        live.JobStarted(job, AttemptHandle.BatchJob("4711"));
        live.JobState(job, running: false);
        Eventually.Until(() => NodeState(File.ReadAllText(file), job.Key) == "submitted", TimeSpan.FromSeconds(30), "queued");
        live.JobState(job, running: true);
        Eventually.Until(() => File.ReadAllText(file) is var h && NodeState(h, job.Key) == "running" && h.Contains("running, job 4711"), TimeSpan.FromSeconds(30), "running, with its job id");
        live.JobState(job, running: false);
        Eventually.Until(() => NodeState(File.ReadAllText(file), job.Key) == "submitted", TimeSpan.FromSeconds(30), "queued again");
        live.Ended(new InstanceResult(job, Outcome.Ran, []) { Seconds = 3, Handle = AttemptHandle.BatchJob("4711") });
        live.JobState(job, running: true); // a late poll after the end changes nothing
        live.Complete();
        Assert.Equal("ran", NodeState(File.ReadAllText(file), job.Key));
    }

    [Fact]
    public async Task WhileJobsWaitAndNothingMoves_ThePageIsRewrittenOnlyEveryIdlePeriod_OrWhenCurvesGrow()
    {
        var instances = _p.Instances(KdGatGraph.Stages).Take(1).ToArray();
        var job = instances[0];
        var file = _p.Dir["report.html"];
        var clock = new TimerClock(DateTimeOffset.Parse("2026-12-02T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var live = new LiveReport(file, "b1", _p.Root, instances, new RecordingLog(), refreshSeconds: 5, minInterval: TimeSpan.Zero, time: clock);
        live.Started(job, "submitting", 1, []);
        live.JobStarted(job, AttemptHandle.BatchJob("4711"));
        Eventually.Until(() => File.ReadAllText(file).Contains("4711"), TimeSpan.FromSeconds(30), "the page shows the job");

        // A queued job: the looks back off from the reload period (at 5, 12.5, 23.75, 40.6 s rather
        // than every 5 s), no page render (one pending wake at most).
        var before = live.Writes;
        await clock.RunUntilAsync(TimeSpan.FromMinutes(10), () => live.Looks >= 4);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(35), TimeSpan.FromSeconds(45));
        Assert.InRange(live.Writes, before, before + 1);

        // The idle period passes: the bars move once.
        var idle = live.Writes;
        await clock.RunUntilAsync(LiveReport.IdleRewrite + TimeSpan.FromSeconds(10), () => live.Writes > idle);
        Assert.True(live.Writes > idle, "rewritten after the idle period");

        // An hour of waiting: about one wake-up a minute (the rewrite), not one per reload period (720).
        var (looksBefore, writesBefore, hourFrom) = (live.Looks, live.Writes, clock.Elapsed);
        await clock.RunUntilAsync(hourFrom + TimeSpan.FromHours(1));
        Assert.InRange(live.Looks - looksBefore, 55, 65);
        Assert.InRange(live.Writes - writesBefore, 55, 62);

        // The stage writes an epoch: a look within the idle period renders it ...
        var quiet = live.Writes;
        Directory.CreateDirectory(job.RunDir);
        File.WriteAllText(Path.Combine(job.RunDir, EpochCurves.FileName), "{\"epoch\":1,\"loss\":0.8}\n");
        var written = clock.Elapsed;
        await clock.RunUntilAsync(written + LiveReport.IdleRewrite + TimeSpan.FromSeconds(2), () => live.Writes > quiet);
        Assert.True(live.Writes > quiet, "rewritten when curves.jsonl grew");
        Assert.Contains("data-metric=\"loss\"", File.ReadAllText(file));

        // ... and the looks are back at the reload period while the curves grow.
        File.AppendAllText(Path.Combine(job.RunDir, EpochCurves.FileName), "{\"epoch\":2,\"loss\":0.7}\n");
        var grew = live.Writes;
        await clock.RunUntilAsync(clock.Elapsed + TimeSpan.FromSeconds(7), () => live.Writes > grew);
        Assert.True(live.Writes > grew, "the second epoch is rendered within a reload period of the first");

        // A retry moves the file aside: one rewrite drops the curve, then the looks are quiet again.
        File.Delete(Path.Combine(job.RunDir, EpochCurves.FileName));
        var withCurve = live.Writes;
        await clock.RunUntilAsync(clock.Elapsed + TimeSpan.FromSeconds(6), () => live.Writes > withCurve);
        Assert.DoesNotContain("data-metric=\"loss\"", File.ReadAllText(file));
        var gone = live.Writes;
        var looks = live.Looks;
        await clock.RunUntilAsync(clock.Elapsed + TimeSpan.FromSeconds(30), () => live.Looks >= looks + 3);
        Assert.InRange(live.Writes, gone, gone + 1);
    }

    [Fact]
    public void JobsLeftInSlurm_FinalPageKeepsReloading()
    {
        var instances = _p.Instances(KdGatGraph.Stages).Take(2).ToArray();
        var file = _p.Dir["report.html"];
        using var live = new LiveReport(file, "b1", _p.Root, instances, new RecordingLog());
        live.Ended(new InstanceResult(instances[0], Outcome.Ran, []) { Seconds = 1 });
        live.Started(instances[1], "submitting", 1, []);
        live.JobStarted(instances[1], AttemptHandle.BatchJob("4711"));
        live.Ended(new InstanceResult(instances[1], Outcome.Submitted, []) { Handle = AttemptHandle.BatchJob("4711") });
        live.Complete();
        var html = File.ReadAllText(file);
        Assert.Contains("http-equiv=\"refresh\"", html);
        Assert.Contains("-t:Status", html);
        Assert.Equal("submitted", NodeState(html, instances[1].Key));
    }

    [Fact]
    public void ARestoredInstance_ShowsTheCurvesRestoredWithIt_WhateverTheirFileTime()
    {
        var gat = _p.Instances(KdGatGraph.Stages).First(i => i.Name == "gat_large_curriculum");
        Directory.CreateDirectory(gat.RunDir);
        var curves = Path.Combine(gat.RunDir, EpochCurves.FileName);
        File.WriteAllText(curves, "{\"epoch\":1,\"loss\":0.8}\n");
        File.SetLastWriteTimeUtc(curves, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc)); // the cached file's time, kept by the restore
        var file = _p.Dir["report.html"];
        using var live = new LiveReport(file, "b1", _p.Root, [gat], new RecordingLog());
        live.Ended(new InstanceResult(gat, Outcome.Restored, []) { Seconds = 1 });
        live.Complete();
        Assert.Contains($"<div class=\"curves\" data-id=\"{gat.Key}\">", File.ReadAllText(file));
    }

    /// <summary>
    /// A failed attempt is rolled back: a declared curves.jsonl in its run dir is the kept result's again, not
    /// the attempt's, and is not shown under "failed" (it was when the kept file was written within 5 s of the
    /// attempt's start, a review). An undeclared one stays where the attempt wrote it, and is its own.
    /// </summary>
    [Theory]
    [InlineData("[m, curves.jsonl]", false)]
    [InlineData("[m]", true)]
    public void AFailedAttempt_ShowsNoCurvesOfTheResultKeptForIt(string outputs, bool shown)
    {
        using var p = new TestPipeline($$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              train: { command: x, outputs: {{outputs}} }
            """, "d1");
        var train = p.Instances([new("train", [])]).Single();
        var file = p.Dir["report.html"];
        using var live = new LiveReport(file, "b1", p.Root, [train], new RecordingLog(), minInterval: TimeSpan.Zero);
        live.Started(train, "running", 1, ["parameter lr changed"]);
        Directory.CreateDirectory(train.RunDir);
        File.WriteAllText(Path.Combine(train.RunDir, EpochCurves.FileName), "{\"epoch\":1,\"loss\":0.8}\n");

        live.Ended(new InstanceResult(train, Outcome.Failed, []) { Seconds = 1 });
        live.Complete();

        Assert.Equal(shown, File.ReadAllText(file).Contains($"<div class=\"curves\" data-id=\"{train.Key}\">", StringComparison.Ordinal));
    }

    [Fact]
    public void UnwritablePlace_OneWarning_TheBuildGoesOn()
    {
        var instances = _p.Instances(KdGatGraph.Stages).Take(1).ToArray();
        _p.Dir.Write("blocker", "a file where a directory should be");
        var log = new RecordingLog();
        using var live = new LiveReport(_p.Dir["blocker/report.html"], "b1", _p.Root, instances, log);
        live.Ended(new InstanceResult(instances[0], Outcome.Ran, []));
        live.Complete();
        Assert.Equal([ErrorCodes.LiveReportWriteFailed], log.Items.Select(d => d.Code));
        Assert.Contains("-p:LiveReport=false", log.Items[0].Message);
    }

    [Fact]
    public void Writes_AreNotPartOfACrashPlan()
    {
        var instances = _p.Instances(KdGatGraph.Stages).Take(1).ToArray();
        var plan = new KdGat.Core.IO.CrashPoints.Plan(1, KdGat.Core.IO.CrashPoints.Mode.Crash);
        KdGat.Core.IO.CrashPoints.Current = plan;
        try
        {
            var log = new RecordingLog();
            using var live = new LiveReport(_p.Dir["report.html"], "b1", _p.Root, instances, log);
            live.Ended(new InstanceResult(instances[0], Outcome.Ran, []));
            live.Complete();
            Assert.Equal(0, plan.Count);
            Assert.Same(plan, KdGat.Core.IO.CrashPoints.Current);
            Assert.Empty(log.Items);
        }
        finally
        {
            KdGat.Core.IO.CrashPoints.Current = null;
        }
    }

    [Fact]
    public void ABuildThatStopsWithAnError_LeavesAPageThatDoesNotReload()
    {
        var instances = _p.Instances(KdGatGraph.Stages).Take(2).ToArray();
        var file = _p.Dir["report.html"];
        using (var live = new LiveReport(file, "b1", _p.Root, instances, new RecordingLog()))
        {
            live.Started(instances[0], "running", 1, []);
            Assert.Contains("http-equiv=\"refresh\"", File.ReadAllText(file));
        } // disposed without Complete, as when the engine throws
        var html = File.ReadAllText(file);
        Assert.DoesNotContain("http-equiv=\"refresh\"", html);
        Assert.Contains("data-state=\"done\"", html);
    }

    [Fact]
    public void AStormOfChanges_IsCoalesced_IntoAtMostOneWritePerInterval()
    {
        var instances = _p.Instances(KdGatGraph.Stages, "d1");
        var file = _p.Dir["report.html"];
        // An interval far longer than the test: every change after the first write waits for it, so they all coalesce.
        using var live = new LiveReport(file, "b1", _p.Root, instances, new RecordingLog(), minInterval: TimeSpan.FromHours(1));
        for (var round = 0; round < 20; round++)
            foreach (var i in instances)
            {
                live.Started(i, "running", round + 1, []);
                live.JobStarted(i, AttemptHandle.Process(round));
                live.Ended(new InstanceResult(i, Outcome.Failed, []) { Seconds = 1 });
            }
        live.Complete();
        Assert.InRange(live.Writes, 2, 3); // the first page, at most one write for all 780 changes, the final page
        Assert.Equal(instances.Count, Regex.Matches(File.ReadAllText(file), "data-state=\"failed\"><title>").Count);
    }
    /// <summary>A clock on which every look at the time costs <paramref name="perLook"/>: a render that looks twice "takes" two of them.</summary>
    private sealed class CostlyClock(TimerClock inner, TimeSpan perLook) : TimeProvider
    {
        private TimeSpan _spent;
        public override DateTimeOffset GetUtcNow() { lock (this) return inner.GetUtcNow() + (_spent += perLook); }
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => inner.CreateTimer(callback, state, dueTime, period);
    }

    [Fact]
    public async Task ASlowPage_WaitsRenderPauseTimesItsCost_BeforeTheNextWrite()
    {
        var instances = _p.Instances(KdGatGraph.Stages).Take(2).ToArray();
        var file = _p.Dir["report.html"];
        var timers = new TimerClock(DateTimeOffset.Parse("2026-12-02T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        // A write looks at the clock three times (start, the page's "updated", end): it takes at least 2 s here.
        using var live = new LiveReport(file, "b1", _p.Root, instances, new RecordingLog(), minInterval: TimeSpan.Zero, time: new CostlyClock(timers, TimeSpan.FromSeconds(1)));
        live.Started(instances[0], "running", 1, []);
        Eventually.Until(() => live.Writes == 2, TimeSpan.FromSeconds(30), "the loop writes the change");
        live.Ended(new InstanceResult(instances[0], Outcome.Ran, []) { Seconds = 1 });

        await timers.RunUntilAsync(TimeSpan.FromSeconds(60), () => live.Writes > 2);
        Assert.Equal(3, live.Writes);
        // Not at once (MinInterval is zero): after RenderPause times the 2 s or more the last write took
        // (more when this thread's looks at the clock fell inside that write).
        Assert.InRange(timers.Elapsed, TimeSpan.FromSeconds(2 * LiveReport.RenderPause), LiveReport.IdleRewrite);
        live.Complete();
        Assert.Equal("ran", NodeState(File.ReadAllText(file), instances[0].Key));
    }

    [Fact]
    public void ThePageOnDisk_IsTheRenderedPage_CharactersAcrossChunksIncluded()
    {
        var instances = _p.Instances(KdGatGraph.Stages);
        var file = _p.Dir["report.html"];
        var clock = new TimerClock(DateTimeOffset.Parse("2026-12-02T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var live = new LiveReport(file, "b1", _p.Root, instances, new RecordingLog(), time: clock);
        // Multi-byte characters everywhere (the page is encoded chunk by chunk: a pair split between chunks must survive).
        var k = 0;
        foreach (var i in instances)
            live.Ended(new InstanceResult(i, Outcome.Failed, []) { Error = string.Concat(Enumerable.Repeat($"é😀€ {k++} ", 40)), Seconds = 1 });
        live.Complete();
        var bytes = File.ReadAllBytes(file);
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(live.Render(live: false)), bytes);
        Assert.Contains("😀€", System.Text.Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void ASurrogatePairSplitBetweenChunks_IsEncodedWhole()
    {
        // 15 characters and the emoji's high surrogate fill the first 16-character chunk; its low surrogate starts the next.
        var page = new System.Text.StringBuilder(16).Append("0123456789abcde😀").Append(" é€");
        var chunks = new List<string>();
        foreach (var c in page.GetChunks()) chunks.Add(c.ToString());
        Assert.True(chunks.Count > 1 && char.IsHighSurrogate(chunks[0][^1]), "the pair is split between chunks");
        byte[] buffer = [];
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(page.ToString()), LiveReport.Utf8(page, ref buffer).ToArray());
    }
}
