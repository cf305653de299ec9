using System.Text.Json.Nodes;
using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Execution;
using KdGat.Core.IO;
using KdGat.Core.Pipeline;
using KdGat.Core.Tracking;
using KdGat.Core.Tests.Support;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Tracking;

/// <summary>
/// Status of an attempt a crash interrupted says what the next build's recovery does with the previous
/// result: puts it back, or, for an older KdGat's journal that cannot be mapped to today's outputs list,
/// keeps it under unrecovered/, or, for an attempt that had committed, keeps the attempt's result (Status said
/// "puts the previous result back" for both). Explain says the same of it.
/// </summary>
[Trait("Category", "Unit")]
public sealed class TrackerStatusInterruptedTests : IDisposable
{
    private readonly TempDir _d = NewRoot(Yaml("1", cache: false));
    public void Dispose() => _d.Dispose();

    private StageInstance A() => LoadedPipeline.Load(Request(_d)).Instances.Single(i => i.Name == "a");

    /// <summary>
    /// a built, then an attempt on it that wrote a partial model.ckpt and whose build died (kill -9), with the
    /// journal an older KdGat writes (no output paths); <paramref name="copied"/>: the journal came with a copy of the tree.
    /// </summary>
    private async Task<OutputGuard> CrashedOldFormatAttemptAsync(bool copied)
    {
        Assert.True((await BuildAsync(_d)).Succeeded);
        var a = A();
        var guard = new OutputGuard(a);
        guard.Begin("t-a-2", "t2-d1-a-2", "t2");
        guard.Started(AttemptHandle.Process(999999999), "t2-d1-a-2", "t2");
        File.WriteAllText(Path.Combine(a.RunDir, "model.ckpt"), "partial");
        OfADeadBuild(Path.Combine(guard.StateDir, "attempt.json"), copied, oldFormat: true);
        return guard;
    }

    /// <summary>The build's journal made to look as one a dead build left (kill -9), and, <paramref name="copied"/>, one that came with a copy of the tree.</summary>
    private static void OfADeadBuild(string journal, bool copied, bool oldFormat = false)
    {
        var json = JsonNode.Parse(File.ReadAllText(journal))!.AsObject();
        if (oldFormat) json.Remove("Outputs");
        json["BuildPid"] = int.MaxValue; // no such process
        json.Remove("BuildStartTicks");
        if (copied) (json["StateDirInode"], json["StateDirPath"]) = (1, "/elsewhere/.kdgat/d1/a");
        File.WriteAllText(journal, json.ToJsonString());
    }

