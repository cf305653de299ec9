using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Execution;
using KdGat.Core.IO;
using KdGat.Core.Tests.Support;
using static KdGat.Core.Tests.Engine.CrashLab;
using KdGat.Testing;

namespace KdGat.Core.Tests.Engine;

/// <summary>One test per defect of issue 17 that the attempt protocol, Clean and the build report fix.</summary>
[Trait("Category", "Unit")]
public sealed class AttemptProtocolTests : IDisposable
{
    private readonly TempDir _d = NewRoot(Yaml("1", cache: false));
    public void Dispose() => _d.Dispose();

    /// <summary>This host as AtomicFile's temp names spell it.</summary>
    private static readonly string HostTag = new(Environment.MachineName.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());

    private string A(string file) => _d[$"runs/d1/a/{file}"];

    private async Task<BuildReport> BuildV(string v, bool cache = false, string aPrefix = "", RecordingLog? log = null)
    {
        SetConfig(_d, Yaml(v, cache, aPrefix));
        return await BuildAsync(_d, log: log);
    }

    /// <summary>The operation number of the n-th match in a v2 build from the current state (counted on a copy).</summary>
    private async Task<int> OperationOfV2Build(Func<string, bool> match, int nth = 1)
    {
        var ops = await OperationsAsync(_d, Yaml("2", cache: false));
        return ops.Select((o, i) => (o, i)).Where(x => match(x.o)).ElementAt(nth - 1).i + 1;
    }

    [Fact]
    public async Task FileErrorMovingThePreviousResultAside_KeepsItUpToDate()
    {
        // As with `chattr +i` on the run dir: the first move out of it fails (KDG3007).
        Assert.True((await BuildV("1")).Succeeded);
        var good = Snapshot(_d);
        var n = await OperationOfV2Build(o => o.EndsWith("/runs/d1/a/kdgat.manifest.json", StringComparison.Ordinal) && o.Contains(" rename "));
        SetConfig(_d, Yaml("2", cache: false));
        var failed = await BuildAsync(_d, new CrashPoints.Plan(n, CrashPoints.Mode.Fail));
        Assert.Equal(["a"], With(failed, Outcome.Failed));

        var r = await BuildV("1");

        Assert.Equal(["a", "b"], With(r, Outcome.UpToDate));
        Assert.Equal(good, Snapshot(_d));
        Assert.False(Directory.Exists(_d["runs/d1/.kdgat/a/failed"]));
    }

    /// <summary>
    /// A command that exits 0 but leaves an output that cannot be hashed (a symlink cycle in an output
    /// folder, KDG1016): the attempt is rolled back in this build, as any failed one, and recorded as
    /// failed. It used to keep its journal with the previous result aside (Status: interrupted) until the
    /// next build, and had no run record (a review).
    /// </summary>
    [Fact]
    public async Task AnAttemptWhoseOutputsCannotBeHashed_IsRolledBackAndRecorded()
    {
        Assert.True((await BuildV("1")).Succeeded);
        var records = Directory.GetFiles(_d[".kdgat/records/d1/a"]).Length;

        var r = await BuildV("2", aPrefix: "mkdir -p {cache_dir} && ln -s .. {cache_dir}/up; ");

        Assert.Equal(["a"], With(r, Outcome.Failed));
        Assert.StartsWith("a 1\n", File.ReadAllText(A("model.ckpt")));
        Assert.Equal("a 1\n", File.ReadAllText(_d["cache/d1/g.bin"]));
        Assert.False(FileMover.Exists(_d["cache/d1/up"]));
        Assert.False(File.Exists(_d["runs/d1/.kdgat/a/attempt.json"]));
        Assert.False(Directory.Exists(_d["runs/d1/.kdgat/a/aside"]));
        Assert.Equal(records + 1, Directory.GetFiles(_d[".kdgat/records/d1/a"]).Length);
        Assert.Equal(["a", "b"], With(await BuildV("1"), Outcome.UpToDate));
    }

