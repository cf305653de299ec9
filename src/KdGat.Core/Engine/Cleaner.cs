using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.IO;
using KdGat.Core.Locking;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Engine;

/// <summary>
/// Clean: deletes outputs, manifests, everything else in the run dirs but KdGat's logs/ (the run
/// records name them: History keeps its logs), and per-stage state of the selected datasets (all
/// stages, or -p:Stage and everything downstream of it), so the next build reruns them. Raw data
/// is never touched (outputs may not overlap it), nor are unselected datasets or run records.
/// All or nothing: it first takes every selected dataset's build lock and every stage lock it
/// will delete under, without waiting; if a build holds any of them it refuses (KDG2006) before
/// deleting anything. It never deletes outputs through a symbolic link below the runs root: a
/// linked run dir loses the link, never what it points to (KDG2007); under a linked folder above a
/// run dir only the stage's manifest is deleted, which is enough to make it rerun.
/// </summary>
internal static class Cleaner
{
    public static async Task<IReadOnlyList<string>> CleanAsync(BuildRequest request, string? stage, IBuildLog log)
    {
        var p = LoadedPipeline.Load(request);
        var selected = string.IsNullOrWhiteSpace(stage) ? null : p.Graph.WithDownstream(stage.Trim(), request.PipelineFile);
        // -p:Sweep cleans the matching instances only, never the unswept upstreams a build would add.
        var instances = p.Instances.Where(i => (selected is null || selected.Contains(i.Name)) && (p.Sweep is null || p.Sweep.Matches(i))).ToArray();
        var locks = new List<StageLock>();
        try
        {
            var busyDatasets = instances.Select(i => i.Dataset).Distinct().Where(d => !Take(StageLock.DatasetLockFile(p.Layout, d))).ToArray();
            var busyStages = instances.Where(s => !Take(new OutputGuard(s).LockFile)).Select(s => s.Key).ToArray();
            if (busyDatasets.Length + busyStages.Length > 0)
                throw new KdgException(ErrorCodes.CleanRefused,
                    $"Clean refused, nothing was deleted: a build is running on {string.Join(" and ", new[] { Busy("dataset", busyDatasets), Busy("stage instance", busyStages) }.Where(b => b.Length > 0))}. Clean after that build ends (or stop it).");

            bool Take(string lockFile)
            {
                if (StageLock.TryAcquire(lockFile) is not { } l) return false;
                locks.Add(l);
                return true;
            }
            // Datasets and stage instances each said as such (one list of both read as if a dataset were a stage; a SLURM user review), at most a few by name.
            static string Busy(string noun, string[] names) => names.Length == 0 ? ""
                : $"{names.Length} {noun}(s): {string.Join(", ", names.Take(5))}{(names.Length > 5 ? $" and {names.Length - 5} more" : "")}";
            return await DeleteAllAsync(p, instances, selected, log).ConfigureAwait(false);
        }
        finally
        {
            foreach (var l in locks) l.Dispose();
        }
    }

    /// <summary>The run dir's entries but logs/; a run dir that is a symbolic link: the link.</summary>
    private static IEnumerable<string> RunDirContent(StageInstance s) =>
        !Directory.Exists(s.RunDir) || FileMover.IsLink(s.RunDir) ? [s.RunDir]
        : Directory.EnumerateFileSystemEntries(s.RunDir).Where(e => e != s.LogDir).Order(StringComparer.Ordinal).ToArray();

    private static async Task<List<string>> DeleteAllAsync(LoadedPipeline p, IReadOnlyList<StageInstance> instances, IReadOnlyCollection<string>? selected, IBuildLog log)
    {
        var deleted = new List<string>();
        foreach (var s in instances)
        {
            var guard = new OutputGuard(s);
            // An interrupted attempt's processes would write into what is about to be deleted.
            if (await guard.RecoverIfNeededAsync().ConfigureAwait(false) is { } recovered) log.Warn(ErrorCodes.RecoveredAttempt, recovered);
            // A job Clean stops is named, one line each: who looks at the queue later sees why it was cancelled.
            if (guard.CancelledJob is { } job)
                log.Info($"KdGat: Clean cancelled SLURM job {job} (stage {s.Slot}, dataset {s.Dataset}): it was writing into the run dir about to be cleaned.");
            // Clean is the forced rerun: without this the next build could restore the same fingerprint
            // from the cache. Written before anything is deleted, so a Clean killed half-way still forces it.
            void MarkRerun()
            {
                Directory.CreateDirectory(guard.StateDir);
                AtomicFile.WriteAllText(guard.RerunRequested, "requested by Clean\n");
            }
            // On a full disk (where Clean is what frees space) the marker goes in after the deletions instead.
            var marked = false;
            try { MarkRerun(); marked = true; }
            catch (IOException) { } // written after the deletions below (an earlier Clean's marker, if there is one, stands meanwhile)
            foreach (var path in s.Outputs.Concat(RunDirContent(s)).Append(guard.FailedDir))
            {
                if (!FileMover.Exists(path)) continue;
                if (PathText.LinkBetween(s.Layout.RunsRoot, path) is { } link)
                {
                    log.Warn(ErrorCodes.CleanSymlink, $"{s.Key}: {PathText.ToStored(p.Layout.Root, path)} lies under the symbolic link {PathText.ToStored(p.Layout.Root, link)}; Clean does not delete through it (a run dir that is itself a link loses the link; what lies under a linked folder above it stays until the rerun replaces it).");
                    continue;
                }
                FileMover.Delete(path);
                deleted.Add(PathText.ToStored(p.Layout.Root, path));
            }
            // Under a linked folder (a dataset dir linked to scratch) nothing above was deleted; the
            // manifest, KdGat's own file, goes anyway, so the stage is stale and the next build reruns it.
            if (FileMover.Exists(s.ManifestPath))
            {
                FileMover.Delete(s.ManifestPath);
                deleted.Add(PathText.ToStored(p.Layout.Root, s.ManifestPath));
            }
            foreach (var f in new[] { Path.Combine(guard.StateDir, "attempt.json"), Path.Combine(guard.StateDir, "aside") })
                FileMover.Delete(f);
            if (!marked)
            {
                try { MarkRerun(); }
                catch (IOException) when (File.Exists(guard.RerunRequested)) { } // an earlier Clean's marker forces the rerun as well
            }
        }
        log.Info($"KdGat: Clean removed {deleted.Count} path(s) for {string.Join(", ", p.Datasets)}{(selected is null ? "" : $" (stages: {string.Join(", ", selected)})")}");
        return deleted;
    }
}
