using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.IO;
using KdGat.Core.Locking;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Engine;

/// <summary>
/// Clean: deletes outputs, manifests, everything else in the run dirs but KdGat's logs/ (the run
/// records name them: History keeps its logs), and per-stage state of the selected datasets (all
/// stages, or -p:Stage and everything downstream of it; with them, without -p:Sweep, the slots of
/// those stages today's grid does not have: <see cref="OtherSlot"/>), so the next build reruns them. Raw data
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
        if (PropertySpelling.CleanSelectionMisspelt(request) is { } misspelt) throw misspelt;
        foreach (var warning in EnvironmentProperties.Warnings(request).Concat(PropertySpelling.Warnings(request))) log.Report(warning);
        var p = LoadedPipeline.Load(request);
        var selected = string.IsNullOrWhiteSpace(stage) ? null : p.Graph.WithDownstream(stage.Trim(), request.PipelineFile, request.Given("Stage"));
        // -p:Sweep cleans the matching instances only, never the unswept upstreams a build would add.
        var instances = p.Instances.Where(i => (selected is null || selected.Contains(i.Name)) && (p.Sweep is null || p.Sweep.Matches(i))).ToArray();
        var others = p.Sweep is null ? OtherSlots(p, instances) : [];
        var locks = new List<StageLock>();
        try
        {
            var busyDatasets = instances.Select(i => i.Dataset).Distinct().Where(d => !Take(StageLock.DatasetLockFile(p.Layout, d))).ToArray();
            var busyStages = instances.Where(s => !Take(new OutputGuard(s).LockFile)).Select(s => s.Key)
                .Concat(others.Where(o => Directory.Exists(o.StateDir) && !Take(OutputGuard.LockFileIn(o.StateDir))).Select(o => o.Key)).ToArray();
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
            return await DeleteAllAsync(p, instances, others, selected, log).ConfigureAwait(false);
        }
        finally
        {
            foreach (var l in locks) l.Dispose();
        }
    }

    /// <summary>The run dir's entries but logs/; a run dir that is a symbolic link: the link.</summary>
    private static IEnumerable<string> RunDirContent(string runDir) =>
        !Directory.Exists(runDir) || FileMover.IsLink(runDir) ? [runDir]
        : Directory.EnumerateFileSystemEntries(runDir).Where(e => e != Path.Combine(runDir, "logs")).Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// A slot of a selected stage in a dataset that today's grid does not have: a former sweep point
    /// (y=2/ after the grid lost y=2; its folder and its state under .kdgat/), or the unswept result
    /// above today's points. Clean is the forced rerun of the stage, so they are cleaned as well: a
    /// point coming back to the grid was up to date again with its old result, and the sweep removed,
    /// the unswept result came back from the cache (a review).
    /// </summary>
    private sealed record OtherSlot(string Dataset, string Slot, string RunDir, string StateDir)
    {
        public string Key => $"{Dataset}/{Slot}";
        /// <summary>A point's folder is its own; the unswept run dir above points holds them (only its manifest goes).</summary>
        public bool IsPoint => Slot.Contains('/');
    }

    private static List<OtherSlot> OtherSlots(LoadedPipeline p, IReadOnlyList<StageInstance> instances)
    {
        var others = new List<OtherSlot>();
        foreach (var stage in instances.GroupBy(i => (i.Dataset, i.Name)))
        {
            var (dataset, name) = stage.Key;
            var current = stage.Select(i => i.Slot).ToHashSet(StringComparer.Ordinal);
            // Point folders are named by their values (a '=' in the name), in the run dir and in the state dir.
            var points = new[] { Path.Combine(p.Layout.RunsRoot, dataset, name), Path.Combine(p.Layout.DatasetStateDir(dataset), name) }
                .Where(d => Directory.Exists(d) && !FileMover.IsLink(d))
                .SelectMany(d => Directory.EnumerateDirectories(d).Select(Path.GetFileName).Where(n => n!.Contains('=')))
                .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            foreach (var slot in points.Select(n => name + "/" + n).Prepend(name).Where(slot => !current.Contains(slot)))
            {
                var other = new OtherSlot(dataset, slot, Path.Combine(p.Layout.RunsRoot, dataset, slot), Path.Combine(p.Layout.DatasetStateDir(dataset), slot));
                if (Directory.Exists(other.StateDir) || File.Exists(Path.Combine(other.RunDir, StageInstance.ManifestFileName))) others.Add(other);
            }
        }
        return others;
    }

    private static async Task<List<string>> DeleteAllAsync(LoadedPipeline p, IReadOnlyList<StageInstance> instances, IReadOnlyList<OtherSlot> others, IReadOnlyCollection<string>? selected, IBuildLog log)
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
            CleanSlot(p, s.Dataset, s.Slot, s.Key, guard.StateDir, s.ManifestPath, s.Outputs.Concat(RunDirContent(s.RunDir)).Append(guard.FailedDir), deleted, log);
        }
        var planned = new Lazy<PathMap<bool>>(() => UnsweptLeftovers.Planned(p.Instances)); // once, and only when there is an unswept result
        foreach (var o in others)
        {
            // A former point's interrupted attempt: its processes (or SLURM job) would write on into what is deleted here.
            if (o.IsPoint && File.Exists(OutputGuard.JournalIn(o.StateDir))
                && instances.FirstOrDefault(i => i.Dataset == o.Dataset && o.Slot.StartsWith(i.Name + "/", StringComparison.Ordinal)) is { } sibling
                && FormerPoint.Of(sibling, o.Slot[(sibling.Name.Length + 1)..]) is { } point
                && await new OutputGuard(point).RecoverIfNeededAsync().ConfigureAwait(false) is { } recovered)
                log.Warn(ErrorCodes.RecoveredAttempt, recovered);
            CleanSlot(p, o.Dataset, o.Slot, o.Key, o.StateDir, Path.Combine(o.RunDir, StageInstance.ManifestFileName), o.IsPoint ? RunDirContent(o.RunDir) : UnsweptResult(p, o, planned.Value), deleted, log);
        }
        log.Info($"KdGat: Clean removed {deleted.Count} path(s) for {string.Join(", ", p.Datasets)}{(selected is null ? "" : $" (stages: {string.Join(", ", selected)})")}");
        return deleted;
    }

    /// <summary>The unswept result above today's points (<see cref="UnsweptLeftovers"/>): only its manifest went, its metrics.json and params.json stayed above the points (a differential review).</summary>
    private static IReadOnlyList<string> UnsweptResult(LoadedPipeline p, OtherSlot o, PathMap<bool> planned) =>
        UnsweptLeftovers.Of(p.Layout.Root, o.RunDir, Manifests.ManifestStore.Read(Path.Combine(o.RunDir, StageInstance.ManifestFileName)).Manifest, planned);

    /// <summary>Marks the slot's rerun, deletes <paramref name="paths"/> (not through a link below the runs root), its manifest (archived first) and its attempt state.</summary>
    private static void CleanSlot(LoadedPipeline p, string dataset, string slot, string key, string stateDir, string manifestPath, IEnumerable<string> paths, List<string> deleted, IBuildLog log)
    {
        var rerunRequested = OutputGuard.RerunRequestedIn(stateDir);
        // Clean is the forced rerun: without this the next build could restore the same fingerprint
        // from the cache. Written before anything is deleted, so a Clean killed half-way still forces it.
        void MarkRerun()
        {
            Directory.CreateDirectory(stateDir);
            AtomicFile.WriteAllText(rerunRequested, "requested by Clean\n");
        }
        // On a full disk (where Clean is what frees space) the marker goes in after the deletions instead.
        var marked = false;
        try { MarkRerun(); marked = true; }
        catch (IOException) { } // written after the deletions below (an earlier Clean's marker, if there is one, stands meanwhile)
        foreach (var path in paths)
        {
            if (!FileMover.Exists(path) || Path.GetFullPath(path) == Path.GetFullPath(manifestPath)) continue; // the manifest goes last, archived first
            if (PathText.LinkBetween(p.Layout.RunsRoot, path) is { } link)
            {
                log.Warn(ErrorCodes.CleanSymlink, $"{key}: {PathText.ToStored(p.Layout.Root, path)} lies under the symbolic link {PathText.ToStored(p.Layout.Root, link)}; Clean does not delete through it (a run dir that is itself a link loses the link; what lies under a linked folder above it stays until the rerun replaces it).");
                continue;
            }
            FileMover.Delete(path);
            deleted.Add(PathText.ToStored(p.Layout.Root, path));
        }
        // Under a linked folder (a dataset dir linked to scratch) nothing above was deleted; the
        // manifest, KdGat's own file, goes anyway, so the stage is stale and the next build reruns it.
        // Archived first (History, and Adopt's KDG2017 evidence of what outputs were made from), after the outputs went: on a
        // full disk that frees the room. A build's own capture may have failed on that disk too; deleted unarchived, outputs
        // copied back from a backup were adopted as current (a quota review). Kept when it cannot be archived: the stage is
        // stale all the same (its outputs are gone, its rerun marked).
        if (FileMover.Exists(manifestPath) && Archived())
        {
            FileMover.Delete(manifestPath);
            deleted.Add(PathText.ToStored(p.Layout.Root, manifestPath));
        }
        foreach (var f in new[] { OutputGuard.JournalIn(stateDir), Path.Combine(stateDir, "aside") })
            FileMover.Delete(f);
        if (!marked)
        {
            try { MarkRerun(); }
            catch (IOException) when (File.Exists(rerunRequested)) { } // an earlier Clean's marker forces the rerun as well
        }

        bool Archived()
        {
            try
            {
                new Tracking.ManifestArchive(p.Layout.StateDir).Capture(dataset, slot, manifestPath);
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.Warn(ErrorCodes.CleanManifestKept, $"{key}: its manifest could not be archived in .kdgat/manifests ({e.Message.TrimEnd('.')}), so it was kept: the stage runs again all the same, and Adopt can still tell what its outputs were made from. Free space or fix the permissions there, then run Clean again to remove it.");
                return false;
            }
        }
    }
}
