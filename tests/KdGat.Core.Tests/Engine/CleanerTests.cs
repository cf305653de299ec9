using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Pipeline;
using KdGat.Core.Tests.Support;
using static KdGat.Core.Tests.Engine.CrashLab;
using KdGat.Testing;

namespace KdGat.Core.Tests.Engine;

[Trait("Category", "Unit")]
public sealed class CleanerTests : IDisposable
{
    private readonly TempDir _d = NewRoot(Yaml("1", cache: false));
    public void Dispose() => _d.Dispose();

    [Fact]
    public async Task CleanDuringABuild_RefusesAsAWhole_DeletesNothing_BuildCompletes()
    {
        Assert.True((await BuildAsync(_d)).Succeeded);
        // b reruns and waits inside its command until the test lets it go.
        SetConfig(_d, Yaml("1", cache: false, bPrefix: "touch ../../b.started; while [ ! -e ../../b.release ]; do sleep 0.05; done; "));
        var build = BuildAsync(_d);
        await Eventually.UntilAsync(() => File.Exists(_d["runs/b.started"]), TimeSpan.FromSeconds(30), "b started");

        var e = await Assert.ThrowsAsync<KdgException>(() => Cleaner.CleanAsync(Request(_d), null, new RecordingLog()));

        Assert.Equal(ErrorCodes.CleanRefused, e.Code);
        Assert.Contains("nothing was deleted", e.Message);
        Assert.Contains("running on 1 dataset(s): d1 and 1 stage instance(s): d1/b.", e.Message); // each said as what it is
        Assert.True(File.Exists(_d["runs/d1/a/model.ckpt"]));
        Assert.True(File.Exists(_d["cache/d1/g.bin"]));
        File.WriteAllText(_d["runs/b.release"], "");
        var r = await build.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(r.Succeeded);
        Assert.Equal(["b"], With(r, Outcome.Ran));

        await Cleaner.CleanAsync(Request(_d), null, new RecordingLog()); // once the build has ended
        Assert.False(File.Exists(_d["runs/d1/a/model.ckpt"]));
    }

    /// <summary>
    /// Clean killed at its first deletion (a crash-and-signal pass killed -t:Clean while it deleted):
    /// the instance whose outputs were going must still rerun, not come back from the output cache
    /// under the same fingerprint, so the rerun marker is written before anything is deleted.
    /// </summary>
    [Fact]
    public async Task CleanCrashingAtItsFirstDeletion_StillForcesTheRerun()
    {
        using var d = NewRoot(Yaml("1", cache: true));
        Assert.True((await BuildAsync(d)).Succeeded);
        KdGat.Core.IO.CrashPoints.Plan plan;
        var deletions = 0;
        // Count the operations up to the first deletion, then crash at the one after it (a point only crashes before its operation).
        var probe = new KdGat.Core.IO.CrashPoints.Plan(int.MaxValue, KdGat.Core.IO.CrashPoints.Mode.Crash);
        using (var copy = Copy(d))
        {
            KdGat.Core.IO.CrashPoints.Current = probe;
            try { await Cleaner.CleanAsync(Request(copy), null, new RecordingLog()); }
            finally { KdGat.Core.IO.CrashPoints.Current = null; }
            deletions = probe.Seen.FindIndex(op => op.Split(' ')[1] is "unlink" or "rmtree") + 1;
        }
        Assert.True(deletions > 0, string.Join("\n", probe.Seen));
        plan = new KdGat.Core.IO.CrashPoints.Plan(deletions + 1, KdGat.Core.IO.CrashPoints.Mode.Crash);
        KdGat.Core.IO.CrashPoints.Current = plan;
        try { await Assert.ThrowsAnyAsync<Exception>(() => Cleaner.CleanAsync(Request(d), null, new RecordingLog())); }
        finally { KdGat.Core.IO.CrashPoints.Current = null; }
        Assert.True(plan.Crashed);
        Assert.False(File.Exists(d["runs/d1/a/model.ckpt"])); // the first deletion happened

        var r = await BuildAsync(d);
        Assert.True(r.Succeeded);
        Assert.True(With(r, Outcome.Ran).Contains("a"), string.Join("\n", plan.Seen) + "\n" + string.Join(", ", r.Stages.Select(x => x.Stage + ":" + x.Outcome))); // forced: not restored from the cache
        Assert.DoesNotContain("a", With(r, Outcome.Restored));
    }

