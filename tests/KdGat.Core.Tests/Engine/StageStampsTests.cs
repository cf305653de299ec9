using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Engine;

/// <summary>The plan behind the stage targets' Inputs/Outputs (BuildEngine.PlanAsync, StageStamps), without MSBuild.</summary>
[Trait("Category", "Unit")]
public sealed class StageStampsTests : IDisposable
{
    private readonly TestPipeline _p = new(KdGatGraph.Yaml(), "d1");
    public void Dispose() => _p.Dispose();

    private Task<IReadOnlyList<StageStamps.Entry>> Plan() => new BuildEngine().PlanAsync(_p.Request(KdGatGraph.Stages), GraphSources.None, new RecordingLog(), default);

    [Fact]
    public async Task MarkerExistsOnlyForUpToDateInstances_AndAnUnchangedFingerprintKeepsItsStamp()
    {
        var never = await Plan();
        Assert.Equal(13, never.Count);
        Assert.All(never, e => Assert.False(e.Current || File.Exists(e.Marker), e.ToString())); // nothing built: no marker

        await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages), new RecordingLog(), default);
        var built = await Plan();
        Assert.All(built, e => Assert.True(e.Current && File.Exists(e.Marker) && File.GetLastWriteTimeUtc(e.Marker) >= File.GetLastWriteTimeUtc(e.Stamp), e.ToString()));

        // Stamps set back in time stay as they are when the fingerprint did not change (WriteOnlyWhenDifferent).
        var old = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        foreach (var e in built) File.SetLastWriteTimeUtc(e.Stamp, old);
        var again = await Plan();
        Assert.All(again, e => Assert.Equal(old, File.GetLastWriteTimeUtc(e.Stamp)));

        // A changed parameter: its subtree loses its markers (whatever their times) and their stamps change.
        foreach (var e in again) File.SetLastWriteTimeUtc(e.Marker, DateTime.UtcNow.AddDays(3));
        _p.WriteConfig(KdGatGraph.Yaml(new Dictionary<string, string> { ["gat_large_curriculum"] = "2" }));
        var changed = await Plan();
        var stale = changed.Where(e => !e.Current).Select(e => e.Stage).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["dqn_large_fusion", "dqn_small_fusion_kd", "eval_large_evaluation", "eval_small_evaluation_kd", "gat_large_curriculum", "gat_small_curriculum_kd"], stale);
        Assert.All(changed.Where(e => !e.Current), e => Assert.False(File.Exists(e.Marker), e.Stage));
        Assert.All(changed.Where(e => e.Current), e => Assert.True(File.Exists(e.Marker), e.Stage));
        Assert.NotEqual(old, File.GetLastWriteTimeUtc(changed.Single(e => e.Stage == "gat_large_curriculum").Stamp));
    }

    /// <summary>The plan task shows no decision table (the build task does): at 7,800 instances formatting it cost ~40 ms for nothing.</summary>
    [Fact]
    public async Task ThePlanFormatsNoDecisionTable_ExplainDoes()
    {
        var plan = new RecordingLog();
        await new BuildEngine().PlanAsync(_p.Request(KdGatGraph.Stages), GraphSources.None, plan, default);
        var explain = new RecordingLog();
        await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages) with { Mode = BuildMode.Explain }, explain, default);
        // A row names its instance first ("d1/preprocess  would-run  never run"); the summary line starts with "KdGat:".
        static int TableRows(RecordingLog log) => log.Items.Count(d => d.Message.TrimStart().StartsWith("d1/", StringComparison.Ordinal));
        Assert.Equal(0, TableRows(plan));
        Assert.Equal(13, TableRows(explain));
    }

    [Fact]
    public async Task ASweptStageIsOneTarget_CurrentOnlyWhenEveryGridPointIs()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            stages:
              a: { command: 'echo {seed} > out.txt', outputs: [out.txt], params: { seed: 0 }, sweep: { seed: [0, 1, 2] } }
            """, "d1");
        IReadOnlyList<KdGat.Core.Pipeline.StageDeclaration> stages = [new("a", [])];
        await new BuildEngine().RunAsync(p.Request(stages), new RecordingLog(), default);
        var built = Assert.Single(await new BuildEngine().PlanAsync(p.Request(stages), GraphSources.None, new RecordingLog(), default));
        Assert.True(built.Current && File.Exists(built.Marker));

        // One grid point's output edited: the other two are up to date, but the stage target must run.
        File.WriteAllText(p.Dir["runs/d1/a/seed=1/out.txt"], "edited\n");
        var edited = Assert.Single(await new BuildEngine().PlanAsync(p.Request(stages), GraphSources.None, new RecordingLog(), default));
        Assert.False(edited.Current);
        Assert.False(File.Exists(edited.Marker));
        Assert.Contains(edited.Reasons, r => r.StartsWith("seed=1: output modified", StringComparison.Ordinal));
    }

    /// <summary>
    /// A stamp that is not a small regular file is written anew: a FIFO there hung the build in its
    /// open, a link to /dev/zero took 4 GB (found by review). A hang fails the generous wait, not a timing assertion.
    /// </summary>
    [Fact]
    public async Task AFifoAsTheStamp_IsReplaced_WithoutBlocking()
    {
        await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages), new RecordingLog(), default);
        var stamp = (await Plan())[0].Stamp;
        File.Delete(stamp);
        Assert.Equal(0, Sh.Run($"mkfifo '{stamp}'", _p.Root).ExitCode);

        var plan = await Task.Run(Plan).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.All(plan, e => Assert.True(e.Current, e.ToString()));
        Assert.True(File.Exists(stamp) && new FileInfo(stamp).Length > 0);
        Assert.Equal(KdGat.Core.Hashing.PathKind.File, KdGat.Core.Hashing.PathStat.Of(stamp).Kind);
    }

    /// <summary>Runs the plan under a crash plan that fails the first operation whose line contains all of <paramref name="parts"/>.</summary>
    private async Task<(IReadOnlyList<StageStamps.Entry>? Plan, Exception? Error)> PlanFailing(Action arrange, params string[] parts)
    {
        arrange();
        var probe = new KdGat.Core.IO.CrashPoints.Plan(int.MaxValue, KdGat.Core.IO.CrashPoints.Mode.Fail);
        await Task.Run(async () => { KdGat.Core.IO.CrashPoints.Current = probe; await Plan(); });
        var at = probe.Seen.FindIndex(op => parts.All(op.Contains));
        Assert.True(at >= 0, $"no operation with {string.Join(", ", parts)}:\n{string.Join("\n", probe.Seen)}");
        arrange();
        var plan = new KdGat.Core.IO.CrashPoints.Plan(at + 1, KdGat.Core.IO.CrashPoints.Mode.Fail);
        return await Task.Run(async () =>
        {
            KdGat.Core.IO.CrashPoints.Current = plan;
            try { return ((IReadOnlyList<StageStamps.Entry>?)await Plan(), (Exception?)null); }
            catch (Exception e) { return (null, e); }
        });
    }

    private string[] StampDirEntries(string stamp) =>
        Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(stamp)!).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    /// <summary>
    /// A marker whose write fails (a full disk, a quota the server reports at close): File.WriteAllText left a
    /// 0-byte marker and stopped the build with KDG1230 (a review). Now no marker, no temp file, no error:
    /// MSBuild runs the target, whose content check finds it up to date.
    /// </summary>
    [Fact]
    public async Task AMarkerThatCannotBeWritten_IsLeftOut_WithNoError()
    {
        await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages), new RecordingLog(), default);
        var entries = await Plan();
        var marker = entries.Single(e => e.Stage == "preprocess").Marker;
        void NoMarkers() { foreach (var e in entries) File.Delete(e.Marker); }

        var (plan, error) = await PlanFailing(NoMarkers, "close", "/.preprocess.current.");

        Assert.Null(error);
        Assert.All(plan!, e => Assert.True(e.Current, e.ToString()));
        Assert.False(File.Exists(marker));
        Assert.DoesNotContain(StampDirEntries(marker), n => n.EndsWith(".tmp", StringComparison.Ordinal) || n == "preprocess.current");
        Assert.Contains("gat_large_curriculum.current", StampDirEntries(marker)); // the others are written
        await Plan();
        Assert.True(File.Exists(marker)); // the next plan writes it
    }

    /// <summary>A stamp whose write fails is KDG1230 and leaves the old stamp and no temp file: "fingerprints.{guid}.tmp" stayed behind (a review).</summary>
    [Fact]
    public async Task AStampThatCannotBeWritten_IsKdg1230_AndLeavesNoTempFile()
    {
        await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages), new RecordingLog(), default);
        var stamp = (await Plan())[0].Stamp;
        var good = File.ReadAllText(stamp);
        void Changed() => File.WriteAllText(stamp, "preprocess\tsomething else\n");

        var (_, error) = await PlanFailing(Changed, "close", "/.fingerprints.");

        Assert.Equal(ErrorCodes.StampsUnwritable, Assert.IsType<KdgException>(error).Code);
        Assert.Equal("preprocess\tsomething else\n", File.ReadAllText(stamp));
        Assert.DoesNotContain(StampDirEntries(stamp), n => n.EndsWith(".tmp", StringComparison.Ordinal));
    }

    /// <summary>A "fingerprints.{guid}.tmp" an older build left on a failed write is deleted at the stamp's next write, and never read.</summary>
    [Fact]
    public async Task ATempFileAnOlderBuildLeft_IsDeleted_AndNeverRead()
    {
        await new BuildEngine().RunAsync(_p.Request(KdGatGraph.Stages), new RecordingLog(), default);
        var stamp = (await Plan())[0].Stamp;
        var good = File.ReadAllText(stamp);
        File.WriteAllText(stamp, "preprocess\tsomething else\n");

        var left = Path.Combine(Path.GetDirectoryName(stamp)!, $"fingerprints.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(left, "preprocess\tcut");
        var plan = await Plan();
        Assert.All(plan, e => Assert.True(e.Current && File.Exists(e.Marker), e.ToString()));
        Assert.Equal(good, File.ReadAllText(stamp));
        Assert.False(File.Exists(left));
    }
}
