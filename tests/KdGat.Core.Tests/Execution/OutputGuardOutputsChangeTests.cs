using System.Text.Json;
using System.Text.Json.Nodes;
using KdGat.Core.Execution;
using KdGat.Core.Hashing;
using KdGat.Core.IO;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Execution;

/// <summary>
/// Recovery after the stage's <c>outputs</c> list changed between the crash and the next build:
/// every previous output goes back under its own name (the journal records where each came from).
/// </summary>
[Trait("Category", "Unit")]
public sealed class OutputGuardOutputsChangeTests : IDisposable
{
    private readonly TestPipeline _p = new(Config("[a.txt, b.txt]"));
    private static readonly IReadOnlyDictionary<string, string> NoUpstream = new Dictionary<string, string>();

    public void Dispose() => _p.Dispose();

    private static string Config(string outputs) => $"""
        datasets: [d1]
        paths:
          runs: runs
        stages:
          a:
            command: x
            outputs: {outputs}
        """;

    private StageInstance Instance() => _p.Instances([new("a", [])]).Single();

    /// <summary>The stage as the next build sees it, after the user edited its outputs list.</summary>
    private StageInstance Reconfigured(string outputs)
    {
        _p.WriteConfig(Config(outputs));
        return Instance();
    }

    private static Fingerprinter Fp() => new(new PathHasher(new HashCache()));

    private string A(StageInstance s) => Path.Combine(s.RunDir, "a.txt");
    private string B(StageInstance s) => Path.Combine(s.RunDir, "b.txt");

    private void GoodResult(StageInstance s, string version)
    {
        Directory.CreateDirectory(s.RunDir);
        File.WriteAllText(A(s), "A" + version);
        File.WriteAllText(B(s), "B" + version);
        Commit(s, version);
    }

    /// <summary>The manifest a successful build of what is in the run dir now writes.</summary>
    private static void Commit(StageInstance s, string buildId)
    {
        var c = Fp().Compute(s, NoUpstream);
        var (present, _) = Fp().HashOutputs(s);
        ManifestStore.Write(s.ManifestPath, new StageManifest
        {
            Stage = "a", Dataset = "d1", Fingerprint = c.Digest(), Components = c,
            Outputs = present, OutputsDigest = Fingerprinter.OutputsDigest(present, null), BuildId = buildId, Executor = "test",
        });
    }

