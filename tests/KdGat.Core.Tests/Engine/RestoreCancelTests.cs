using System.Diagnostics;
using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Tests.Support;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// Ctrl+C while a cached result is restored into the run dir (GBs of checkpoints): the restore went on to its end.
/// Now it stops, and what it leaves is what a stopped run leaves: the previous result back, nothing taken as up to date.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RestoreCancelTests
{
    /// <summary>
    /// The cancel comes as a's restore begins: its previous result (v=2) is moved aside, then the first file of
    /// the entry (v=1) would be placed. The build stops there, a's v=2 result is back with no journal left (Status
    /// does not call it interrupted), Explain still restores it, and the next build restores exactly what a build
    /// from scratch makes.
    /// </summary>
    [Fact]
    public async Task ACancelDuringARestore_PutsThePreviousResultBack_AndTheNextBuildRestoresTheFromScratchBytes()
    {
        using var scratch = NewRoot(Yaml("1", cache: false));
        Assert.True((await BuildAsync(scratch)).Succeeded);
        using var d = NewRoot(Yaml("1", cache: true));
        Assert.True((await BuildAsync(d)).Succeeded);
        SetConfig(d, Yaml("2", cache: true));
        Assert.True((await BuildAsync(d)).Succeeded);
        var previous = Snapshot(d);
        SetConfig(d, Yaml("1", cache: true)); // a and b: in the store

        using var cts = new CancellationTokenSource();
        var log = new RecordingLog();
        var cancelled = await new BuildEngine(time: new CancelAsARestoreBegins(cts)).RunAsync(Request(d), log, cts.Token);

        Assert.Equal(Outcome.Cancelled, cancelled.Stages.Single(s => s.Stage == "a").Outcome); // was Restored: the cancel waited for it
        Assert.Equal(previous, Snapshot(d));
        Assert.False(File.Exists(d["runs/d1/.kdgat/a/attempt.json"]));
        Assert.Contains(log.Items, x => x.Code == ErrorCodes.StageCancelled && x.Message.Contains("cancelled while it was restored from cache"));

        var explain = await new BuildEngine().RunAsync(Request(d, BuildMode.Explain), new RecordingLog(), default);
        Assert.Equal(Outcome.WouldRestore, explain.Stages.Single(s => s.Stage == "a").Outcome);
        var next = await BuildAsync(d);
        Assert.Equal(["a", "b"], With(next, Outcome.Restored));
        Assert.Equal(Snapshot(scratch), Snapshot(d));
    }

    /// <summary>Cancels the build as an instance's restore from the cache begins (its first look at the build's clock).</summary>
    private sealed class CancelAsARestoreBegins(CancellationTokenSource cts) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow()
        {
            if (new StackTrace().GetFrames().Any(f => f.GetMethod()?.Name == "TryRestore")) cts.Cancel();
            return base.GetUtcNow();
        }
    }
}
