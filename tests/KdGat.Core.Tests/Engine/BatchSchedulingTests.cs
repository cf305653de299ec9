using System.Collections.Concurrent;
using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Execution;
using KdGat.Core.Execution.Local;
using KdGat.Core.Tests.Support;
using KdGat.Testing;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// The engine's batch path (what SLURM uses) against an in-memory batch system with afterok
/// semantics: jobs run through the local executor once their dependencies ended well, and are
/// "cancelled for a dependency" when one did not. The real cluster is in KdGat.Slurm.Tests.
/// </summary>
[Trait("Category", "Unit")]
public sealed class BatchSchedulingTests : IDisposable
{
    /// <param name="lostStage">This stage's job comes back as SLURM's watcher gives it up (squeue kept failing): left running, contact lost.</param>
    private sealed class FakeBatch(int holdUntilSubmitted, string? lostStage = null) : IStageExecutor
    {
        private readonly LocalExecutor _local = new(4);
        private readonly ConcurrentDictionary<string, TaskCompletionSource<ExecState>> _jobs = new();
        private readonly TaskCompletionSource _allSubmitted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _next;
        public ConcurrentDictionary<string, (string Id, IReadOnlyList<string> AfterOk)> Submitted { get; } = new();
        public string Name => "fake-batch";
        public int MaxParallel => 1000;
        public bool SubmitsAhead => true;

        public async Task<ExecutionResult> RunAsync(StageJob job, CancellationToken cancel)
        {
            // As SlurmExecutor: a stage with executor: local runs here, not as a job.
            if (job.Instance.Config.Executor == KdGat.Core.Config.ExecutorKind.Local && job.AttachTo is not { IsBatchJob: true }) return await _local.RunAsync(job, cancel);
            var id = Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var done = _jobs.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
            Submitted[job.Instance.Name + "#" + job.Attempt] = (id, job.AfterOk);
            job.OnStarted?.Invoke(AttemptHandle.BatchJob(id));
            if (Submitted.Count >= holdUntilSubmitted) _allSubmitted.TrySetResult();
            await _allSubmitted.Task.WaitAsync(TimeSpan.FromSeconds(30), cancel);
            if (job.Instance.Name == lostStage)
            {
                done.SetResult(ExecState.LeftRunning);
                return new ExecutionResult { State = ExecState.LeftRunning, Handle = AttemptHandle.BatchJob(id), Detail = "squeue has failed for 30 minutes", LostContact = true };
            }
            var deps = await Task.WhenAll(job.AfterOk.Select(d => _jobs[d].Task));
            if (deps.Any(d => d != ExecState.Completed))
            {
                done.SetResult(ExecState.UpstreamFailed);
                return new ExecutionResult { State = ExecState.UpstreamFailed, Handle = AttemptHandle.BatchJob(id), Detail = "DependencyNeverSatisfied" };
            }
            var r = await _local.RunAsync(job, cancel);
            done.SetResult(r.State);
            return r with { Handle = AttemptHandle.BatchJob(id) };
        }
    }

    private readonly TestPipeline _p = new(KdGatGraph.Yaml(), "d1");
    public void Dispose() => _p.Dispose();

    private async Task<BuildReport> Build(FakeBatch batch)
    {
        var log = new RecordingLog();
        return await new BuildEngine((_, _) => batch).RunAsync(_p.Request(KdGatGraph.Stages), log, CancellationToken.None);
    }

    private static string[] With(BuildReport r, string outcome) =>
        r.Stages.Where(s => s.Outcome == outcome).Select(s => s.Stage).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task EveryStaleStage_IsSubmittedBeforeAnyJobRuns_ChainedOnItsUpstreamJobs()
    {
        var batch = new FakeBatch(holdUntilSubmitted: 13); // no job runs until all 13 are submitted
        var r = await Build(batch);

        Assert.True(r.Succeeded);
        Assert.Equal(13, With(r, Outcome.Ran).Length);
        var ids = batch.Submitted.ToDictionary(kv => kv.Key.Split('#')[0], kv => kv.Value);
        Assert.Empty(ids["preprocess"].AfterOk);
        Assert.Equal(new[] { "preprocess", "vgae_large_autoencoder" }.Select(n => ids[n].Id).Order(), ids["gat_large_curriculum"].AfterOk.Order());
        Assert.Equal(
            new[] { "dqn_large_fusion", "gat_small_curriculum_kd", "vgae_small_autoencoder_kd", "preprocess" }.Select(n => ids[n].Id).Order(),
            ids["dqn_small_fusion_kd"].AfterOk.Order());
        // Manifests carry real fingerprints: a second build finds everything up to date and submits nothing.
        var again = new FakeBatch(holdUntilSubmitted: 0);
        Assert.Equal(13, With(await Build(again), Outcome.UpToDate).Length);
        Assert.Empty(again.Submitted);
    }