    /// <summary>
    /// On a full disk Clean could not write its rerun marker first and so deleted nothing (KDG1207),
    /// though freeing space is what it is for (found by review). It deletes, then writes the marker.
    /// </summary>
    [Fact]
    public async Task CleanOnAFullDisk_DeletesAndStillForcesTheRerun()
    {
        using var d = NewRoot(Yaml("1", cache: true));
        Assert.True((await BuildAsync(d)).Succeeded);
        var probe = new KdGat.Core.IO.CrashPoints.Plan(int.MaxValue, KdGat.Core.IO.CrashPoints.Mode.Crash);
        using (var copy = Copy(d))
        {
            KdGat.Core.IO.CrashPoints.Current = probe;
            try { await Cleaner.CleanAsync(Request(copy), null, new RecordingLog()); }
            finally { KdGat.Core.IO.CrashPoints.Current = null; }
        }
        var marker = probe.Seen.FindIndex(op => op.Contains("rerun-requested", StringComparison.Ordinal)) + 1;
        Assert.True(marker > 0, string.Join("\n", probe.Seen));

        KdGat.Core.IO.CrashPoints.Current = new KdGat.Core.IO.CrashPoints.Plan(marker, KdGat.Core.IO.CrashPoints.Mode.Fail); // ENOSPC writing the marker
        try { await Cleaner.CleanAsync(Request(d), null, new RecordingLog()); }
        finally { KdGat.Core.IO.CrashPoints.Current = null; }

        Assert.False(File.Exists(d["runs/d1/a/model.ckpt"]));
        var r = await BuildAsync(d);
        Assert.True(r.Succeeded);
        Assert.Contains("a", With(r, Outcome.Ran)); // forced: not restored from the cache

        // A second Clean on the full disk, with the first Clean's marker still there (its rerun failed): it deletes too.
        Directory.CreateDirectory(d["runs/d1/.kdgat/a"]);
        File.WriteAllText(d["runs/d1/.kdgat/a/rerun-requested"], "requested by Clean\n");
        KdGat.Core.IO.CrashPoints.Current = new KdGat.Core.IO.CrashPoints.Plan(marker, KdGat.Core.IO.CrashPoints.Mode.Fail);
        try { await Cleaner.CleanAsync(Request(d), null, new RecordingLog()); }
        finally { KdGat.Core.IO.CrashPoints.Current = null; }
        Assert.False(File.Exists(d["runs/d1/a/model.ckpt"]));
    }

    /// <summary>
    /// A manifest the build could not archive (a full disk) was deleted by Clean unarchived, and outputs
    /// copied back from a backup were then adopted as current: Adopt had no record of what they were made
    /// from (a quota review). Clean archives it after deleting the outputs, and keeps it (KDG2022) where it
    /// cannot; the stage runs again all the same.
    /// </summary>
    [Fact]
    public async Task CleanArchivesTheManifest_AndKeepsItWhereItCannot_Kdg2022()
    {
        Assert.True((await BuildAsync(_d)).Succeeded);
        var archived = _d[".kdgat/manifests/d1/a"];
        Directory.Delete(archived, recursive: true); // the build's own capture failed
        File.WriteAllText(archived, "not a folder"); // and Clean's cannot be written either

        var log = new RecordingLog();
        await Cleaner.CleanAsync(Request(_d), "a", log);

        Assert.Contains(log.Items, i => i.Code == ErrorCodes.CleanManifestKept && i.Message.Contains("d1/a", StringComparison.Ordinal));
        Assert.True(File.Exists(_d[$"runs/d1/a/{StageInstance.ManifestFileName}"]));
        Assert.False(File.Exists(_d["runs/d1/a/model.ckpt"]));

        File.Delete(archived);
        await Cleaner.CleanAsync(Request(_d), "a", new RecordingLog());
        Assert.False(File.Exists(_d[$"runs/d1/a/{StageInstance.ManifestFileName}"]));
        Assert.Single(Directory.GetFiles(archived, "*.json"));
        var r = await BuildAsync(_d);
        Assert.Contains("a", With(r, Outcome.Ran));
    }

