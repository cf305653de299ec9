using KdGat.Core.Diagnostics;
using KdGat.Core.Execution;
using KdGat.Core.IO;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Engine;

/// <summary>
/// Clean: deletes outputs, manifests, logs and per-stage state of the selected datasets (all
/// stages, or -p:Stage and everything downstream of it), so the next build reruns them. Raw data
/// is never touched (outputs may not overlap it), nor are unselected datasets or run records.
/// </summary>
public static class Cleaner
{
    public static IReadOnlyList<string> Clean(BuildRequest request, string? stage, IBuildLog log)
    {
        var p = LoadedPipeline.Load(request);
        var selected = string.IsNullOrWhiteSpace(stage) ? null : p.Graph.WithDownstream(stage.Trim(), request.PipelineFile);
        var deleted = new List<string>();
        foreach (var s in p.Instances.Where(i => selected is null || selected.Contains(i.Name)))
        {
            var guard = new OutputGuard(s);
            using var stageLock = Locking.StageLock.TryAcquire(guard.LockFile)
                ?? throw new KdgException(ErrorCodes.LockWait, $"{s.Key} is being built by another build right now; Clean it after that build ends.");
            foreach (var path in s.Outputs.Append(s.RunDir).Append(guard.FailedDir))
            {
                if (!FileMover.Exists(path)) continue;
                FileMover.Delete(path);
                deleted.Add(PathText.ToStored(p.Layout.Root, path));
            }
            foreach (var f in new[] { Path.Combine(guard.StateDir, "attempt.json"), Path.Combine(guard.StateDir, "aside") })
                FileMover.Delete(f);
            // Clean is the forced rerun: without this the next build could restore the same fingerprint from the cache.
            Directory.CreateDirectory(guard.StateDir);
            AtomicFile.WriteAllText(guard.RerunRequested, "requested by Clean\n");
        }
        log.Info($"KdGat: Clean removed {deleted.Count} path(s) for {string.Join(", ", p.Datasets)}{(selected is null ? "" : $" (stages: {string.Join(", ", selected)})")}");
        return deleted;
    }
}
