using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Hashing;
using KdGat.Core.Tracking;
using KdGat.Core.Tests.Support;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Tracking;

/// <summary>
/// Status of an up-to-date instance whose current result's run record is not indexed (deleted, or
/// unreadable: KDG5002): it said an older run was "a later attempt (...) that left this result as it was".
/// </summary>
[Trait("Category", "Unit")]
public sealed class TrackerStatusTests : IDisposable
{
    private readonly TempDir _d = NewRoot(Yaml("1", cache: false));
    public void Dispose() => _d.Dispose();

    [Fact]
    public async Task TheRecordOfTheCurrentResultMissing_IsSaid_NotAnOlderRunAsALaterAttempt()
    {
        Assert.True((await BuildAsync(_d)).Succeeded);
        SetConfig(_d, Yaml("2", cache: false));
        var second = await BuildAsync(_d);
        Assert.True(second.Succeeded);
        foreach (var f in Directory.EnumerateFiles(_d[".kdgat/records"], $"*{second.BuildId}*.json", SearchOption.AllDirectories).Where(f => f.Contains("/a/", StringComparison.Ordinal)))
            File.Delete(f);

        using var tracker = Tracker.Open(Request(_d), new RecordingLog(), _d[".kdgat/index.db"]);
        var a = (await tracker.StatusAsync()).Single(r => r.Stage == "a");

        Assert.Equal(StatusRow.UpToDate, a.State);
        Assert.DoesNotContain("a later attempt", a.Detail);
        Assert.Contains($"the run record of its current result (build {second.BuildId}, attempt 1) is missing or unreadable", a.Detail);
    }

    /// <summary>
    /// Ctrl+C during Status's check of what is up to date: its planner had no cancel, so a Status of 7,800 instances
    /// went on hashing and checking to its end. Now it stops with an OperationCanceledException (the task's KDG3004).
    /// </summary>
    [Fact]
    public async Task ACancel_StopsTheCheck()
    {
        Assert.True((await BuildAsync(_d)).Succeeded);
        using var tracker = Tracker.Open(Request(_d), new RecordingLog(), _d[".kdgat/index.db"]);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tracker.StatusAsync(cancel: new CancellationToken(canceled: true)));
        Assert.Equal(StatusRow.UpToDate, (await tracker.StatusAsync()).Single(r => r.Stage == "a").State);
    }

    /// <summary>
    /// A current manifest that cannot be archived in .kdgat/manifests (a full disk or quota, the folder read-only; here a
    /// file in its place): Status, History, Compare and Report failed with KDG5005, "the run index ... cannot be used ...
    /// pass -p:KdGatIndex", which changes nothing, and the index step after a build took in none of its records (found on a
    /// full tmpfs). Now a warning that names the folder, and the index and Status work; the next open archives it.
    /// </summary>
    [Fact]
    public async Task AManifestThatCannotBeArchived_IsAWarning_NotAFailureOfTheIndex()
    {
        Assert.True((await BuildAsync(_d)).Succeeded);
        SetConfig(_d, Yaml("2", cache: false));
        Assert.True((await BuildAsync(_d)).Succeeded);
        var archive = _d[".kdgat/manifests"];
        Directory.Delete(archive, recursive: true);
        File.WriteAllText(archive, "not a folder");
        var log = new RecordingLog();

        using (var tracker = Tracker.Open(Request(_d), log, _d[".kdgat/index.db"]))
            Assert.Equal(StatusRow.UpToDate, (await tracker.StatusAsync()).Single(r => r.Stage == "a").State);

        var warning = Assert.Single(log.Items, d => d.Code == ErrorCodes.ManifestNotArchived);
        Assert.Equal(Severity.Warning, warning.Severity);
        Assert.Equal(archive, warning.File);
        File.Delete(archive);
        using (Tracker.Open(Request(_d), new RecordingLog(), _d[".kdgat/index.db"]))
            Assert.NotEmpty(Directory.GetFiles(archive, "*.json", SearchOption.AllDirectories));
    }

    /// <summary>
    /// Status (and Compare, which asks it) saves the hash cache after its check; where that cannot be written (a full disk
    /// or quota, a read-only .kdgat; here a folder in its place) the whole Status failed, blamed on the run index (KDG5005,
    /// found on a read-only file system with -p:KdGatIndex elsewhere). A build says it as KDG2008 and goes on; so does Status.
    /// </summary>
    [Fact]
    public async Task AHashCacheThatCannotBeSaved_IsAWarning_AndStatusAnswers()
    {
        Assert.True((await BuildAsync(_d)).Succeeded);
        var cache = _d[".kdgat/hash-cache.tsv"];
        File.Delete(cache);
        Directory.CreateDirectory(cache);
        var log = new RecordingLog();
        using var tracker = Tracker.Open(Request(_d), log, _d[".kdgat/index.db"]);

        Assert.Equal(StatusRow.UpToDate, (await tracker.StatusAsync()).Single(r => r.Stage == "a").State);
        Assert.Equal(Severity.Warning, Assert.Single(log.Items, d => d.Code == ErrorCodes.StateWriteFailed).Severity);
    }

    /// <summary>
    /// A Ctrl+C during Status saved none of the hashes it had finished, so the next Status hashed every file again (tens
    /// of GB of real data). Now the hashes of what was checked before the cancel are in the hash cache, and only those.
    /// </summary>
    [Fact]
    public async Task ACancel_SavesTheHashesFinishedBeforeIt()
    {
        Assert.True((await BuildAsync(_d)).Succeeded);
        var file = _d[".kdgat/hash-cache.tsv"];
        File.Delete(file); // every file is hashed afresh
        Thread.Sleep(TimeSpan.FromTicks(HashCache.RacyMarginNs / 100) + TimeSpan.FromMilliseconds(500)); // a file changed within the margin is never saved
        using var tracker = Tracker.Open(Request(_d), new RecordingLog(), _d[".kdgat/index.db"]);
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => tracker.StatusAsync(cancel: cts.Token, checkedOne: r => { if (r.Stage == "a") cts.Cancel(); }));

        var saved = File.ReadAllText(file);
        Assert.Contains("\truns/d1/a/model.ckpt\n", saved);
        Assert.DoesNotContain("runs/d1/b/out.txt", saved); // b was not checked
    }
}