    /// <summary>
    /// A misspelt selection (-p:Stages=b) made Clean delete every stage of every dataset, and so rerun them all (a
    /// first-week review): refused, nothing deleted. A near miss of another property is a warning, as for a build.
    /// </summary>
    [Theory]
    [InlineData("Stages", true)]
    [InlineData("Datset", true)]
    [InlineData("Sweeps", true)]
    [InlineData("Limits", false)]
    public async Task CleanWithAMisspeltSelection_IsRefused_NothingDeleted(string property, bool refused)
    {
        Assert.True((await BuildAsync(_d)).Succeeded);
        var request = Request(_d) with { GlobalPropertyNames = [property] };
        var log = new RecordingLog();

        if (refused)
        {
            var e = await Assert.ThrowsAsync<KdgException>(() => Cleaner.CleanAsync(request, null, log));
            Assert.Equal(ErrorCodes.CleanSelectionMisspelt, e.Code);
            Assert.Contains("nothing was deleted", e.Message);
            Assert.True(File.Exists(_d["runs/d1/a/model.ckpt"]));
        }
        else
        {
            await Cleaner.CleanAsync(request, null, log);
            Assert.Contains(log.Items, i => i.Code == ErrorCodes.PropertyMisspelt && i.Message.Contains("-p:Limit", StringComparison.Ordinal));
            Assert.False(File.Exists(_d["runs/d1/a/model.ckpt"]));
        }
    }

    /// <summary>
    /// Clean deletes what a run left in the run dir, declared or not, but not KdGat's logs/: run
    /// records name those logs, and History showed paths Clean had deleted (found by review).
    /// </summary>
    [Fact]
    public async Task Clean_DeletesTheRunDirButItsLogs()
    {
        Assert.True((await BuildAsync(_d)).Succeeded);
        File.WriteAllText(_d["runs/d1/a/last.ckpt"], "undeclared");
        var logs = Directory.GetFiles(_d["runs/d1/a/logs"]);
        Assert.NotEmpty(logs);

        await Cleaner.CleanAsync(Request(_d), null, new RecordingLog());

        Assert.Equal(["logs"], Directory.EnumerateFileSystemEntries(_d["runs/d1/a"]).Select(Path.GetFileName));
        Assert.Equal(logs, Directory.GetFiles(_d["runs/d1/a/logs"]));
        Assert.True((await BuildAsync(_d)).Succeeded);
        Assert.True(File.Exists(_d["runs/d1/a/model.ckpt"]));
    }

    [Fact]
    public async Task SymlinkedRunDir_CleanRemovesTheLinkNotWhatItPointsTo()
    {
        Assert.True((await BuildAsync(_d)).Succeeded);
        using var outside = new TempDir();
        Directory.Move(_d["runs/d1/b"], outside["b"]);
        Directory.CreateSymbolicLink(_d["runs/d1/b"], outside["b"]);
        var log = new RecordingLog();

        await Cleaner.CleanAsync(Request(_d), null, log);

        Assert.True(File.Exists(outside["b/out.txt"]));
        Assert.True(File.Exists(outside["b/kdgat.manifest.json"]));
        Assert.False(Path.Exists(_d["runs/d1/b"]));
        Assert.Contains(log.Items, i => i.Code == ErrorCodes.CleanSymlink);
        Assert.False(File.Exists(_d["runs/d1/a/model.ckpt"]));
    }

