using KdGat.Core.IO;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Tracking;

/// <summary>
/// Keeps every manifest a stage instance ever had: .kdgat/manifests/{dataset}/{stage}/{build}.json,
/// written once (atomically) and never replaced. A rerun replaces the live manifest beside the
/// outputs; the build archives a manifest right before an attempt (or a cache restore) replaces
/// it, Clean before it deletes, and the index step after a build that changed anything (and every
/// Status, History, Compare and Report, on open) archives the new ones, so
/// every manifest stays queryable (History -p:RunId=...) next to its run record.
/// </summary>
internal sealed class ManifestArchive
{
    public ManifestArchive(string stateDir) => Dir = Path.Combine(stateDir, "manifests");

    public string Dir { get; }

    /// <summary><paramref name="stage"/>: the instance's slot, "stage" or "stage/variant".</summary>
    public string PathFor(string dataset, string stage, string buildId) => Path.Combine(DirFor(dataset, stage), buildId + ".json");

    /// <summary>The folder of one instance's archived manifests (<see cref="Manifests.ManifestHistory"/> reads it).</summary>
    public string DirFor(string dataset, string stage) => Path.Combine(Dir, dataset, stage);

    /// <summary>Archives the current manifest of each instance when not archived yet; returns how many were new.</summary>
    public int Capture(IEnumerable<StageInstance> instances)
    {
        var added = 0;
        foreach (var s in instances)
        {
            var (status, manifest, _) = ManifestStore.Read(s.ManifestPath);
            if (status != ManifestStore.ReadStatus.Ok || string.IsNullOrEmpty(manifest!.BuildId)) continue;
            var target = PathFor(s.Dataset, s.Slot, manifest.BuildId);
            if (File.Exists(target)) continue;
            byte[] bytes;
            try { bytes = SmallFile.ReadAllBytes(s.ManifestPath); }
            catch (IOException) { continue; } // replaced under us by a running build: the next capture gets it
            AtomicFile.WriteAllBytes(target, bytes);
            added++;
        }
        return added;
    }

    public string? Find(string dataset, string stage, string buildId)
    {
        var p = PathFor(dataset, stage, buildId);
        return File.Exists(p) ? p : null;
    }
}
