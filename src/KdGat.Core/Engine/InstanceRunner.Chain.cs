using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;
using KdGat.Core.Planning;

namespace KdGat.Core.Engine;

/// <summary>
/// The batch-system part of bringing an instance up to date: submitting before upstream jobs have
/// ended (chained with afterok), and re-attaching to a job an interrupted build submitted.
/// </summary>
internal sealed partial class InstanceRunner
{
    /// <summary>An upstream still running as a batch job.</summary>
    private sealed record PendingUpstream(InstanceProgress Progress, string JobId, bool Fresh);

    /// <summary>The upstreams as they stood when this instance could be decided.</summary>
    private sealed record Chain(IReadOnlyList<InstanceProgress> Upstreams, IReadOnlyList<PendingUpstream> Pending, IReadOnlyList<InstanceResult> Finals)
    {
        public static readonly Chain None = new([], [], []);
        public IReadOnlyList<string> JobIds => Pending.Select(p => p.JobId).ToArray();
        public Task<InstanceResult[]> AllFinalsAsync() => Task.WhenAll(Upstreams.Select(u => u.Final));
        /// <summary>Some upstream outputs are new in this build: a job submitted before against the old ones is not reusable.</summary>
        public bool AnyFresh => Pending.Any(p => p.Fresh) || Finals.Any(f => f.Fresh);
    }

    /// <summary>Waits until every upstream has either ended or been submitted (batch executors only); <paramref name="untilEnded"/>: until each has ended (or been left running as a job, -p:Wait=false).</summary>
    private static async Task<Chain> ResolveAsync(IReadOnlyList<InstanceProgress> ups, bool untilEnded = false)
    {
        if (untilEnded) await Task.WhenAll(ups.Select(u => u.Final)).ConfigureAwait(false);
        var handoffs = await Task.WhenAll(ups.Select(u => u.Ready)).ConfigureAwait(false);
        var pending = new List<PendingUpstream>();
        var finals = new List<InstanceResult>();
        for (var i = 0; i < ups.Count; i++)
        {
            if (handoffs[i] is { } h && !ups[i].Final.IsCompleted) { pending.Add(new(ups[i], h.JobId, h.Fresh)); continue; }
            var r = await ups[i].Final.ConfigureAwait(false);
            if (r.Outcome == Outcome.Submitted && r.JobId is { } id) pending.Add(new(ups[i], id, handoffs[i]?.Fresh ?? true));
            else finals.Add(r);
        }
        return new Chain(ups, pending, finals);
    }

    /// <summary>The stage's own fingerprint, without upstream digests: what a journalled job must still match to be re-attached.</summary>
    private string OwnFingerprint(StageInstance s) => _ctx.Planner.OwnFingerprint(s);

    /// <summary>
    /// A job an interrupted build submitted for this stage: re-attach when it still matches the stage
    /// and no upstream was redone by this build; otherwise cancel it so the stage is decided afresh.
    /// </summary>
    private async Task<OutputGuard.BatchAttempt?> ReattachableAsync(StageInstance s, OutputGuard guard, Chain chain)
    {
        if (!_ctx.Executor.SubmitsAhead || await guard.InterruptedBatchJobAsync(_ctx.Executor.FindSubmittedAsync, _ctx.Executor.IsAttemptsJobAsync).ConfigureAwait(false) is not { } job) return null;
        var own = OwnFingerprint(s);
        if (job.Fingerprint == own && !chain.AnyFresh && UpstreamsAsSubmitted(job, chain))
        {
            var line = $"{s.Key}: re-attaching to SLURM job {job.Handle.Id} (attempt {job.Attempt}) submitted by an earlier build (one with -p:Wait=false, or one stopped before it collected the job); it is not submitted again.";
            if (_ctx.FirstReattach()) _ctx.Log.Warn(ErrorCodes.SlurmReattached, line + " (Said once a build; the other jobs re-attached get a line each.)");
            else _ctx.Log.Info($"KdGat: {line}");
            return job;
        }
        var cancelled = await _ctx.Executor.AbandonAsync(job.Handle).ConfigureAwait(false);
        _ctx.Log.Warn(ErrorCodes.SlurmStaleJob, $"{s.Key}: SLURM job {job.Handle.Id} of an earlier build no longer matches the stage ({(job.Fingerprint == own ? "an upstream was redone" : "its command, parameters, inputs or code changed")}); " +
            (cancelled ? "it was cancelled and the stage is decided again." : "scancel of it failed, so it may still run: the stage is not run under it (its run dir stays as the job left it) until SLURM can tell."));
        return null;
    }

