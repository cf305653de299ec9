using KdGat.Core.Execution;
using KdGat.Core.Hashing;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;
using KdGat.Core.Tests.Support;
using KdGat.Testing;

namespace KdGat.Core.Tests.Execution;

[Trait("Category", "Unit")]
public sealed class OutputGuardTests : IDisposable
{
    private readonly TestPipeline _p = new("""
        datasets: [d1]
        paths:
          runs: runs
          cache: cache/{dataset}
        stages:
          a:
            command: x
            outputs: [model.ckpt, '{cache_dir}']
        """);
    private readonly StageInstance _s;
    private static readonly IReadOnlyDictionary<string, string> NoUpstream = new Dictionary<string, string>();

    public OutputGuardTests() => _s = _p.Instances([new("a", [])]).Single();

    public void Dispose() => _p.Dispose();

    private static Fingerprinter Fp() => new(new PathHasher(new HashCache()));

    private void WriteOutputs(string version)
    {
        Directory.CreateDirectory(_s.RunDir);
        File.WriteAllText(_s.Outputs[0], $"model {version}");
        Directory.CreateDirectory(_s.Outputs[1]);
        File.WriteAllText(Path.Combine(_s.Outputs[1], "graphs.bin"), $"graphs {version}");
    }

    /// <summary>A good result on disk: outputs plus a manifest that matches them.</summary>
    private void GoodResult(string version)
    {
        WriteOutputs(version);
        var fp = Fp();
        var c = fp.Compute(_s, NoUpstream);
        var (present, _) = fp.HashOutputs(_s);
        ManifestStore.Write(_s.ManifestPath, new StageManifest
        {
            Stage = "a", Dataset = "d1", Fingerprint = c.Digest(), Components = c,
            Outputs = present, OutputsDigest = Fingerprinter.OutputsDigest(present, null), BuildId = version, Executor = "test",
        });
    }

    private Verdict Check() => new Planner(Fp()).Check(_s, NoUpstream);

    private string Model() => File.ReadAllText(_s.Outputs[0]);
    private string Graphs() => File.ReadAllText(Path.Combine(_s.Outputs[1], "graphs.bin"));

    [Fact]
    public void Begin_MovesPreviousResultAside()
    {
        GoodResult("v1");
        var guard = new OutputGuard(_s);

        guard.Begin("b2-1", "b2-d1-a-1", "b2");

        Assert.False(File.Exists(_s.ManifestPath));
        Assert.False(File.Exists(_s.Outputs[0]));
        Assert.False(Directory.Exists(_s.Outputs[1]));
        Assert.True(File.Exists(Path.Combine(guard.StateDir, "attempt.json")));
        Assert.Equal("never-run", Assert.Single(Check().Reasons).Kind);
    }

