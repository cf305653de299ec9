using KdGat.Core.Diagnostics;
using KdGat.Core.IO;
using KdGat.Core.Engine;
using KdGat.Core.Tests.Support;
using Xunit.Abstractions;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// The attempt protocol under a crash (or a file error) at every file operation of a build, with
/// the output cache off afterwards so that nothing can hide a lost result: the run path (v1 built,
/// then a v2 build crashes), the restore-from-cache path (v2 live, a v1 build restoring from the
/// store crashes), and recovery itself interrupted at each of its operations. After each crash,
/// a build of the previous configuration must find every stage whose new attempt had not
/// committed up to date (its good result kept) and the committed ones run; a build of the new
/// configuration must end byte-identical to a from-scratch reference.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class CrashSweepTests : IDisposable
{
    private readonly ITestOutputHelper _out;
    private readonly List<TempDir> _dirs = [];
    public CrashSweepTests(ITestOutputHelper output) => _out = output;
    public void Dispose() { foreach (var d in _dirs) d.Dispose(); }

    private TempDir Keep(TempDir d) { _dirs.Add(d); return d; }

    /// <summary>Built with v1 (and, with <paramref name="cache"/>, the store holding v1), plus the reference snapshots of v1 and v2.</summary>
    private async Task<(TempDir V1, SortedDictionary<string, string> R1, SortedDictionary<string, string> R2)> PrepareAsync(bool cache)
    {
        var v1 = Keep(NewRoot(Yaml("1", cache)));
        Assert.True((await BuildAsync(v1)).Succeeded);
        using var v2 = Copy(v1);
        SetConfig(v2, Yaml("2", cache: false));
        Assert.True((await BuildAsync(v2)).Succeeded);
        return (v1, Snapshot(v1), Snapshot(v2));
    }

    /// <summary>
    /// After a crash in a build from <paramref name="before"/> to config <paramref name="crashYaml"/>,
    /// both follow-ups (cache off): back to the previous config keeps what had not committed;
    /// on to the new config ends equal to its reference.
    /// </summary>
    private async Task SweepAsync(string name, TempDir before, string crashYaml, string previousV, SortedDictionary<string, string> previous,
        string newV, SortedDictionary<string, string> reference, CrashPoints.Mode mode)
    {
        var ops = await OperationsAsync(before, crashYaml);
        var commitA = CommitOperation(ops, "a");
        var commitB = CommitOperation(ops, "b");
        Assert.True(commitA > 0 && commitB > commitA, string.Join("\n", ops));
        for (var n = 1; n <= ops.Count; n++)
        {
            foreach (var (followV, expected) in new[] { (previousV, previous), (newV, reference) })
            {
                using var d = Copy(before);
                SetConfig(d, crashYaml);
                BuildReport? failed = null;
                try { failed = await BuildAsync(d, new CrashPoints.Plan(n, mode)); }
                catch (SimulatedCrashException) { }
                var at = $"{name}: {mode} at operation {ops[n - 1]}, then a build with v={followV}";
                if (failed is not null)
                {
                    // A build that went on after a file error put back, before it ended, the previous result of every
                    // stage it did not bring up to date: nothing waits for the next build to recover it (a crash-injection review).
                    var now = Snapshot(d);
                    foreach (var stage in failed.Stages.Where(s => s.Outcome is not (Outcome.Ran or Outcome.Restored)).Select(s => $"runs/d1/{s.Stage}/"))
                        Assert.True(previous.Where(f => f.Key.StartsWith(stage, StringComparison.Ordinal)).SequenceEqual(now.Where(f => f.Key.StartsWith(stage, StringComparison.Ordinal))),
                            $"{name}: {mode} at operation {ops[n - 1]}: {stage} is not its previous result when that build ended\nexpected {string.Join(", ", previous.Keys)}\nfound {string.Join(", ", now.Keys)}");
                }

                SetConfig(d, Yaml(followV, cache: false));
                var log = new RecordingLog();
                var r = await BuildAsync(d, log: log);
                var why = $"{at}:\n{string.Join("\n", log.Items.Select(i => $"{i.Code} {i.Message}"))}\n{string.Join("\n", r.Stages.Select(s => $"{s.Stage} {s.Outcome} {string.Join("; ", s.Reasons)}"))}";
                Assert.True(r.Succeeded, why);
                Assert.True(expected.SequenceEqual(Snapshot(d)), $"{why}\nexpected {string.Join(", ", expected)}\nfound {string.Join(", ", Snapshot(d))}");
                if (followV == previousV)
                {
                    // A stage whose new attempt had not committed (crashed before its record, or reported
                    // as not done by a build that went on after a file error) keeps its good result: up to date, not rerun.
                    string[] keptStages = failed is null
                        ? [.. new[] { ("a", commitA), ("b", commitB) }.Where(x => n <= x.Item2).Select(x => x.Item1)]
                        : [.. failed.Stages.Where(s => s.Outcome is not (Outcome.Ran or Outcome.Restored)).Select(s => s.Stage)];
                    Assert.True(keptStages.All(k => CrashLab.With(r, Outcome.UpToDate).Contains(k)), why);
                }
            }
        }
        _out.WriteLine($"{name}: {mode} at each of {ops.Count} operations, two follow-ups each");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunPath_CrashOrFileErrorAtEveryOperation_LosesNoGoodResult(bool fileError)
    {
        var mode = fileError ? CrashPoints.Mode.Fail : CrashPoints.Mode.Crash;
        var (v1, r1, r2) = await PrepareAsync(cache: false);
        await SweepAsync("run path", v1, Yaml("2", cache: false), "1", r1, "2", r2, mode);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RestoreFromCachePath_CrashOrFileErrorAtEveryOperation_LosesNoGoodResult(bool fileError)
    {
        var mode = fileError ? CrashPoints.Mode.Fail : CrashPoints.Mode.Crash;
        // v1 and v2 are both in the store, v2 is live; a v1 build restores a and b from the store.
        var (v1, r1, r2) = await PrepareAsync(cache: true);
        var v2 = Keep(Copy(v1));
        SetConfig(v2, Yaml("2", cache: true));
        Assert.True((await BuildAsync(v2)).Succeeded);
        var ops = await OperationsAsync(v2, Yaml("1", cache: true));
        Assert.Contains(ops, o => o.Contains(" link ", StringComparison.Ordinal));
        await SweepAsync("restore path", v2, Yaml("1", cache: true), "2", r2, "1", r1, mode);
    }

    /// <summary>
    /// A file error placing a cache entry (a full disk in the run dir, here the first hard link of
    /// the restore) says nothing against the entry: it is kept (KDG2009) and the stage runs. It was
    /// evicted as damaged (KDG2004), so one user's full disk cost every clone sharing the store its
    /// good entries (found by review).
    /// </summary>
    [Fact]
    public async Task RestoreFromCache_AFileErrorPlacingTheEntry_KeepsTheEntry()
    {
        var (v1, _, _) = await PrepareAsync(cache: true);
        var v2 = Keep(Copy(v1));
        SetConfig(v2, Yaml("2", cache: true));
        Assert.True((await BuildAsync(v2)).Succeeded);
        var ops = await OperationsAsync(v2, Yaml("1", cache: true));
        var link = ops.FindIndex(o => o.Contains(" link ", StringComparison.Ordinal)) + 1;
        Assert.True(link > 0, string.Join("\n", ops));
        var entries = Directory.GetFiles(v2["store"], "entry.json", SearchOption.AllDirectories).ToDictionary(f => f, f => KdGat.Core.Hashing.FileIdentity.Of(f));

        SetConfig(v2, Yaml("1", cache: true));
        var log = new RecordingLog();
        var r = await BuildAsync(v2, new CrashPoints.Plan(link, CrashPoints.Mode.Fail), log);

        Assert.True(r.Succeeded, string.Join("\n", log.Items.Select(i => $"{i.Code} {i.Message}")));
        Assert.Contains(log.Items, i => i.Code == ErrorCodes.CacheRestoreFailed && i.Message.Contains("the entry is kept", StringComparison.Ordinal));
        Assert.DoesNotContain(log.Items, i => i.Code == ErrorCodes.CacheEntryDamaged);
        Assert.Equal(entries, Directory.GetFiles(v2["store"], "entry.json", SearchOption.AllDirectories).ToDictionary(f => f, f => KdGat.Core.Hashing.FileIdentity.Of(f)));
    }

    /// <summary>An entry with a payload gone (a partial rsync, a user's rm) is damaged: evicted (KDG2004), so the next run's insert repairs it; not kept as if the run dir had failed.</summary>
    [Fact]
    public async Task RestoreFromCache_AnEntryWithAPayloadGone_IsEvictedAsDamaged()
    {
        using var d = NewRoot(Yaml("1", cache: true));
        Assert.True((await BuildAsync(d)).Succeeded);
        var v1 = Directory.GetFiles(d["store"], "entry.json", SearchOption.AllDirectories).Select(f => Path.GetDirectoryName(f)!).ToArray();
        SetConfig(d, Yaml("2", cache: true));
        Assert.True((await BuildAsync(d)).Succeeded);
        foreach (var e in v1) File.Delete(Path.Combine(e, "o0"));

        SetConfig(d, Yaml("1", cache: true));
        var log = new RecordingLog();
        Assert.True((await BuildAsync(d, log: log)).Succeeded);

        Assert.Contains(log.Items, i => i.Code == ErrorCodes.CacheEntryDamaged);
        Assert.DoesNotContain(log.Items, i => i.Code == ErrorCodes.CacheRestoreFailed);
        Assert.All(v1, e => Assert.True(File.Exists(Path.Combine(e, "o0")), e)); // evicted, then inserted again by the run
    }

    [Fact]
    public async Task Recovery_InterruptedAtEveryOperation_LosesNoGoodResult()
    {
        var (v1, r1, _) = await PrepareAsync(cache: false);
        var ops = await OperationsAsync(v1, Yaml("2", cache: false));
        var commitA = CommitOperation(ops, "a");
        // Crash points inside a's attempt: mid-move aside, stage started, outputs written, manifest written.
        var firstCrashes = new[] { 0.3, 0.55, 0.8, 1.0 }.Select(f => Math.Max(1, (int)(commitA * f) - (f == 1.0 ? 1 : 0))).Distinct().ToArray();
        var total = 0;
        foreach (var n in firstCrashes)
        {
            using var crashed = Copy(v1);
            SetConfig(crashed, Yaml("2", cache: false));
            await Assert.ThrowsAsync<SimulatedCrashException>(() => BuildAsync(crashed, new CrashPoints.Plan(n, CrashPoints.Mode.Crash)));
            SetConfig(crashed, Yaml("1", cache: false));
            var recoveryOps = await OperationsAsync(crashed, Yaml("1", cache: false));
            for (var m = 1; m <= recoveryOps.Count; m++, total++)
            {
                using var d = Copy(crashed);
                try { await BuildAsync(d, new CrashPoints.Plan(m, CrashPoints.Mode.Crash)); }
                catch (SimulatedCrashException) { }
                var log = new RecordingLog();
                var r = await BuildAsync(d, log: log);
                var why = $"crash at {ops[n - 1]}, then recovery crashed at {recoveryOps[m - 1]}:\n{string.Join("\n", log.Items.Select(i => $"{i.Code} {i.Message}"))}";
                Assert.True(r.Succeeded, why);
                Assert.Equal(["a", "b"], CrashLab.With(r, Outcome.UpToDate)); // nothing had committed: the v1 result is kept
                Assert.True(r1.SequenceEqual(Snapshot(d)), why);
            }
        }
        _out.WriteLine($"recovery: {firstCrashes.Length} crashed attempts x their recovery's operations = {total} interrupted recoveries");
    }
}