    /// <summary>Each upstream as a job submitted now is chained on it: its outputs digest, or job:ID while its job runs.</summary>
    private static Dictionary<string, string> UpstreamBasis(Chain chain)
    {
        var digests = chain.Finals.ToDictionary(f => f.Instance.Name, f => f.OutputsDigest ?? "-");
        foreach (var p in chain.Pending) digests[p.Progress.Instance.Name] = JobPrefix + p.JobId;
        return digests;
    }

    private const string JobPrefix = "job:";

    /// <summary>
    /// Whether every upstream still is what the job was submitted against (the upstream digests of
    /// its verdict then, <see cref="UpstreamBasis"/> for a chained job): the same outputs digest,
    /// or the very upstream job it was chained after, still running
    /// (re-attached by this build) or collected since (the upstream's manifest names that job). An
    /// upstream redone by a build in between that did not select this stage would otherwise give
    /// this job's result, computed from the old upstream outputs, the new digest in its manifest.
    /// A journal from an older KdGat, which did not record this, is re-attached only without upstreams.
    /// </summary>
    private static bool UpstreamsAsSubmitted(OutputGuard.BatchAttempt job, Chain chain)
    {
        var now = UpstreamBasis(chain);
        if (job.Upstream is not { } then) return now.Count == 0;
        if (then.Count != now.Count) return false;
        foreach (var (name, current) in now)
        {
            if (!then.TryGetValue(name, out var was)) return false;
            if (was == current) continue;
            if (!was.StartsWith(JobPrefix, StringComparison.Ordinal) || chain.Finals.FirstOrDefault(f => f.Instance.Name == name) is not { } upstream) return false;
            var jobId = was[JobPrefix.Length..];
            if (upstream.JobId == jobId) continue; // collected from that job by this build
            var (status, manifest, _) = ManifestStore.Read(upstream.Instance.ManifestPath);
            if (status != ManifestStore.ReadStatus.Ok || manifest!.JobId != jobId || manifest.OutputsDigest != current) return false;
        }
        return true;
    }

    /// <summary>Before the upstream jobs have ended the fingerprint is not known: the stage runs because they do.</summary>
    private Verdict Provisional(StageInstance s, Chain chain, OutputGuard.BatchAttempt? attach)
    {
        var digests = UpstreamBasis(chain);
        IReadOnlyList<StaleReason> reasons = attach is not null
            ? [new("reattached", $"collecting SLURM job {attach.Handle.Id} of an earlier build")]
            : Planner.UpstreamsNotUpToDate(chain.Pending.Select(p => p.Progress.Instance.Name));
        return _ctx.Planner.Provisional(s, digests, reasons, chain.Pending.Select(p => p.Progress.Instance).ToArray());
    }

    /// <summary>
    /// Once the upstream jobs ended: the real fingerprint for the manifest (the submission's
    /// components with the upstreams' digests), or null when an upstream failed.
    /// </summary>
    private async Task<(Verdict? Verdict, InstanceResult? FailedUpstream)> SettleAsync(StageInstance s, Verdict provisional, Chain chain, IReadOnlyDictionary<string, string> seen)
    {
        if (chain.Pending.Count == 0) return (provisional, null);
        var finals = await chain.AllFinalsAsync().ConfigureAwait(false);
        if (finals.FirstOrDefault(f => f.OutputsDigest is null) is { } failed) return (null, failed);
        var current = Finishing.Settled(provisional.Current, s, finals.ToDictionary(f => f.Instance.Name, f => f.OutputsDigest!), seen);
        return (provisional with { Current = current, Fingerprint = current.Digest() }, null);
    }

    /// <summary>SLURM cancelled this stage's job because an upstream job failed: skip if the upstream finally failed, else decide again.</summary>
    private async Task<InstanceResult> AfterDependencyCancelAsync(StageInstance s, OutputGuard guard, Chain chain, ExecutionResult result, InstanceProgress self, int attempt)
    {
        var finals = await chain.AllFinalsAsync().ConfigureAwait(false);
        if (finals.FirstOrDefault(f => f.OutputsDigest is null) is { } failed)
        {
            var why = $"upstream {failed.Instance.Name} {failed.Outcome}; SLURM cancelled job {result.JobId} (DependencyNeverSatisfied)";
            _ctx.Log.Warn(ErrorCodes.SlurmDependencyCancelled, $"{s.Key}: {why}.");
            return new InstanceResult(s, Outcome.Skipped, [new("upstream-failed", why)]) { Handle = result.Handle, Attempts = attempt };
        }
        // The upstream succeeded on a retry (new job id): decide again with its real outputs (early cutoff applies).
        _ctx.Log.Info($"KdGat: {s.Key}: SLURM cancelled job {result.JobId} with an upstream attempt that failed; the upstream succeeded on a retry, so the stage is decided again.");
        return await DecideAndRunAsync(s, guard, finals, self, attempt).ConfigureAwait(false);
    }
}