    private async Task<StatusRow> StatusOfA()
    {
        using var tracker = Tracker.Open(Request(_d), new RecordingLog(), _d[".kdgat/index.db"]);
        return (await tracker.StatusAsync()).Single(r => r.Stage == "a");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OldFormatJournal_OutputsReordered_SaysThePreviousResultIsKeptUnderUnrecovered_WhereTheBuildPutsIt(bool copied)
    {
        var guard = await CrashedOldFormatAttemptAsync(copied);
        SetConfig(_d, Yaml("1", cache: false).Replace("outputs: [model.ckpt, '{cache_dir}']", "outputs: ['{cache_dir}', model.ckpt]", StringComparison.Ordinal));

        var a = await StatusOfA();

        Assert.Equal(StatusRow.Interrupted, a.State);
        Assert.DoesNotContain("puts the previous result back", a.Detail);
        var kept = PathText.ToStored(_d.Path, Path.Combine(guard.StateDir, "unrecovered", "t-a-2"));
        Assert.Contains($"keeps the previous result in {kept} instead of putting it back", a.Detail);
        Assert.Contains("the stage runs again", a.Detail);
        // Explain says the same, not "no manifest (never run, or cleaned)" (a review).
        var explain = (await new BuildEngine().RunAsync(Request(_d, BuildMode.Explain), new RecordingLog(), CancellationToken.None)).Stages.Single(r => r.Stage == "a");
        Assert.Equal(Outcome.WouldRun, explain.Outcome);
        Assert.Equal(["unrecovered"], explain.ReasonKinds);
        Assert.Contains($"keeps the previous result in {kept} instead of putting it back", Assert.Single(explain.Reasons));

        Assert.True((await BuildAsync(_d)).Succeeded);
        Assert.StartsWith("a 1", File.ReadAllText(Path.Combine(_d.Path, kept, "output0"))); // where Status said: the previous model.ckpt
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task OldFormatJournal_OutputsUnchanged_SaysThePreviousResultIsPutBack(bool copied)
    {
        var guard = await CrashedOldFormatAttemptAsync(copied);

        var a = await StatusOfA();

        Assert.Equal(StatusRow.Interrupted, a.State);
        Assert.Contains("puts the previous result back and decides the stage again", a.Detail);
        Assert.DoesNotContain("unrecovered", a.Detail);

        var build = await BuildAsync(_d);
        Assert.True(build.Succeeded);
        Assert.Equal(["a", "b"], With(build, Outcome.UpToDate));
        Assert.False(Directory.Exists(Path.Combine(guard.StateDir, "unrecovered")));
    }

    /// <summary>
    /// A journal Status cannot read (torn JSON, something else at its path) gave no "interrupted" row: a was shown as
    /// stale "never run" while the next build recovered it first. The row says what that build does, and it does it.
    /// </summary>
    [Theory]
    [InlineData("{ torn")]
    [InlineData("")]
    [InlineData(null)] // a directory at the journal's path
    public async Task UnreadableJournal_IsAnInterruptedRow_SayingWhatTheNextBuildDoes(string? journalText)
    {
        var guard = await CrashedOldFormatAttemptAsync(copied: false);
        var journal = Path.Combine(guard.StateDir, "attempt.json");
        File.Delete(journal);
        if (journalText is null) Directory.CreateDirectory(journal);
        else File.WriteAllText(journal, journalText);

        var a = await StatusOfA();

        Assert.Equal(StatusRow.Interrupted, a.State);
        Assert.Contains($"its journal {PathText.ToStored(_d.Path, journal)} is damaged", a.Detail);
        Assert.Contains("the next build puts back what of the previous result was moved aside", a.Detail);
        var build = await BuildAsync(_d);
        Assert.True(build.Succeeded);
        Assert.Equal(["a", "b"], With(build, Outcome.UpToDate)); // as Status said: the previous result put back
        Assert.StartsWith("a 1", File.ReadAllText(Path.Combine(A().RunDir, "model.ckpt")));
    }

    /// <summary>
    /// A build killed after a's attempt committed (manifest and run record written) and before its journal went: the next
    /// build keeps that result (rolls forward), so Status shows it up to date, not "interrupted ... puts the previous result back".
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task JournalOfACommittedAttempt_IsTheResultItCommitted_NotAPutBack(bool copied)
    {
        Assert.True((await BuildAsync(_d)).Succeeded);
        var ops = await OperationsAsync(_d, Yaml("2", cache: false));
        SetConfig(_d, Yaml("2", cache: false));
        var commitA = CommitOperation(ops, "a");
        await Assert.ThrowsAsync<SimulatedCrashException>(() => BuildAsync(_d, new CrashPoints.Plan(commitA + 1, CrashPoints.Mode.Crash)));
        var journal = Path.Combine(new OutputGuard(A()).StateDir, "attempt.json");
        Assert.True(File.Exists(journal), ops[commitA]);
        OfADeadBuild(journal, copied);

        var a = await StatusOfA();

        Assert.Equal(StatusRow.UpToDate, a.State);
        Assert.DoesNotContain("puts the previous result back", a.Detail);
        var build = await BuildAsync(_d);
        Assert.Contains("a", With(build, Outcome.UpToDate)); // as Status said: the committed result kept
        Assert.StartsWith("a 2", File.ReadAllText(Path.Combine(A().RunDir, "model.ckpt")));
    }
}
