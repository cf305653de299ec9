using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.IO;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Engine;

internal sealed partial class InstanceRunner
{
    /// <summary>
    /// An unswept instance recovers the attempts a crash interrupted on its stage's former sweep points
    /// (Planner.FormerPoints made it stale): once a point leaves the grid nothing else did, so its
    /// journal stayed "running", its process was never stopped and went on writing into the point's folder
    /// inside the result every build called up to date (a crash review). A swept stage's points that
    /// left the grid are recovered before anything runs (RecoverDroppedPointAttemptsAsync).
    /// </summary>
    private Task RecoverFormerPointAttemptsAsync(StageInstance s) =>
        s.Sweep.IsEmpty ? RecoverPointAttemptsAsync(s, Planning.Planner.FormerPointAttempts(s, []), $"a former sweep point of {s.Key}, recovered by it") : Task.CompletedTask;

    /// <summary>
    /// Before any instance runs: attempts a crash interrupted on sweep points this build's grid no
    /// longer has while the stage is still swept (seed [0, 1] -> [0] after a kill during seed=1). Nothing
    /// else would recover them: today's points are up to date without a look at their siblings, so the
    /// attempt's process or SLURM job ran on with no word, and its journal said "running" for good (a
    /// review). Only the stages' state dirs of swept instances are listed (one listing per swept stage and
    /// dataset, observed for the no-op certificate). What cannot be recovered now (a full disk, SLURM not
    /// answering) is said and left to the next build: today's points do not depend on it.
    /// </summary>
    public async Task RecoverDroppedPointAttemptsAsync(IReadOnlyList<StageInstance> instances)
    {
        foreach (var (sibling, today) in Planning.Planner.SweptStages(instances))
        {
            try
            {
                await RecoverPointAttemptsAsync(sibling, Planning.Planner.FormerPointAttempts(sibling, today),
                    $"a point no longer in the sweep of {sibling.Dataset}/{sibling.Name}").ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or KdgException)
            {
                _ctx.Log.Warn(e is KdgException k ? k.Code : ErrorCodes.StageIoError,
                    $"{sibling.Dataset}/{sibling.Name}: an attempt a crash interrupted on a point no longer in the sweep could not be recovered ({e.Message.TrimEnd('.')}); " +
                    "its journal stays and the next build tries again. Today's points are not affected. Check free space and permissions under the run dir.");
            }
        }
    }

    /// <summary>
    /// Recovered as the point's own build would (its processes or SLURM job stopped, its previous result
    /// put back, its partial outputs kept under failed/), under the point's lock: a point another build
    /// is running is left to that build.
    /// </summary>
    private async Task RecoverPointAttemptsAsync(StageInstance sibling, IReadOnlyList<string> variants, string what)
    {
        foreach (var variant in variants)
        {
            // A point today's configuration cannot describe: its journal stays (an unswept stage stays stale: Explain says why).
            if (FormerPoint.Of(sibling, variant) is not { } point) continue;
            var guard = new OutputGuard(point);
            using var pointLock = Locking.StageLock.TryAcquire(guard.LockFile, time: _ctx.Time);
            if (pointLock is null) continue; // another build runs it now
            if (await guard.RecoverIfNeededAsync().ConfigureAwait(false) is { } recovered)
            {
                // Without a result of its own the point's folder is what the attempt left (files it wrote beside its outputs, its logs):
                // kept under its failed/, not inside the unswept result a downstream gets whole (a review of this fix), nor where no
                // from-scratch build has a folder.
                var kept = "";
                if (!File.Exists(point.ManifestPath) && Directory.Exists(point.RunDir) && !FileMover.IsLink(point.RunDir))
                {
                    var to = Path.Combine(guard.FailedDir, $"folder-{_ctx.Time.GetUtcNow():yyyyMMdd'T'HHmmss'Z'}");
                    FileMover.Move(point.RunDir, to);
                    kept = $"; its folder was moved to {PathText.ToStored(sibling.Layout.Root, to)}";
                }
                _ctx.Log.Warn(ErrorCodes.RecoveredAttempt, $"{recovered} ({what}{kept})");
                _ctx.Progress.Recovered();
            }
        }
    }