    /// <summary>Version 1 committed, then an attempt that wrote partial outputs and died (kill -9: no Abort).</summary>
    private OutputGuard CrashedAttempt(StageInstance s)
    {
        GoodResult(s, "1");
        var crashed = new OutputGuard(s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2");
        crashed.Started(AttemptHandle.Process(999999999), "b2-d1-a-1", "b2");
        File.WriteAllText(A(s), "A2-partial");
        File.WriteAllText(B(s), "B2-partial");
        return crashed;
    }

    private string JournalPath(OutputGuard g) => Path.Combine(g.StateDir, "attempt.json");

    /// <summary>The journal as an older KdGat wrote it: no output paths.</summary>
    private void MakeOldFormat(OutputGuard g)
    {
        var json = JsonNode.Parse(File.ReadAllText(JournalPath(g)))!.AsObject();
        json.Remove("Outputs");
        File.WriteAllText(JournalPath(g), json.ToJsonString());
    }

    [Fact]
    public async Task Recover_OutputsReorderedAfterCrash_PutsEachPreviousOutputBackUnderItsOwnName()
    {
        var s = Instance();
        var crashed = CrashedAttempt(s);

        var now = Reconfigured("[b.txt, a.txt]");
        var view = new OutputGuard(now).PendingRecoveryView()!.Value;
        Assert.Equal("B1", File.ReadAllText(view.Outputs[0])); // Explain reads what recovery will leave
        Assert.Equal("A1", File.ReadAllText(view.Outputs[1]));
        await new OutputGuard(now).RecoverIfNeededAsync();

        Assert.Equal("A1", File.ReadAllText(A(now)));
        Assert.Equal("B1", File.ReadAllText(B(now)));
        Assert.Equal("A2-partial", File.ReadAllText(Path.Combine(crashed.FailedDir, "0-a.txt")));
        Assert.Equal("B2-partial", File.ReadAllText(Path.Combine(crashed.FailedDir, "1-b.txt")));
    }

    [Fact]
    public async Task Recover_CrashWhileMovingAside_ThenReordered_LosesNothing()
    {
        var s = Instance();
        GoodResult(s, "1");
        var guard = new OutputGuard(s);
        var plan = new CrashPoints.Plan(9, CrashPoints.Mode.Crash); // generation and journal (write, close, rename each), manifest and a.txt moved; crash moving b.txt
        CrashPoints.Current = plan;
        try { Assert.Throws<SimulatedCrashException>(() => guard.Begin("b2-1", "b2-d1-a-1", "b2")); }
        finally { CrashPoints.Current = null; }
        Assert.Contains("rename " + B(s), plan.Seen[^1]);

        var now = Reconfigured("[b.txt, a.txt]");
        await new OutputGuard(now).RecoverIfNeededAsync();

        Assert.Equal("A1", File.ReadAllText(A(now)));
        Assert.Equal("B1", File.ReadAllText(B(now)));
        Assert.True(new Planner(Fp()).Check(now, NoUpstream).UpToDate);
    }

    [Fact]
    public async Task Recover_OutputRemovedAfterCrash_PutsItsPreviousVersionBackWhereItWas()
    {
        var s = Instance();
        var crashed = CrashedAttempt(s);

        var now = Reconfigured("[a.txt]");
        await new OutputGuard(now).RecoverIfNeededAsync();

        Assert.Equal("A1", File.ReadAllText(A(now)));
        Assert.Equal("B1", File.ReadAllText(B(now))); // not deleted with aside/
        Assert.False(Directory.Exists(Path.Combine(crashed.StateDir, "aside")));
    }

    [Fact]
    public async Task Recover_OldFormatJournal_SameOutputs_RestoresByPosition()
    {
        var s = Instance();
        var crashed = CrashedAttempt(s);
        MakeOldFormat(crashed);

        await new OutputGuard(Instance()).RecoverIfNeededAsync();

        Assert.Equal("A1", File.ReadAllText(A(s)));
        Assert.Equal("B1", File.ReadAllText(B(s)));
        Assert.True(new Planner(Fp()).Check(s, NoUpstream).UpToDate);
    }

    /// <summary>
    /// An older KdGat's journal (no output paths), then the same outputs reordered (a review): by position,
    /// a.txt's previous version went back as b.txt and b.txt's as a.txt. The previous manifest aside lists
    /// them in the order they were saved, so the reorder is seen and the result kept under unrecovered/.
    /// </summary>
    [Fact]
    public async Task Recover_OldFormatJournal_OutputsReordered_KeepsThePreviousResultUnderUnrecovered()
    {
        var s = Instance();
        var crashed = CrashedAttempt(s);
        MakeOldFormat(crashed);

        var now = Reconfigured("[b.txt, a.txt]");
        Assert.EndsWith("(none)", new OutputGuard(now).PendingRecoveryView()!.Value.ManifestPath); // Explain: no previous manifest stays
        var message = await new OutputGuard(now).RecoverIfNeededAsync();

        Assert.Contains("unrecovered", message);
        var kept = Path.Combine(crashed.StateDir, "unrecovered", "b2-1");
        Assert.Equal("A1", File.ReadAllText(Path.Combine(kept, "output0")));
        Assert.Equal("B1", File.ReadAllText(Path.Combine(kept, "output1")));
        Assert.NotEqual("B1", File.Exists(A(now)) ? File.ReadAllText(A(now)) : null); // nothing under the other's name
        Assert.False(new Planner(Fp()).Check(now, NoUpstream).UpToDate);
    }

    /// <summary>
    /// The same list, an optional output absent at the previous commit (its manifest lists only the
    /// outputs present, so its rows are not the declared positions): by position is right, and the
    /// previous result goes back (a diff review: the reorder check compared output2 with a third row
    /// that was never there, and sent a good result to unrecovered/ and a rerun).
    /// </summary>
    [Fact]
    public async Task Recover_OldFormatJournal_AnOptionalOutputAbsentBefore_PutsThePreviousResultBack()
    {
        _p.WriteConfig("""
            datasets: [d1]
            paths:
              runs: runs
            stages:
              a:
                command: x
                outputs: [b.txt]
                optional_outputs: [a.txt, c.txt]
            """);
        var s = Instance();
        string P(string n) => Path.Combine(s.RunDir, n);
        Directory.CreateDirectory(s.RunDir);
        File.WriteAllText(P("b.txt"), "B1");
        File.WriteAllText(P("c.txt"), "C1"); // a.txt, declared between them, absent
        Commit(s, "1");
        Assert.True(new Planner(Fp()).Check(s, NoUpstream).UpToDate);
        var crashed = new OutputGuard(s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2");
        crashed.Started(AttemptHandle.Process(999999999), "b2-d1-a-1", "b2");
        File.WriteAllText(P("b.txt"), "B2-partial");
        MakeOldFormat(crashed);

        var message = await new OutputGuard(s).RecoverIfNeededAsync();

        Assert.DoesNotContain("unrecovered", message ?? "");
        Assert.Equal("B1", File.ReadAllText(P("b.txt")));
        Assert.Equal("C1", File.ReadAllText(P("c.txt")));
        Assert.True(new Planner(Fp()).Check(s, NoUpstream).UpToDate);
    }

    [Fact]
    public async Task Recover_OldFormatJournal_OutputRemoved_KeepsThePreviousResultUnderUnrecovered()
    {
        var s = Instance();
        var crashed = CrashedAttempt(s);
        MakeOldFormat(crashed);

        var now = Reconfigured("[a.txt]");
        Assert.False(new OutputGuard(now).PendingRecoveryView()!.Value.ManifestPath == now.ManifestPath);
        var message = await new OutputGuard(now).RecoverIfNeededAsync();

        Assert.Contains("unrecovered", message);
        var kept = Path.Combine(crashed.StateDir, "unrecovered", "b2-1");
        Assert.Equal("A1", File.ReadAllText(Path.Combine(kept, "output0")));
        Assert.Equal("B1", File.ReadAllText(Path.Combine(kept, "output1")));
        Assert.False(File.Exists(Path.Combine(crashed.StateDir, "attempt.json")));
        Assert.False(new Planner(Fp()).Check(now, NoUpstream).UpToDate); // the stage runs again
        Assert.Null(await new OutputGuard(now).RecoverIfNeededAsync());
    }
}