    [Fact]
    public async Task BuildDiesBetweenStartingTheStageAndJournallingItsPid_RecoveryStopsTheOrphan()
    {
        Assert.True((await BuildV("1")).Succeeded);
        var started = await OperationOfV2Build(o => o.Contains(" write ") && o.Contains("/runs/d1/.kdgat/a/.attempt.json.", StringComparison.Ordinal), nth: 3); // aside, running, started
        var pidFile = _d["runs/orphan.pid"];
        SetConfig(_d, Yaml("2", cache: false, aPrefix: "echo $$ > ../../orphan.pid; sleep 30; "));
        await Assert.ThrowsAsync<SimulatedCrashException>(() => BuildAsync(_d, new CrashPoints.Plan(started, CrashPoints.Mode.Crash)));
        await Eventually.UntilAsync(() => File.Exists(pidFile) && File.ReadAllText(pidFile).EndsWith('\n'), TimeSpan.FromSeconds(20), "the stage started");
        var orphan = int.Parse(File.ReadAllText(pidFile).Trim());

        var r = await BuildV("1");

        Assert.Equal(["a", "b"], With(r, Outcome.UpToDate));
        await Eventually.UntilAsync(() => !Sh.IsRunning(orphan), TimeSpan.FromSeconds(10), "the orphaned stage process is stopped");
        Assert.StartsWith("a 1\n", File.ReadAllText(A("model.ckpt")));
    }

    [Fact]
    public async Task FailedAttempt_ParamsJsonStillDescribesTheKeptResult()
    {
        Assert.True((await BuildV("1")).Succeeded);
        var kept = File.ReadAllText(A("params.json"));

        var r = await BuildV("2", aPrefix: "exit 1; ");

        Assert.Equal(["a"], With(r, Outcome.Failed));
        Assert.Equal(kept, File.ReadAllText(A("params.json")));
        Assert.Contains("\"2\"", File.ReadAllText(_d["runs/d1/.kdgat/a/failed/params.json"]));
    }

    [Fact]
    public async Task RunRecordWriteFails_AttemptIsUndone_Kdg3008()
    {
        Assert.True((await BuildV("1")).Succeeded);
        var good = Snapshot(_d);
        var record = await OperationOfV2Build(o => o.Contains(" rename ") && o.Contains("/.kdgat/records/d1/a/"));
        SetConfig(_d, Yaml("2", cache: false));
        var log = new RecordingLog();
        var failed = await BuildAsync(_d, new CrashPoints.Plan(record, CrashPoints.Mode.Fail), log);
        Assert.Equal(["a"], With(failed, Outcome.Failed));
        Assert.Contains(log.Items, i => i.Code == ErrorCodes.RecordWriteFailed);

        var r = await BuildV("1");

        Assert.Equal(["a", "b"], With(r, Outcome.UpToDate)); // nothing of the undone attempt was committed
        Assert.Equal(good, Snapshot(_d));
    }

    [Fact]
    public async Task ManifestWhoseOutputsDigestDisagreesWithItsOutputs_IsStale_Kdg2001()
    {
        Assert.True((await BuildV("1")).Succeeded);
        var manifest = A(KdGat.Core.Pipeline.StageInstance.ManifestFileName);
        var text = File.ReadAllText(manifest);
        var digest = System.Text.RegularExpressions.Regex.Match(text, "\"outputs_digest\": \"([0-9a-f]+)\"").Groups[1].Value;
        File.WriteAllText(manifest, text.Replace(digest, new string('0', digest.Length)));
        var log = new RecordingLog();

        var r = await BuildV("1", log: log);

        Assert.Equal(["a"], With(r, Outcome.Ran));
        Assert.Contains(log.Items, i => i.Code == ErrorCodes.CorruptManifest && i.Message.Contains("outputs_digest"));
    }

    [Fact]
    public async Task DamagedManifestRestoredFromCache_Kdg2001DoesNotSayRerun()
    {
        Assert.True((await BuildV("1", cache: true)).Succeeded);
        File.WriteAllText(A(KdGat.Core.Pipeline.StageInstance.ManifestFileName), "{ torn");
        var log = new RecordingLog();

        var r = await BuildV("1", cache: true, log: log);

        Assert.Equal(["a"], With(r, Outcome.Restored));
        var warning = Assert.Single(log.Items, i => i.Code == ErrorCodes.CorruptManifest);
        Assert.DoesNotContain("rerun", warning.Message);
    }