    /// <summary>The manifest of the stage's unswept result: in the folder above a swept instance's run dir.</summary>
    private static string UnsweptManifestPath(StageInstance s) => Path.Combine(Path.GetDirectoryName(s.RunDir)!, StageInstance.ManifestFileName);

    /// <summary>Whether a swept instance's stage still has its unswept result (a manifest above the points): observed, as any question a no-op asks.</summary>
    private static bool HasUnsweptResult(StageInstance s) =>
        !s.Sweep.IsEmpty && Hashing.PathStat.Of(UnsweptManifestPath(s)).Kind != Hashing.PathKind.Missing;

    /// <summary>
    /// After a swept instance's result is committed (run, cache restore or adoption), or found up to date
    /// under its lock (a result recovery put back, a retirement a crash cut short): the stage's
    /// unswept result (the manifest in the folder above the points, from before the sweep, with its
    /// params.json, the outputs it records and the rest of its run dir: UnsweptLeftovers) stops being a result. Left there, once the sweep was
    /// removed again its unchanged fingerprint made it up to date beside the points' folders, a run
    /// dir no from-scratch build has (a review; a downstream gets the whole folder as {upstream.X});
    /// while swept, its metrics.json sat above the points' as if it were the stage's. Only after a
    /// point has a result: retired before the attempt, a failed or interrupted first attempt of a newly
    /// swept stage cost the unswept result (hours of training with the cache off; a review), although
    /// "the previous result is kept". Archived first (History); the outputs go before the manifest, so a
    /// crash in between leaves a manifest with outputs missing (stale). A crash before this step leaves
    /// it beside committed points: once the sweep is removed, the former points' folders make it rerun
    /// (Planner.FormerPoints). The output cache keeps the result: removing the sweep again restores it
    /// rather than running the stage (with the cache on). logs/ stays, as Clean leaves it. Best effort,
    /// after the point's commit: what cannot be archived or deleted (permissions, a full disk) is said
    /// (KDG2018) and left, and the point's result stands.
    /// </summary>
    private void RetireUnsweptResult(StageInstance s)
    {
        if (s.Sweep.IsEmpty) return;
        var manifestPath = UnsweptManifestPath(s);
        var dir = Path.GetDirectoryName(manifestPath)!; // {runs}/{dataset}/{stage}: the unswept run dir
        try
        {
            var (status, manifest, _) = ManifestStore.Read(manifestPath);
            if (status == ManifestStore.ReadStatus.Missing) return;
            _ctx.Archive.Capture(s.Dataset, s.Name, manifestPath);
            // Its outputs, params.json and scratch, never what a planned instance writes (an unswept cache
            // folder the points now write theirs into: a review lost them all).
            foreach (var path in UnsweptLeftovers.Of(s.Layout.Root, dir, manifest, _ctx.Planned.Value, StillRecorded)) Gone(path);
            Gone(manifestPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            NotRemoved(manifestPath, e); // archiving it (History) failed: a committed point is not failed for that (a review)
        }

        bool StillRecorded(OutputRecord o, string path) => Finishing.Hasher.Hash(path)?.Hash == o.Hash;

        // The stage's other points retire it at the same time: what one of them removed first is gone all the same.
        void Gone(string path)
        {
            if (PathText.LinkBetween(s.Layout.RunsRoot, path) is not null) return; // as Clean: never through a link below the runs root
            try { FileMover.Delete(path); }
            catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException) { }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { NotRemoved(path, e); }
        }

        void NotRemoved(string path, Exception e) =>
            _ctx.Log.Warn(ErrorCodes.UnsweptResultNotRemoved, $"{s.Key}: the stage's result from before it was swept could not be archived or removed ({PathText.ToStored(s.Layout.Root, path)}: {e.Message}); " +
                "it stays beside the points. Fix the permissions or free space there; once the sweep is removed, the former points' folders make the stage run again.");
    }
}
