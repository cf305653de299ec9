using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.IO;
using KdGat.Core.Tests.Support;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// Ctrl+C while a cached result is restored into the run dir (GBs of checkpoints): the restore went on to its end.
/// Now it stops, and what it leaves is what a stopped run leaves (the previous result back, nothing taken as up to date) less what it placed.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RestoreCancelTests
{
    /// <summary>
    /// The cancel comes as a's restore begins (its previous result, v=2, is aside, the entry's v=1 model.ckpt about
    /// to be placed), after model.ckpt is placed (its cache folder next), or once all is placed and params.json
    /// written (the verify next). The build stops there, a's v=2 result is back with no journal left (Status does not
    /// call it interrupted), Explain still restores it, and the next build restores exactly what a build from scratch
    /// makes. What the restore placed is deleted, not kept in failed/: a part of what the entry holds, GBs of
    /// checkpoints that stayed there until the next attempt; failed/ keeps the outputs of the stage's last failed run.
    /// </summary>
    [Theory]
    [InlineData("link", "/runs/d1/a/model.ckpt")]
    [InlineData("link", "/cache/d1")]
    [InlineData("rename", "/runs/d1/a/params.json")]
    public async Task ACancelDuringARestore_PutsThePreviousResultBack_DiscardsWhatItPlaced_AndTheNextBuildRestoresTheFromScratchBytes(string op, string path)
    {
        using var scratch = NewRoot(Yaml("1", cache: false));
        Assert.True((await BuildAsync(scratch)).Succeeded);
        using var d = NewRoot(Yaml("1", cache: true));
        Assert.True((await BuildAsync(d)).Succeeded);
        SetConfig(d, Yaml("2", cache: true));
        Assert.True((await BuildAsync(d)).Succeeded);
        var previous = Snapshot(d);
        var lastFailed = d.Write("runs/d1/.kdgat/a/failed/model.ckpt", "the last failed run's\n");
        SetConfig(d, Yaml("1", cache: true)); // a and b: in the store

        var log = new RecordingLog();
        var cancelled = await CancelledAtAsync(d, op, path, log);

        Assert.Equal(Outcome.Cancelled, cancelled.Stages.Single(s => s.Stage == "a").Outcome); // was Restored: the cancel waited for it
        Assert.Equal(previous, Snapshot(d));
        Assert.False(File.Exists(d["runs/d1/.kdgat/a/attempt.json"]));
        Assert.Contains(log.Items, x => x.Code == ErrorCodes.StageCancelled && x.Message.Contains("cancelled while it was restored from cache"));
        Assert.Equal([lastFailed], Directory.EnumerateFileSystemEntries(d["runs/d1/.kdgat/a/failed"], "*", SearchOption.AllDirectories));
        Assert.Equal("the last failed run's\n", File.ReadAllText(lastFailed));

        var explain = await new BuildEngine().RunAsync(Request(d, BuildMode.Explain), new RecordingLog(), default);
        Assert.Equal(Outcome.WouldRestore, explain.Stages.Single(s => s.Stage == "a").Outcome);
        var next = await BuildAsync(d);
        Assert.Equal(["a", "b"], With(next, Outcome.Restored));
        Assert.Equal(Snapshot(scratch), Snapshot(d));
    }

    /// <summary>
    /// A build of <paramref name="d"/> whose token is cancelled just before a's restore does <paramref name="op"/> on the
    /// path ending in <paramref name="path"/> (the first such after the restore's first link): found in the numbered
    /// operations of the same build of a copy (<see cref="CrashPoints"/>).
    /// </summary>
    private static async Task<BuildReport> CancelledAtAsync(TempDir d, string op, string path, RecordingLog log)
    {
        var ops = await OperationsAsync(d, File.ReadAllText(d["kdgat.yaml"]));
        var restoreBegins = ops.FindIndex(o => o.Contains(" link ", StringComparison.Ordinal) && o.EndsWith("/runs/d1/a/model.ckpt", StringComparison.Ordinal));
        var at = ops.FindIndex(Math.Max(restoreBegins, 0), o => o.Contains($" {op} ", StringComparison.Ordinal) && o.EndsWith(path, StringComparison.Ordinal)) + 1;
        Assert.True(restoreBegins >= 0 && at > 0, $"no {op} of {path} in a's restore:\n{string.Join('\n', ops)}");

        using var cts = new CancellationTokenSource();
        CrashPoints.Current = new CrashPoints.Plan(at, cts); // flows into this build's tasks only
        try
        {
            return await new BuildEngine().RunAsync(Request(d), log, cts.Token);
        }
        finally
        {
            CrashPoints.Current = null;
        }
    }
}