    /// <summary>
    /// A stage with executor: local below a stage that runs as a job cannot be chained on it: it ran at once, on the
    /// job's outputs moved aside ("MISSING"), and was committed as current (a SLURM review). It waits for the job to end;
    /// with the job left running (-p:Wait=false) it is not run, and the build says so.
    /// </summary>
    [Fact]
    public async Task ALocalStageBelowAJob_WaitsForTheJobToEnd()
    {
        using var p = LocalStageBelowAJob("until [ -e {root}/go ]; do sleep 0.05; done; echo a > out.txt");
        var batch = new FakeBatch(holdUntilSubmitted: 1);

        var build = new BuildEngine((_, _) => batch).RunAsync(p.Request([new("a", []), new("c", ["a"])]), new RecordingLog(), CancellationToken.None);
        // a's job ends when told: a c that does not wait for it has run by then (it did within milliseconds).
        try { await Eventually.UntilAsync(() => File.Exists(p.Dir["runs/d1/c/out.txt"]) || build.IsCompleted, TimeSpan.FromSeconds(2), "c ran before a's job ended"); }
        catch (TimeoutException) { } // it waits, as it should
        File.WriteAllText(p.Dir["go"], "");
        var r = await build;

        Assert.True(r.Succeeded);
        Assert.Equal(["a", "c"], With(r, Outcome.Ran));
        Assert.Equal("a\n", File.ReadAllText(p.Dir["runs/d1/c/out.txt"]));
        Assert.Equal(["a#1"], batch.Submitted.Keys); // c ran here, after a's job
    }

    /// <summary>a, a batch job running <paramref name="aCommand"/>, and c below it with executor: local, reading a's output ("MISSING" when it is not there).</summary>
    internal static TestPipeline LocalStageBelowAJob(string aCommand) => new($$"""
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        stages:
          a: { command: '{{aCommand}}', outputs: [out.txt] }
          c: { command: '(cat {upstream.a}/out.txt 2>/dev/null || echo MISSING) > out.txt', executor: local, outputs: [out.txt] }
        """, "d1");

    [Fact]
    public async Task UpToDateUpstreams_NeedNoDependency()
    {
        await Build(new FakeBatch(0));
        _p.WriteConfig(KdGatGraph.Yaml(paramV: new Dictionary<string, string> { ["gat_large_curriculum"] = "2" }));
        var batch = new FakeBatch(6); // the six stale stages, all submitted before any runs
        var r = await Build(batch);

        Assert.Equal(["dqn_large_fusion", "dqn_small_fusion_kd", "eval_large_evaluation", "eval_small_evaluation_kd", "gat_large_curriculum", "gat_small_curriculum_kd"], With(r, Outcome.Ran));
        var ids = batch.Submitted.ToDictionary(kv => kv.Key.Split('#')[0], kv => kv.Value);
        Assert.Empty(ids["gat_large_curriculum"].AfterOk);                             // vgae_large is up to date
        Assert.Equal([ids["gat_large_curriculum"].Id], ids["gat_small_curriculum_kd"].AfterOk); // vgae_small_kd is up to date
    }

    [Fact]
    public async Task AFailedJob_CancelsItsDependents_OthersComplete()
    {
        _p.WriteConfig(KdGatGraph.Yaml(commandOverride: new Dictionary<string, string> { ["gat_large_curriculum"] = "exit 3" }));
        var r = await Build(new FakeBatch(13));

        Assert.False(r.Succeeded);
        Assert.Equal(["gat_large_curriculum"], With(r, Outcome.Failed));
        Assert.Equal(["dqn_large_fusion", "dqn_small_fusion_kd", "eval_large_evaluation", "eval_small_evaluation_kd", "gat_small_curriculum_kd"], With(r, Outcome.Skipped));
        Assert.Equal(7, With(r, Outcome.Ran).Length);
    }

    /// <summary>
    /// The watcher gave a job up because squeue kept failing: the job may still run, so its journal
    /// stays for the next build, but the build fails (KDG4003). It counted as "submitted": the build
    /// said it succeeded and ran on_success.
    /// </summary>
    [Fact]
    public async Task AJobTheBuildLostContactWith_FailsTheBuild_AndStaysJournalled()
    {
        var log = new RecordingLog();
        var r = await new BuildEngine((_, _) => new FakeBatch(13, lostStage: "gat_large_curriculum")).RunAsync(_p.Request(KdGatGraph.Stages), log, CancellationToken.None);

        Assert.False(r.Succeeded);
        Assert.Equal(["gat_large_curriculum"], With(r, Outcome.Failed));
        Assert.Contains(log.Items, i => i.Code == ErrorCodes.SlurmUnavailable);
        var gat = _p.Instances(KdGatGraph.Stages).Single(i => i.Name == "gat_large_curriculum");
        Assert.NotNull(new OutputGuard(gat).ReadJournal()); // the next build re-attaches to the job
    }
}