    /// <summary>
    /// A dataset's runs folder linked to scratch (the common layout): every run dir lies under the
    /// link, so no output is deleted through it, but the stages still rerun (their manifests go),
    /// and not from the cache.
    /// </summary>
    [Fact]
    public async Task SymlinkedDatasetFolder_CleanStillForcesTheRerun_WithoutDeletingOutputsThroughTheLink()
    {
        using var d = NewRoot(Yaml("1", cache: true));
        Assert.True((await BuildAsync(d)).Succeeded);
        using var scratch = new TempDir();
        Directory.Move(d["runs/d1"], scratch["d1"]);
        Directory.CreateSymbolicLink(d["runs/d1"], scratch["d1"]);
        Assert.Empty(With(await BuildAsync(d), Outcome.Ran)); // up to date through the link
        var log = new RecordingLog();

        await Cleaner.CleanAsync(Request(d), null, log);

        Assert.True(File.Exists(scratch["d1/b/out.txt"])); // not deleted through the link
        Assert.False(File.Exists(scratch["d1/b/kdgat.manifest.json"]));
        Assert.Contains(log.Items, i => i.Code == ErrorCodes.CleanSymlink);
        var r = await BuildAsync(d);
        Assert.True(r.Succeeded);
        Assert.Equal(["a", "b"], With(r, Outcome.Ran).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// A review: Clean cleaned only today's grid. A point the grid had lost (y=2, Clean, y=2 back)
    /// came back up to date with its old result, and a stage whose sweep was removed after Clean got
    /// its unswept result back from the cache; Clean is the forced rerun of the stage in that dataset,
    /// so both really run now, as from scratch.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Clean_AlsoForcesTheRerunOfSweepPointsOutsideTodaysGrid_AndOfTheUnsweptResultAbove(bool pointLeftTheGrid)
    {
        static string Config(string sweep) => $$"""
            datasets: [d1]
            paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
            cache_store: store
            stages:
              b: { command: 'echo {params.y} > out.txt', params: { y: 1 }, outputs: [out.txt]{{sweep}} }
            """;
        using var p = new TestPipeline(pointLeftTheGrid ? Config(", sweep: { y: [1, 2] }") : Config(""), "d1");
        var stages = new StageDeclaration[] { new("b", []) };
        async Task<BuildReport> Build() => await new BuildEngine().RunAsync(p.Request(stages), new RecordingLog(), default);
        Assert.True((await Build()).Succeeded);
        if (pointLeftTheGrid) p.WriteConfig(Config(", sweep: { y: [1] }")); // y=2 leaves the grid
        else
        {
            p.WriteConfig(Config(", sweep: { y: [2, 3] }")); // swept: the points' first commit retires the unswept result (cached)
            Assert.True((await Build()).Succeeded);
        }

        await Cleaner.CleanAsync(p.Request(stages), null, new RecordingLog());
        p.WriteConfig(pointLeftTheGrid ? Config(", sweep: { y: [1, 2] }") : Config(""));
        var r = await Build();

        Assert.True(r.Succeeded);
        Assert.Equal(pointLeftTheGrid ? [Outcome.Ran, Outcome.Ran] : [Outcome.Ran], r.Stages.Select(x => x.Outcome));
    }

    /// <summary>
    /// A differential review: a stage made swept and cleaned before any point ran lost only its unswept
    /// manifest; its outputs and params.json stayed above the points, where no from-scratch build has
    /// them (-t:Rebuild after turning the README's sweep on). Clean takes them, and what the unswept
    /// manifest records outside its run dir, but not the points' folders or logs/.
    /// </summary>
    [Fact]
    public async Task Clean_OfAStageMadeSwept_RemovesItsUnsweptResultAboveThePoints()
    {
        using var p = new TestPipeline(StageMadeSwept.Unswept, "d1");
        var stages = new StageDeclaration[] { new("b", []) };
        async Task<BuildReport> Build() => await new BuildEngine().RunAsync(p.Request(stages), new RecordingLog(), default);
        Assert.True((await Build()).Succeeded);
        p.WriteConfig(StageMadeSwept.Swept);

        await Cleaner.CleanAsync(p.Request(stages), null, new RecordingLog());
        Assert.True((await Build()).Succeeded);

        Assert.Equal(["logs", "y=2", "y=3"], Directory.EnumerateFileSystemEntries(p.Dir["runs/d1/b"]).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.False(File.Exists(p.Dir["cache/d1/side.txt"]));
    }
}

/// <summary>
/// A stage whose command leaves a scratch file in its run dir and an output under {cache_dir}, then
/// made swept: what a from-scratch build of the swept stage has none of (Clean and the build's
/// retirement alike; CleanerTests and BuildEngineTests).
/// </summary>
internal static class StageMadeSwept
{
    public const string Unswept = """
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        stages:
          b: { command: 'echo {params.y} > out.txt && mkdir -p {cache_dir} && echo x > {cache_dir}/side.txt && echo s > scratch.tmp', params: { y: 1 }, outputs: [out.txt, '{cache_dir}/side.txt'] }
        """;

    public const string Swept = """
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        stages:
          b: { command: 'echo {params.y} > out.txt', params: { y: 1 }, outputs: [out.txt], sweep: { y: [2, 3] } }
        """;
}