    [Fact]
    public async Task ExplainWithAPendingJournal_SaysWhatRecoveryLeaves()
    {
        Assert.True((await BuildV("1", cache: true)).Succeeded);
        Assert.True((await BuildV("2", cache: true)).Succeeded);
        Assert.True((await BuildV("1", cache: true)).Succeeded); // restored; v1 live, v2 in the store
        var started = await OperationOfV2Build(o => o.Contains(" write ") && o.Contains("/runs/d1/.kdgat/a/.attempt.json.", StringComparison.Ordinal), nth: 3);
        SetConfig(_d, Yaml("2", cache: false));
        await Assert.ThrowsAsync<SimulatedCrashException>(() => BuildAsync(_d, new CrashPoints.Plan(started, CrashPoints.Mode.Crash)));
        SetConfig(_d, Yaml("1", cache: true));

        var explain = await new BuildEngine().RunAsync(Request(_d, BuildMode.Explain), new RecordingLog(), CancellationToken.None);
        var build = await BuildAsync(_d);

        Assert.Equal(["a", "b"], With(explain, Outcome.UpToDate));
        Assert.Equal(["a", "b"], With(build, Outcome.UpToDate));
    }

    [Fact]
    public void AtomicWrite_RemovesTempFilesOfDeadWriters_KeepsLiveOnes()
    {
        var target = _d["state/x.json"];
        Directory.CreateDirectory(_d["state"]);
        var dead = _d.Write($"state/.x.json.{HostTag}-999999999.0123456789abcdef0123456789abcdef.tmp", "torn");
        var live = _d.Write($"state/.x.json.{HostTag}-1.0123456789abcdef0123456789abcdef.tmp", "pid 1 is alive");

        AtomicFile.WriteAllText(target, "new");

        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(live));
        Assert.Equal("new", File.ReadAllText(target));
    }

    [Fact]
    public async Task Recovery_RemovesTempFilesACrashedWriteLeftInTheRunDir()
    {
        Assert.True((await BuildV("1")).Succeeded);
        var started = await OperationOfV2Build(o => o.Contains(" write ") && o.Contains("/runs/d1/.kdgat/a/.attempt.json.", StringComparison.Ordinal), nth: 3);
        SetConfig(_d, Yaml("2", cache: false));
        await Assert.ThrowsAsync<SimulatedCrashException>(() => BuildAsync(_d, new CrashPoints.Plan(started, CrashPoints.Mode.Crash)));
        var torn = _d.Write($"runs/d1/a/.kdgat.manifest.json.{HostTag}-999999999.0123456789abcdef0123456789abcdef.tmp", "torn");

        await BuildV("1");

        Assert.False(File.Exists(torn));
    }

    [Fact]
    public void BuildReports_OnePerBuild_LastBuildIsTheOneThatFinishedLast()
    {
        BuildReport Report(string id, int finishedMinute) => new()
        {
            BuildId = id, Mode = "build", Executor = "local", Datasets = ["d1"], Stages = [],
            FinishedUtc = new DateTimeOffset(2026, 1, 1, 0, finishedMinute, 0, TimeSpan.Zero),
        };
        var state = _d[".kdgat"];

        Report("20260101T000000Z-bbbbbb", finishedMinute: 30).Publish(state);
        Report("20260101T000100Z-aaaaaa", finishedMinute: 10).Publish(state); // started later, finished earlier, published last

        Assert.Equal("20260101T000000Z-bbbbbb", BuildReport.Read(_d[".kdgat/last-build.json"])!.BuildId);
        Assert.True(File.Exists(_d[".kdgat/builds/20260101T000000Z-bbbbbb.json"]));
        Assert.True(File.Exists(_d[".kdgat/builds/20260101T000100Z-aaaaaa.json"]));
        for (var i = 0; i < BuildReport.KeptReports + 5; i++) Report($"20260102T0000{i:00}Z-cccccc", 59).Publish(state);
        Assert.Equal(BuildReport.KeptReports, Directory.GetFiles(_d[".kdgat/builds"], "*.json").Length);
    }
}
