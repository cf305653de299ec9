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
}