    /// <summary>
    /// A Ctrl+C while the previous result is copied aside (an output on another file system than .kdgat/): File.Copy
    /// let none in until the whole output was copied. Now the copy stops, and everything moved so far is put back.
    /// </summary>
    [Fact]
    public async Task Begin_CancelledWhileAnOutputIsCopiedAside_PutsEverythingBack()
    {
        var other = Path.Combine("/dev/shm", "kdgat-guard-" + Guid.NewGuid().ToString("N")[..12]);
        if (!Directory.Exists("/dev/shm") || new DriveInfo("/dev/shm").Name == new DriveInfo(_p.Root).Name) return;
        Directory.CreateDirectory(other);
        try
        {
            File.CreateSymbolicLink(Path.Combine(_p.Root, "cache"), other); // the cache output on tmpfs
            GoodResult("v1");
            using var cancel = new CancellationTokenSource();
            var probe = new KdGat.Core.IO.CrashPoints.Plan(int.MaxValue, KdGat.Core.IO.CrashPoints.Mode.Fail);
            KdGat.Core.IO.CrashPoints.Current = probe;
            try { new OutputGuard(_s).Begin("b2-1", "b2-d1-a-1", "b2"); new OutputGuard(_s).Abort(); }
            finally { KdGat.Core.IO.CrashPoints.Current = null; }
            var copying = probe.Seen.FindIndex(op => op.Contains(" copy " + Path.Combine(_s.Outputs[1], "graphs.bin"), StringComparison.Ordinal));
            Assert.True(copying >= 0, string.Join("\n", probe.Seen));

            var plan = new KdGat.Core.IO.CrashPoints.Plan(copying + 1, cancel);
            KdGat.Core.IO.CrashPoints.Current = plan;
            try { Assert.ThrowsAny<OperationCanceledException>(() => new OutputGuard(_s).Begin("b3-1", "b3-d1-a-1", "b3", cancel: cancel.Token)); }
            finally { KdGat.Core.IO.CrashPoints.Current = null; }

            Assert.Equal("model v1", Model());
            Assert.Equal("graphs v1", Graphs());
            Assert.True(Check().UpToDate);
            Assert.Null(await new OutputGuard(_s).RecoverIfNeededAsync()); // no journal left
            Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(_s.Outputs[1])!), e => e.Contains(".kdgat-"));
        }
        finally { Directory.Delete(other, recursive: true); }
    }

    [Fact]
    public void Abort_FailedAttempt_RestoresPreviousGoodOutputsAndKeepsFailedOnesAside()
    {
        GoodResult("v1");
        var guard = new OutputGuard(_s);
        guard.Begin("b2-1", "b2-d1-a-1", "b2");
        WriteOutputs("v2-half-written");

        guard.Abort();

        Assert.Equal("model v1", Model());
        Assert.Equal("graphs v1", Graphs());
        Assert.True(Check().UpToDate);
        Assert.Equal("model v2-half-written", File.ReadAllText(Path.Combine(guard.FailedDir, "0-model.ckpt")));
        Assert.Equal("graphs v2-half-written", File.ReadAllText(Path.Combine(guard.FailedDir, "1-d1", "graphs.bin")));
        Assert.False(File.Exists(Path.Combine(guard.StateDir, "attempt.json")));
    }

    [Fact]
    public void Abort_WithoutPreviousResult_LeavesNothingThatLooksBuilt()
    {
        var guard = new OutputGuard(_s);
        guard.Begin("b1-1", "b1-d1-a-1", "b1");
        WriteOutputs("v1-partial");

        guard.Abort();

        Assert.False(File.Exists(_s.Outputs[0]));
        Assert.False(File.Exists(_s.ManifestPath));
        Assert.Equal("never-run", Assert.Single(Check().Reasons).Kind);
        Assert.True(File.Exists(Path.Combine(guard.FailedDir, "0-model.ckpt")));
    }

    [Fact]
    public async Task Commit_NewResult_DropsAsideCopyAndJournal()
    {
        GoodResult("v1");
        var guard = new OutputGuard(_s);
        guard.Begin("b2-1", "b2-d1-a-1", "b2");
        GoodResult("v2");

        guard.Commit();

        Assert.Equal("model v2", Model());
        Assert.True(Check().UpToDate);
        Assert.Equal(["generation"], Directory.EnumerateFileSystemEntries(guard.StateDir).Select(Path.GetFileName)); // what a downstream running meanwhile notes
        Assert.Null((await new OutputGuard(_s).RecoverIfNeededAsync()));
        Assert.Equal("model v2", Model());
    }

    /// <summary>
    /// A training script that resumes from a checkpoint it finds in its working dir: after a
    /// parameter change, the rerun read the old run's checkpoint and wrote the old model again,
    /// recorded as the new parameters' result (found by review). Each attempt now starts without
    /// what an earlier one left in the run dir (as from scratch), KdGat's logs/ kept; a commit
    /// drops them with the previous result, a rollback puts them back with it.
    /// </summary>
    [Fact]
    public async Task Begin_MovesWhatAnEarlierAttemptLeftInTheRunDirAside_CommitDropsIt_RollbackPutsItBack()
    {
        GoodResult("v1");
        File.WriteAllText(Path.Combine(_s.RunDir, "last.ckpt"), "checkpoint v1");
        Directory.CreateDirectory(Path.Combine(_s.RunDir, "checkpoints", "epoch-3"));
        Directory.CreateDirectory(_s.LogDir);
        File.WriteAllText(Path.Combine(_s.LogDir, "attempt-1.out"), "log of v1");
        File.CreateSymbolicLink(Path.Combine(_s.RunDir, "data"), _p.Dir["runs"]); // moved as a link, never followed

        var guard = new OutputGuard(_s);
        guard.Begin("b2-1", "b2-d1-a-1", "b2");
        Assert.Equal(["logs"], Directory.EnumerateFileSystemEntries(_s.RunDir).Select(Path.GetFileName));
        File.WriteAllText(Path.Combine(_s.RunDir, "last.ckpt"), "checkpoint v2, half");
        guard.Abort();

        Assert.Equal("checkpoint v1", File.ReadAllText(Path.Combine(_s.RunDir, "last.ckpt")));
        Assert.True(Directory.Exists(Path.Combine(_s.RunDir, "checkpoints", "epoch-3")));
        Assert.True(FileMover.IsLink(Path.Combine(_s.RunDir, "data")));
        Assert.True(Check().UpToDate);
        Assert.Equal("checkpoint v2, half", File.ReadAllText(Path.Combine(guard.FailedDir, "leftover2-last.ckpt")));

        guard.Begin("b3-1", "b3-d1-a-1", "b3");
        GoodResult("v3");
        guard.Commit();

        Assert.Equal(["kdgat.manifest.json", "logs", "model.ckpt"], Directory.EnumerateFileSystemEntries(_s.RunDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("log of v1", File.ReadAllText(Path.Combine(_s.LogDir, "attempt-1.out")));
        Assert.True(Directory.Exists(_p.Dir["runs"]));
        Assert.Null(await new OutputGuard(_s).RecoverIfNeededAsync());
    }

    /// <summary>
    /// A stage that was swept and no longer is: its unswept instance's run dir is the parent of the
    /// old points' folders. They were left in place, so a command resuming from `*/model.ckpt` read
    /// seed=0's checkpoint and that was recorded as current, while Clean and a build gave a fresh
    /// result (found by review). They are leftovers like any other: aside for the attempt, back on a
    /// rollback (nothing lost to a failure), dropped by the commit (the run dir a from-scratch build
    /// gives the stage and its downstreams). A Lightning checkpoint folder with '=' goes the same way.
    /// </summary>
    [Fact]
    public void Begin_OfAnUnsweptInstance_MovesItsFormerSweepPointsAside_RollbackPutsThemBack_CommitDropsThem()
    {
        var point0 = Path.Combine(_s.RunDir, "seed=0");
        Directory.CreateDirectory(Path.Combine(point0, "logs"));
        File.WriteAllText(Path.Combine(point0, "model.ckpt"), "seed 0 model");
        File.WriteAllText(Path.Combine(point0, StageInstance.ManifestFileName), "{}");
        Directory.CreateDirectory(Path.Combine(_s.RunDir, "seed=1", "logs"));
        Directory.CreateDirectory(Path.Combine(_s.RunDir, "epoch=9-step=500.ckpt"));

        var guard = new OutputGuard(_s);
        guard.Begin("b2-1", "b2-d1-a-1", "b2");
        Assert.Equal([], Directory.EnumerateFileSystemEntries(_s.RunDir).Select(Path.GetFileName));
        guard.Abort();

        Assert.Equal(["epoch=9-step=500.ckpt", "seed=0", "seed=1"], Directory.EnumerateFileSystemEntries(_s.RunDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("seed 0 model", File.ReadAllText(Path.Combine(point0, "model.ckpt")));
        Assert.True(File.Exists(Path.Combine(point0, StageInstance.ManifestFileName)));

        guard.Begin("b3-1", "b3-d1-a-1", "b3");
        GoodResult("v3");
        guard.Commit();

        Assert.Equal(["kdgat.manifest.json", "model.ckpt"], Directory.EnumerateFileSystemEntries(_s.RunDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.True(Check().UpToDate);
    }

    /// <summary>
    /// The reverse: a point's attempt of a stage that is (still, or newly) swept. Its run dir is its own
    /// folder; the other points beside it and what the unswept stage left in the folder above stay.
    /// </summary>
    [Fact]
    public void Begin_OfASweepPoint_TouchesOnlyItsOwnFolder()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs }
            stages:
              a: { command: x, outputs: [model.ckpt], sweep: { seed: [0, 1] } }
            """);
        var points = p.Instances([new("a", [])]);
        var s0 = points.Single(i => i.Variant == "seed=0");
        var parent = Path.GetDirectoryName(s0.RunDir)!;
        Directory.CreateDirectory(s0.RunDir);
        File.WriteAllText(Path.Combine(s0.RunDir, "last.ckpt"), "seed 0 checkpoint");
        File.WriteAllText(Path.Combine(parent, "model.ckpt"), "unswept model");
        File.WriteAllText(Path.Combine(parent, StageInstance.ManifestFileName), "{}");
        Directory.CreateDirectory(Path.Combine(parent, "seed=1"));
        File.WriteAllText(Path.Combine(parent, "seed=1", "model.ckpt"), "seed 1 model");

        var guard = new OutputGuard(s0);
        guard.Begin("b2-1", "b2-d1-a.seed_0-1", "b2");
        Assert.Equal([], Directory.EnumerateFileSystemEntries(s0.RunDir).Select(Path.GetFileName));
        File.WriteAllText(s0.Outputs[0], "seed 0 model");
        guard.Commit();

        Assert.Equal(["kdgat.manifest.json", "model.ckpt", "seed=0", "seed=1"], Directory.EnumerateFileSystemEntries(parent).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("unswept model", File.ReadAllText(Path.Combine(parent, "model.ckpt")));
        Assert.Equal("seed 1 model", File.ReadAllText(Path.Combine(parent, "seed=1", "model.ckpt")));
    }

    /// <summary>
    /// Only an NFS silly-rename ghost stays in the run dir: a stage's `.nfs_scratch` or `.meta.tmp` is what
    /// an earlier attempt left, moved aside like any leftover, and so is the temp file of an atomic write a
    /// killed attempt left (KdGat's naming, the bundled stages' too: a half-written checkpoint's stayed
    /// through every later attempt; a crash-injection review). The commit drops them.
    /// </summary>
    [Fact]
    public void Begin_LeavesOnlyNfsGhosts_AndMovesKilledWritesTempsAndNamesThatLookLikeGhosts()
    {
        GoodResult("v1");
        const string nfs = ".nfs0000000000a1b2c300000001", temp = ".kdgat.manifest.json.host-1.0123456789abcdef0123456789abcdef.tmp",
            stageTemp = ".model.ckpt.4242.0123456789abcdef0123456789abcdef.tmp";
        foreach (var name in new[] { nfs, temp, stageTemp, ".nfs_scratch", ".meta.tmp" }) File.WriteAllText(Path.Combine(_s.RunDir, name), name);
        var guard = new OutputGuard(_s);

        guard.Begin("b2-1", "b2-d1-a-1", "b2");

        Assert.Equal([nfs], Directory.EnumerateFileSystemEntries(_s.RunDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        GoodResult("v2");
        guard.Commit();
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(_s.RunDir).Select(Path.GetFileName), n => n!.EndsWith(".tmp", StringComparison.Ordinal));
    }

    /// <summary>A good result with a checkpoint beside it in the run dir, and the next attempt begun (the checkpoint moved aside).</summary>
    private OutputGuard BegunOverACheckpoint()
    {
        GoodResult("v1");
        File.WriteAllText(Path.Combine(_s.RunDir, "last.ckpt"), "checkpoint v1");
        var guard = new OutputGuard(_s);
        guard.Begin("b2-1", "b2-d1-a-1", "b2");
        return guard;
    }

    /// <summary>A journal damaged while leftovers were aside: they are kept under unrecovered/, not deleted with aside/.</summary>
    [Fact]
    public async Task RecoverIfNeeded_DamagedJournal_KeepsTheLeftoversItCannotPlace()
    {
        var crashed = BegunOverACheckpoint();
        File.WriteAllText(Path.Combine(crashed.StateDir, "attempt.json"), "{ torn");

        await new OutputGuard(_s).RecoverIfNeededAsync();

        Assert.True(Check().UpToDate);
        var kept = Assert.Single(Directory.GetFiles(crashed.UnrecoveredDir, "leftover*", SearchOption.AllDirectories));
        Assert.Equal("checkpoint v1", File.ReadAllText(kept));
    }

    /// <summary>A declared input the user keeps in the run dir is not a leftover (it is hashed into the fingerprint).</summary>
    [Fact]
    public void Begin_LeavesDeclaredInputsInTheRunDir()
    {
        using var p = new TestPipeline("""
            datasets: [d1]
            paths: { runs: runs }
            stages:
              a: { command: x, inputs: ['{run_dir}/config.json', '{run_dir}/extra/*.txt'], outputs: [model.ckpt] }
            """);
        var s = p.Instances([new("a", [])]).Single();
        Directory.CreateDirectory(Path.Combine(s.RunDir, "extra"));
        File.WriteAllText(Path.Combine(s.RunDir, "config.json"), "{}");
        File.WriteAllText(Path.Combine(s.RunDir, "extra", "x.txt"), "x");
        File.WriteAllText(Path.Combine(s.RunDir, "last.ckpt"), "left");

        new OutputGuard(s).Begin("b1-1", "b1-d1-a-1", "b1");

        Assert.Equal(["config.json", "extra"], Directory.EnumerateFileSystemEntries(s.RunDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    /// <summary>A crash while the leftovers are moved aside, or while the attempt runs: recovery puts them back with the previous result.</summary>
    [Fact]
    public async Task RecoverIfNeeded_PutsLeftoversBack()
    {
        var crashed = BegunOverACheckpoint();
        crashed.Started(AttemptHandle.Process(999999999), "b2-d1-a-1", "b2");
        File.WriteAllText(Path.Combine(_s.RunDir, "last.ckpt"), "checkpoint v2, partial");

        Assert.NotNull(await new OutputGuard(_s).RecoverIfNeededAsync());

        Assert.Equal("checkpoint v1", File.ReadAllText(Path.Combine(_s.RunDir, "last.ckpt")));
        Assert.True(Check().UpToDate);
    }

    /// <summary>
    /// An attempt whose processes dropped the environment (`exec env -i ...`, `apptainer exec --cleanenv`) carry no
    /// attempt id: after its build died they outlived recovery and wrote into the next attempt's outputs (a review).
    /// The journalled process group is stopped too, its leader known by pid and start time; a group the journal
    /// does not name, or a pid now held by a process of another start time, is left alone.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RecoverIfNeeded_StopsTheJournalledProcessGroup_WhoseProcessesDroppedTheAttemptId(bool leaderAlive)
    {
        // The leader waits, or exits soon after its start was journalled.
        var (crashed, leader) = await CrashedWithAGroupWithoutTheAttemptId(leaderAlive ? "sleep 60 & sleep 60" : "sleep 60 & sleep 60 & sleep 2; exit 0");
        using var _ = leader;
        if (!leaderAlive) await Eventually.UntilAsync(() => !Sh.IsRunning(leader.Id), TimeSpan.FromSeconds(10), "the leader exited");
        using var bystander = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("setsid", ["env", "-i", "/bin/sh", "-c", "sleep 60"]))!;

        Assert.NotNull(await new OutputGuard(_s).RecoverIfNeededAsync());

        await Eventually.UntilAsync(() => Sh.LiveInGroup(leader.Id).Length == 0, TimeSpan.FromSeconds(10), "the journalled group is stopped");
        Assert.True(Sh.IsRunning(bystander.Id));
        bystander.Kill(entireProcessTree: true);
        Assert.True(Check().UpToDate);
    }

    /// <summary>
    /// A good result, then an attempt begun and started as a new session (its own group, as a stage's shell leads one)
    /// running <paramref name="script"/> without KDGAT_ATTEMPT_ID anywhere; the build dies there.
    /// </summary>
    private async Task<(OutputGuard Crashed, System.Diagnostics.Process Leader)> CrashedWithAGroupWithoutTheAttemptId(string script)
    {
        GoodResult("v1");
        var crashed = new OutputGuard(_s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2");
        var leader = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("setsid", ["env", "-i", "/bin/sh", "-c", script]))!;
        await Eventually.UntilAsync(() => Sh.LiveInGroup(leader.Id).Length >= 2, TimeSpan.FromSeconds(10), "the group's sleeps started");
        crashed.Started(AttemptHandle.Process(leader.Id), "b2-d1-a-1", "b2");
        return (crashed, leader);
    }

    /// <summary>Start times count from the boot: a journal of another boot names no live process (after a reboot a pid and its group may be anyone's).</summary>
    [Fact]
    public async Task RecoverIfNeeded_AJournalOfAnotherBoot_StopsNoProcessGroup()
    {
        var (crashed, group) = await CrashedWithAGroupWithoutTheAttemptId("sleep 60 & sleep 60");
        try
        {
            var journal = Path.Combine(crashed.StateDir, "attempt.json");
            var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(journal))!;
            Assert.NotNull(node["BootId"]?.GetValue<string>());
            node["BootId"] = "another-boot";
            File.WriteAllText(journal, node.ToJsonString());

            Assert.NotNull(await new OutputGuard(_s).RecoverIfNeededAsync());

            Assert.Equal(3, Sh.LiveInGroup(group.Id).Length);
        }
        finally { foreach (var pid in Sh.LiveInGroup(group.Id)) System.Diagnostics.Process.GetProcessById(pid).Kill(); group.Dispose(); }
    }

    /// <summary>
    /// What a downstream notes of its upstream (<see cref="OutputGuard.Mark"/>): replaced by every attempt's start and
    /// end; during another build's attempt never equal to a later mark (a stage that started and ended inside one
    /// foreign attempt, which wrote the same bytes again, read the outputs aside and was committed: a review).
    /// </summary>
    [Fact]
    public void Mark_ChangesWithEveryAttempt_AndDuringAnotherBuildsAttemptNeverRepeats()
    {
        GoodResult("v1");
        var before = new OutputGuard(_s).Mark("b1");
        Assert.Equal(before, new OutputGuard(_s).Mark("b1"));

        var other = new OutputGuard(_s);
        other.Begin("b2-1", "b2-d1-a-1", "b2");
        var during = new OutputGuard(_s).Mark("b1");
        Assert.NotEqual(during, new OutputGuard(_s).Mark("b1"));
        Assert.NotEqual(before, new OutputGuard(_s).Mark("b2")); // the attempt's own build sees the new generation
        Assert.Equal(new OutputGuard(_s).Mark("b2"), new OutputGuard(_s).Mark("b2"));
        GoodResult("v1");
        other.Commit();

        var after = new OutputGuard(_s).Mark("b1");
        Assert.NotEqual(before, after);
        Assert.Equal(after, new OutputGuard(_s).Mark("b1"));
        var rolledBack = new OutputGuard(_s);
        rolledBack.Begin("b3-1", "b3-d1-a-1", "b3");
        rolledBack.Abort();
        Assert.NotEqual(after, new OutputGuard(_s).Mark("b1"));
    }

    /// <summary>
    /// The end of an attempt on a full disk (quota), where the new generation cannot be written: the journal was kept,
    /// so the next build called the attempt, failed and reported already, interrupted (KDG2003; a quota review). The
    /// journal now goes all the same, renamed over the generation, which still changes with every attempt.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task EndOfAnAttempt_NoRoomForTheGeneration_TheJournalGoesAndTheGenerationStillChanges(bool commit)
    {
        GoodResult("v1");
        var marks = new List<string>();
        foreach (var build in new[] { "b2", "b3" })
        {
            var guard = new OutputGuard(_s);
            guard.Begin($"{build}-1", $"{build}-d1-a-1", build);
            marks.Add(guard.Mark(build)); // the generation, as a downstream of the attempt's own build notes it
            if (commit) GoodResult(build); else WriteOutputs($"{build}-half-written");
            // The generation's temp file, after a rollback's moves (and, the second time, clearing failed/).
            var plan = new KdGat.Core.IO.CrashPoints.Plan(commit ? 1 : build == "b2" ? 6 : 7, KdGat.Core.IO.CrashPoints.Mode.Fail);
            KdGat.Core.IO.CrashPoints.Current = plan;
            try { if (commit) guard.Commit(); else guard.Abort(); }
            finally { KdGat.Core.IO.CrashPoints.Current = null; }
            Assert.Matches(@" write .*/\.generation\..*\.tmp$", plan.Seen[plan.At - 1]);

            Assert.False(File.Exists(Path.Combine(guard.StateDir, "attempt.json")));
            Assert.Null(await new OutputGuard(_s).RecoverIfNeededAsync());
            Assert.Equal(commit ? $"model {build}" : "model v1", Model());
            marks.Add(new OutputGuard(_s).Mark("b1"));
            Assert.Equal(marks[^1], new OutputGuard(_s).Mark("b1"));
        }
        Assert.Equal(marks.Count, marks.Distinct().Count()); // each attempt's start and end, as a downstream started before it compares
    }

    [Fact]
    public async Task RecoverIfNeeded_NoJournal_DoesNothing()
    {
        GoodResult("v1");

        Assert.Null((await new OutputGuard(_s).RecoverIfNeededAsync()));
        Assert.True(Check().UpToDate);
    }

    [Fact]
    public async Task RecoverIfNeeded_CrashMidAttempt_RestoresPreviousResultAndQuarantinesPartial()
    {
        GoodResult("v1");
        var crashed = new OutputGuard(_s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2");
        crashed.Started(AttemptHandle.Process(999999999), "b2-d1-a-1", "b2");
        WriteOutputs("v2-partial");
        // The build dies here: no Commit, no Abort.

        var message = (await new OutputGuard(_s).RecoverIfNeededAsync());

        Assert.NotNull(message);
        Assert.Contains("attempt b2-1 of d1/a was interrupted", message);
        Assert.Equal("model v1", Model());
        Assert.True(Check().UpToDate);
        Assert.Equal("model v2-partial", File.ReadAllText(Path.Combine(crashed.FailedDir, "0-model.ckpt")));
        Assert.Null((await new OutputGuard(_s).RecoverIfNeededAsync())); // done once
    }

    /// <summary>squeue and scancel as a cluster that answers every query with an error.</summary>
    private sealed class FailingSlurm : KdGat.Core.Execution.Slurm.ICommandRunner
    {
        public Task<KdGat.Core.Execution.Slurm.CommandOutput> RunAsync(string file, IReadOnlyList<string> args, string? workingDir, CancellationToken cancel) =>
            Task.FromResult(new KdGat.Core.Execution.Slurm.CommandOutput(1, "", "squeue: error: Invalid user for SlurmUser"));
    }

    /// <summary>
    /// An interrupted attempt's job may still write into the run dir while SLURM cannot say whether it
    /// runs: recovery (and so the stage's new run) waits. Before, it went on, and the old job rewrote
    /// the new run's outputs (a review reproduced it with -p:Executor=local while squeue failed).
    /// </summary>
    [Fact]
    public async Task RecoverIfNeeded_ABatchJobSlurmCannotAccountFor_IsKdg4010_AndLeavesEverythingInPlace()
    {
        GoodResult("v1");
        var crashed = new OutputGuard(_s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2");
        crashed.Started(AttemptHandle.BatchJob("4711"), "b2-d1-a-1", "b2");
        WriteOutputs("v2-partial");

        var e = await Assert.ThrowsAsync<KdGat.Core.Diagnostics.KdgException>(() => new OutputGuard(_s) { SlurmCommands = new FailingSlurm() }.RecoverIfNeededAsync());

        Assert.Equal(KdGat.Core.Diagnostics.ErrorCodes.SlurmOrphanUnknown, e.Code);
        Assert.Contains("4711", e.Message);
        Assert.Equal("model v2-partial", Model()); // nothing moved: the journal still describes the attempt
        var journal = new OutputGuard(_s).ReadJournal();
        Assert.NotNull(journal);
        // Which process the build was, beyond its pid (Status: a pid taken since is not the build).
        Assert.Equal(KdGat.Core.Execution.Local.AttemptProcesses.StartTicksOf(Environment.ProcessId), journal!.BuildStartTicks);
    }

    /// <summary>
    /// No squeue here means "no job" only on the host that submitted it: a journal from another host (a
    /// .kdgat shared over NFS, read from a machine without SLURM) says nothing about this machine's
    /// tools, so its job may still write: KDG4010 (review). On its own host, recovery goes on.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RecoverIfNeeded_AJournalledJob_WhereNoSqueueIsInstalled_IsNoJobOnlyOnTheHostThatSubmittedIt(bool sameHost)
    {
        GoodResult("v1");
        var crashed = new OutputGuard(_s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2");
        crashed.Started(AttemptHandle.BatchJob("4711"), "b2-d1-a-1", "b2");
        WriteOutputs("v2-partial");
        if (!sameHost)
        {
            var journal = Directory.GetFiles(_s.Layout.Root, "attempt.json", SearchOption.AllDirectories).Single();
            File.WriteAllText(journal, File.ReadAllText(journal).Replace($"\"{Environment.MachineName}\"", "\"login-node-7\"", StringComparison.Ordinal));
        }
        var noSlurm = new ScriptedSlurm((f, _) => new(127, "", $"{f}: No such file or directory"));

        if (sameHost)
        {
            Assert.NotNull(await new OutputGuard(_s) { SlurmCommands = noSlurm }.RecoverIfNeededAsync());
            Assert.Equal("model v1", Model());
            return;
        }
        var e = await Assert.ThrowsAsync<KdGat.Core.Diagnostics.KdgException>(() => new OutputGuard(_s) { SlurmCommands = noSlurm }.RecoverIfNeededAsync());
        Assert.Equal(KdGat.Core.Diagnostics.ErrorCodes.SlurmOrphanUnknown, e.Code);
        Assert.Equal("model v2-partial", Model());
    }

    /// <summary>squeue, scancel as a scripted cluster: each call is recorded and answered by <c>answer(file, args)</c>.</summary>
    private sealed class ScriptedSlurm(Func<string, IReadOnlyList<string>, KdGat.Core.Execution.Slurm.CommandOutput> answer) : KdGat.Core.Execution.Slurm.ICommandRunner
    {
        public List<string> Calls { get; } = [];
        public Task<KdGat.Core.Execution.Slurm.CommandOutput> RunAsync(string file, IReadOnlyList<string> args, string? workingDir, CancellationToken cancel)
        {
            lock (Calls) Calls.Add(file + " " + string.Join(' ', args));
            return Task.FromResult(answer(file, args));
        }
    }

    /// <summary>
    /// An attempt whose sbatch SLURM never confirmed (killed, then squeue failing too: KDG4003, no job id
    /// journalled). Before, the next build whose lookup failed again took it for a local attempt: no
    /// scancel, the stage rolled back and ran again while the job it may have created could still write.
    /// </summary>
    [Fact]
    public async Task RecoverIfNeeded_AnUnconfirmedSubmissionSlurmStillCannotAnswerFor_IsKdg4010_NamingTheComment_AndKeepsTheJournal()
    {
        GoodResult("v1");
        var crashed = new OutputGuard(_s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2", fingerprint: "fp", submits: true);
        WriteOutputs("v2-partial"); // what the job it may have created wrote

        var slurm = new ScriptedSlurm((_, _) => new(1, "", "squeue: error: Socket timed out on send/recv operation"));
        var e = await Assert.ThrowsAsync<KdGat.Core.Diagnostics.KdgException>(() => new OutputGuard(_s) { SlurmCommands = slurm }.RecoverIfNeededAsync());

        Assert.Equal(KdGat.Core.Diagnostics.ErrorCodes.SlurmOrphanUnknown, e.Code);
        Assert.Contains("kdgat-b2-1", e.Message);
        Assert.Contains("squeue --me", e.Message);
        Assert.Contains("scancel", e.Message);
        Assert.Equal("model v2-partial", Model());
        Assert.NotNull(new OutputGuard(_s).ReadJournal());
    }

    /// <summary>A build of any executor on a machine without SLURM tools cannot tell either: KDG4010, not "no job".</summary>
    [Fact]
    public async Task RecoverIfNeeded_AnUnconfirmedSubmissionWhereNoSqueueIsInstalled_IsKdg4010()
    {
        GoodResult("v1");
        new OutputGuard(_s).Begin("b2-1", "b2-d1-a-1", "b2", fingerprint: "fp", submits: true);

        var slurm = new ScriptedSlurm((f, _) => new(127, "", $"{f}: No such file or directory"));
        var e = await Assert.ThrowsAsync<KdGat.Core.Diagnostics.KdgException>(() => new OutputGuard(_s) { SlurmCommands = slurm }.RecoverIfNeededAsync());

        Assert.Equal(KdGat.Core.Diagnostics.ErrorCodes.SlurmOrphanUnknown, e.Code);
        Assert.Contains("not installed", e.Message);
        Assert.NotNull(new OutputGuard(_s).ReadJournal());
    }

    /// <summary>The way out where squeue never answers: KDGAT_ASSUME_NO_SLURM_JOB naming the job's comment recovers as after any crash, the previous result put back (deleting the journal would lose it).</summary>
    [Fact]
    public async Task RecoverIfNeeded_AnUnconfirmedSubmission_WithNoJobAssumed_RollsBackToThePreviousResult()
    {
        GoodResult("v1");
        new OutputGuard(_s).Begin("b2-1", "b2-d1-a-1", "b2", fingerprint: "fp", submits: true);
        WriteOutputs("v2-partial");
        var slurm = new ScriptedSlurm((f, _) => new(127, "", $"{f}: No such file or directory"));

        var first = await Assert.ThrowsAsync<KdGat.Core.Diagnostics.KdgException>(() => new OutputGuard(_s) { SlurmCommands = slurm }.RecoverIfNeededAsync());
        Assert.Contains(OutputGuard.AssumeNoUnconfirmedJobVariable + "=kdgat-b2-1", first.Message);

        string? message;
        try
        {
            // Another job's comment (a value left exported) covers nothing: still KDG4010, journal kept.
            Environment.SetEnvironmentVariable(OutputGuard.AssumeNoUnconfirmedJobVariable, "kdgat-b1-1");
            await Assert.ThrowsAsync<KdGat.Core.Diagnostics.KdgException>(() => new OutputGuard(_s) { SlurmCommands = slurm }.RecoverIfNeededAsync());
            Assert.Equal("model v2-partial", Model());

            Environment.SetEnvironmentVariable(OutputGuard.AssumeNoUnconfirmedJobVariable, "kdgat-b1-1,kdgat-b2-1");
            message = await new OutputGuard(_s) { SlurmCommands = slurm }.RecoverIfNeededAsync();
        }
        finally { Environment.SetEnvironmentVariable(OutputGuard.AssumeNoUnconfirmedJobVariable, null); }

        Assert.Contains("kdgat-b2-1 was taken as ended", message);
        Assert.Equal("model v1", Model());
        Assert.Null(new OutputGuard(_s).ReadJournal());
    }

    /// <summary>When SLURM answers and lists the job, it is cancelled (by its comment) before the rollback, and named.</summary>
    [Fact]
    public async Task RecoverIfNeeded_AnUnconfirmedSubmissionWhoseJobSlurmLists_CancelsThatJob_ThenRollsBack()
    {
        GoodResult("v1");
        new OutputGuard(_s).Begin("b2-1", "b2-d1-a-1", "b2", fingerprint: "fp", submits: true);
        WriteOutputs("v2-partial");

        var slurm = new ScriptedSlurm((f, args) => f switch
        {
            "squeue" when args.Contains("-j") => new(0, "4711|RUNNING|None\n", ""),
            "squeue" => new(0, "4700|kdgat-other\n4711|kdgat-b2-1\n", ""),
            "scancel" => new(0, "", ""),
            _ => new(1, "", "unexpected"),
        });
        var guard = new OutputGuard(_s) { SlurmCommands = slurm };
        var message = await guard.RecoverIfNeededAsync();

        Assert.Contains("scancel 4711", slurm.Calls);
        Assert.Equal("4711", guard.CancelledJob);
        Assert.Contains("job 4711 was cancelled", message);
        Assert.Equal("model v1", Model());
        Assert.Null(new OutputGuard(_s).ReadJournal());
    }

    /// <summary>A local attempt's journal (submits: false) never asks SLURM: a failing squeue does not hold it up.</summary>
    [Fact]
    public async Task RecoverIfNeeded_ALocalAttemptWithoutPid_DoesNotAskSlurm()
    {
        GoodResult("v1");
        new OutputGuard(_s).Begin("b2-1", "b2-d1-a-1", "b2", fingerprint: "fp", submits: false);

        var slurm = new ScriptedSlurm((_, _) => new(1, "", "squeue: error: Socket timed out"));
        Assert.NotNull(await new OutputGuard(_s) { SlurmCommands = slurm }.RecoverIfNeededAsync());

        Assert.Empty(slurm.Calls);
        Assert.Equal("model v1", Model());
    }

    [Fact]
    public async Task RecoverIfNeeded_CrashOnFirstAttempt_LeavesStageStale()
    {
        var crashed = new OutputGuard(_s);
        crashed.Begin("b1-1", "b1-d1-a-1", "b1");
        WriteOutputs("v1-partial");

        await new OutputGuard(_s).RecoverIfNeededAsync();

        Assert.False(File.Exists(_s.Outputs[0]));
        Assert.False(Directory.Exists(_s.Outputs[1]));
        Assert.False(Check().UpToDate);
    }

    [Fact]
    public async Task RecoverIfNeeded_CrashAfterNewManifestBeforeCommit_NeverMixesOldAndNew()
    {
        // The new outputs and manifest were complete, but the journal still says "attempt running".
        GoodResult("v1");
        var crashed = new OutputGuard(_s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2");
        GoodResult("v2");

        await new OutputGuard(_s).RecoverIfNeededAsync();

        var v = Check();
        Assert.True(v.UpToDate);
        Assert.Equal("v1", v.Previous!.BuildId);
        Assert.Equal("model v1", Model());
        Assert.Equal("graphs v1", Graphs());
    }

    [Fact]
    public async Task RecoverIfNeeded_CrashAfterManifestAndRecordBeforeCommit_KeepsTheCommittedResult()
    {
        GoodResult("v1");
        var crashed = new OutputGuard(_s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2");
        GoodResult("b2"); // the new manifest (build b2, attempt 1) over complete new outputs
        _p.Dir.Write(".kdgat/records/d1/a/20260101T000000.000Z-b2-d1-a-1.json", "{}"); // and its run record
        // The build dies before deleting the journal.

        var message = (await new OutputGuard(_s).RecoverIfNeededAsync());

        Assert.Contains("had committed", message);
        Assert.Equal("model b2", Model());
        Assert.True(Check().UpToDate);
        Assert.False(Directory.Exists(Path.Combine(crashed.StateDir, "aside")));
    }

    /// <summary>
    /// Abort after the attempt committed (manifest and run record written, the journal's deletion
    /// failed, then a later file error reached the runner's rollback): the committed result stays, as
    /// recovery keeps it; it is never rolled back to the previous one (a diff review).
    /// </summary>
    [Fact]
    public void Abort_AfterTheAttemptCommitted_KeepsTheCommittedResult()
    {
        GoodResult("v1");
        var guard = new OutputGuard(_s);
        guard.Begin("b2-1", "b2-d1-a-1", "b2");
        GoodResult("b2");
        _p.Dir.Write(".kdgat/records/d1/a/20260101T000000.000Z-b2-d1-a-1.json", "{}");

        guard.Abort();

        Assert.Equal("model b2", Model());
        Assert.True(Check().UpToDate);
        Assert.Null(guard.ReadJournal());
        Assert.False(Directory.Exists(Path.Combine(guard.StateDir, "aside")));
    }

    [Fact]
    public async Task RecoverIfNeeded_CrashWhileMovingAside_PutsBackWithoutTouchingTheRunDir()
    {
        GoodResult("v1");
        var guard = new OutputGuard(_s);
        var plan = new KdGat.Core.IO.CrashPoints.Plan(9, KdGat.Core.IO.CrashPoints.Mode.Crash); // generation and journal (write, close, rename each), manifest and output 0 moved; crash moving output 1
        KdGat.Core.IO.CrashPoints.Current = plan;
        try { Assert.Throws<KdGat.Core.IO.SimulatedCrashException>(() => guard.Begin("b2-1", "b2-d1-a-1", "b2")); }
        finally { KdGat.Core.IO.CrashPoints.Current = null; }
        Assert.Contains("rename " + _s.Outputs[1], plan.Seen[^1]);

        var message = (await new OutputGuard(_s).RecoverIfNeededAsync());

        Assert.Contains("before it started", message);
        Assert.True(Check().UpToDate);
        Assert.Equal("model v1", Model());
        Assert.Equal("graphs v1", Graphs());
        Assert.False(Directory.Exists(guard.FailedDir));
    }

    /// <summary>A torn journal, or a directory in its place (which recovery took for no journal and so deleted aside/ with the previous result; found by review).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RecoverIfNeeded_DamagedJournal_StillRestores(bool directory)
    {
        GoodResult("v1");
        var crashed = new OutputGuard(_s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2");
        WriteOutputs("v2-partial");
        var journal = Path.Combine(crashed.StateDir, "attempt.json");
        if (directory) { File.Delete(journal); Directory.CreateDirectory(journal); }
        else File.WriteAllText(journal, "{ torn");

        var message = (await new OutputGuard(_s).RecoverIfNeededAsync());

        Assert.Contains("attempt ? of d1/a", message);
        Assert.Equal("model v1", Model());
        Assert.True(Check().UpToDate);
        Assert.False(Path.Exists(journal));
        new OutputGuard(_s).Begin("b3-1", "b3-d1-a-1", "b3"); // the next attempt can journal again
    }

    [Fact]
    public async Task RecoverIfNeeded_OrphanStageProcessOfThisAttempt_IsKilled()
    {
        GoodResult("v1");
        var crashed = new OutputGuard(_s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2");
        // A stage process that outlived its build: own process group, carrying the attempt id.
        var orphan = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("setsid", ["sleep", "60"])
        {
            Environment = { ["KDGAT_ATTEMPT_ID"] = "b2-1" },
        })!;
        try
        {
            crashed.Started(AttemptHandle.Process(orphan.Id), "b2-d1-a-1", "b2");
            // Like a spawned stage, the orphan leads its own process group (once setsid has run).
            // Wait until setsid has exec'd sleep, so the process checked is the one that stays.
            SpinWait.SpinUntil(() => ProcessGroupOf(orphan.Id) == orphan.Id && Stat(orphan.Id).Contains("(sleep)"), 15000);
            Assert.Equal(orphan.Id, ProcessGroupOf(orphan.Id));

            await new OutputGuard(_s).RecoverIfNeededAsync();

            Assert.True(orphan.WaitForExit(15000), $"the orphan was not stopped: {Stat(orphan.Id)}");
            Assert.Equal("model v1", Model());
        }
        finally
        {
            if (!orphan.HasExited) orphan.Kill();
        }
    }

    /// <summary>
    /// A checkout copied (cp -a, rsync) while a build ran a stage in it: the copy's first build recovered
    /// the copied journal and stopped the original's running stage (its processes carry the attempt id), and
    /// a journalled SLURM job would have been cancelled, found by comment (a review). A journal that came
    /// with a copy is recovered in the copy only; the original's process runs on.
    /// </summary>
    /// <param name="samePath">
    /// The state dir has new inodes at the same path: a tree moved to another file system and linked back, or restored
    /// from a backup. Not a copy: a process writing by absolute path writes into it, so it is stopped (a review of the
    /// inode-only check left it writing).
    /// </param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RecoverIfNeeded_AJournalThatCameWithACopiedTree_RollsBackHere_AndLeavesTheOriginalsProcessAlone(bool samePath)
    {
        GoodResult("v1");
        var crashed = new OutputGuard(_s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2");
        var original = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("setsid", ["sleep", "60"])
        {
            Environment = { ["KDGAT_ATTEMPT_ID"] = "b2-1" },
        })!;
        try
        {
            crashed.Started(AttemptHandle.Process(original.Id), "b2-d1-a-1", "b2");
            SpinWait.SpinUntil(() => ProcessGroupOf(original.Id) == original.Id && Stat(original.Id).Contains("(sleep)"), 15000);
            WriteOutputs("v2-partial");
            CopiedHere(crashed.StateDir, from: samePath ? null : "/elsewhere/runs/d1/.kdgat/a");

            var said = await new OutputGuard(_s).RecoverIfNeededAsync();

            Assert.Equal(!samePath, said!.Contains("copied from", StringComparison.Ordinal));
            Assert.Equal("model v1", Model());
            Assert.Null(new OutputGuard(_s).ReadJournal());
            if (samePath) Assert.True(original.WaitForExit(10_000), "a process of this tree's attempt was left running");
            else Assert.False(original.WaitForExit(500), "the original tree's stage was stopped by the copy's recovery");
        }
        finally
        {
            if (!original.HasExited) original.Kill();
        }
    }

    /// <summary>The same for a journalled SLURM job: neither re-attached to nor cancelled, and SLURM is not asked (it would be KDG4010 here).</summary>
    [Fact]
    public async Task RecoverIfNeeded_AJournalledJobThatCameWithACopiedTree_IsNotTheCopysJob()
    {
        GoodResult("v1");
        var crashed = new OutputGuard(_s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2", fingerprint: "f", submits: true);
        crashed.Started(AttemptHandle.BatchJob("4711"), "b2-d1-a-1", "b2");
        WriteOutputs("v2-partial");
        CopiedHere(crashed.StateDir, from: "/elsewhere/runs/d1/.kdgat/a");

        var guard = new OutputGuard(_s) { SlurmCommands = new FailingSlurm() };
        Assert.Null(await guard.InterruptedBatchJobAsync(_ => throw new InvalidOperationException("asked SLURM"), (_, _, _, _) => Task.FromResult<bool?>(true)));
        Assert.Contains("copied from", await guard.RecoverIfNeededAsync());
        Assert.Equal("model v1", Model());
    }

    /// <summary>
    /// What cp -a of the tree gives: the state dir replaced by a copy of it (new inodes, the same files); with
    /// <paramref name="from"/>, its journal written at that other place, as a copy's is.
    /// </summary>
    private static void CopiedHere(string dir, string? from)
    {
        var copy = dir + ".copy";
        foreach (var d in Directory.GetDirectories(dir, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(Path.Combine(copy, Path.GetRelativePath(dir, d)));
        Directory.CreateDirectory(copy);
        foreach (var f in Directory.GetFiles(dir, "*", SearchOption.AllDirectories)) File.Copy(f, Path.Combine(copy, Path.GetRelativePath(dir, f)));
        Directory.Delete(dir, recursive: true);
        Directory.Move(copy, dir);
        if (from is null) return;
        var journal = Path.Combine(dir, "attempt.json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(journal))!;
        node["StateDirPath"] = from;
        File.WriteAllText(journal, node.ToJsonString());
    }

    private static string Stat(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat"); }
        catch (IOException) { return "(gone)"; }
    }

    private static int ProcessGroupOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[2]);
        }
        catch (IOException) { return -1; }
    }

    [Fact]
    public async Task RecoverIfNeeded_UnrelatedProcessWithJournaledPid_IsLeftAlone()
    {
        GoodResult("v1");
        var crashed = new OutputGuard(_s);
        crashed.Begin("b2-1", "b2-d1-a-1", "b2");
        var other = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("setsid", ["sleep", "60"])
        {
            Environment = { ["KDGAT_ATTEMPT_ID"] = "some-other-attempt" },
        })!;
        try
        {
            crashed.Started(AttemptHandle.Process(other.Id), "b2-d1-a-1", "b2");
            // The journalled leader started before this process took its pid (a pid reused after the build died).
            var journal = Path.Combine(crashed.StateDir, "attempt.json");
            var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(journal))!;
            node["StartTicks"] = node["StartTicks"]!.GetValue<long>() - 1;
            File.WriteAllText(journal, node.ToJsonString());

            await new OutputGuard(_s).RecoverIfNeededAsync();

            Assert.False(other.WaitForExit(300));
        }
        finally
        {
            other.Kill();
            other.WaitForExit();
        }
    }
}
