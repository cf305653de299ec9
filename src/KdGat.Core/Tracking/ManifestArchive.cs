using KdGat.Core.Diagnostics;
using KdGat.Core.IO;
using KdGat.Core.Manifests;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Tracking;

/// <summary>
/// Keeps every manifest a stage instance ever had: .kdgat/manifests/{dataset}/{stage}/{build}.json,
/// written once (atomically) and never replaced. A rerun replaces the live manifest beside the
/// outputs; the build archives a manifest as its run or cache restore commits it and right before
/// an attempt (or a restore) replaces it, Clean before it deletes, and the index step after a build
/// that changed anything (and every Status, History, Compare and Report, on open) archives any
/// left, so every manifest stays queryable (History -p:RunId=...) next to its run record, and is
/// Adopt's evidence (KDG2017) once the live one is deleted.
/// </summary>
internal sealed class ManifestArchive
{
    public ManifestArchive(string stateDir)
    {
        Dir = Path.Combine(stateDir, "manifests");
        _byHash = new(ReadByHash, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string Dir { get; }

    /// <summary><paramref name="stage"/>: the instance's slot, "stage" or "stage/variant".</summary>
    public string PathFor(string dataset, string stage, string buildId) => Path.Combine(DirFor(dataset, stage), buildId + ".json");

    /// <summary>The folder of one instance's archived manifests (<see cref="Manifests.ManifestHistory"/> reads it).</summary>
    public string DirFor(string dataset, string stage) => Path.Combine(Dir, dataset, stage);

    /// <summary>Archives the current manifest of each instance when not archived yet; returns how many were new.</summary>
    public int Capture(IEnumerable<StageInstance> instances) => instances.Count(s => Capture(s.Dataset, s.Slot, s.ManifestPath));

    /// <summary>
    /// <see cref="Capture(IEnumerable{StageInstance})"/> for a tracking target as it opens the index (Status, History,
    /// Compare, Report, the index step after a build): a manifest that cannot be written here (a full disk or quota,
    /// a read-only folder) is one warning for all, KDG5028, and the rest goes on. As the target's failure it was
    /// blamed on the run index (KDG5005, whose "-p:KdGatIndex" changes nothing) and the build's records were not
    /// indexed. The live manifest stays, so the next open archives it; an attempt that would replace it archives it
    /// first or fails.
    /// </summary>
    public void CaptureOrWarn(IEnumerable<StageInstance> instances, IBuildLog log)
    {
        var (failed, first) = (0, "");
        foreach (var s in instances)
        {
            try { Capture(s.Dataset, s.Slot, s.ManifestPath); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (failed++ == 0) first = $"{s.Key}: {e.Message}";
            }
        }
        if (failed > 0)
            log.Warn(ErrorCodes.ManifestNotArchived,
                $"KdGat: {failed} current manifest(s) could not be archived under {Dir} ({first}); each stays beside its outputs, the results are not affected, and History shows no manifest for those runs until one is archived. Free space or fix the permissions there; the next build, Status or History archives them.",
                Dir);
    }

    /// <summary>Archives the manifest at <paramref name="manifestPath"/> as <paramref name="slot"/>'s when not archived yet; true when it was new.</summary>
    public bool Capture(string dataset, string slot, string manifestPath)
    {
        if (Uncaptured(dataset, slot, manifestPath) is not var (target, _, bytes)) return false;
        AtomicFile.WriteAllBytes(target, bytes);
        return true;
    }

    /// <summary>
    /// What <see cref="Capture(string, string, string)"/> would archive, without writing: where, for which build, and the
    /// bytes; null when the live manifest is missing, unreadable or archived already.
    /// </summary>
    public (string Target, string BuildId, byte[] Bytes)? Uncaptured(string dataset, string slot, string manifestPath)
    {
        // The bytes archived are the bytes parsed: read twice, a commit between the reads filed the new
        // build's manifest under the old build's name.
        var (_, bytes, _) = ManifestStore.ReadBytes(manifestPath);
        if (bytes is null || ManifestStore.Parse(bytes) is not (ManifestStore.ReadStatus.Ok, { BuildId: { Length: > 0 } buildId }, _)) return null;
        var target = PathFor(dataset, slot, buildId);
        return File.Exists(target) ? null : (target, buildId, bytes);
    }

    /// <summary>
    /// Every archived manifest of the instances other than (<paramref name="dataset"/>, <paramref name="stage"/>)
    /// that records an output with <paramref name="hash"/>: Adopt's evidence against outputs copied from
    /// another dataset or stage (a review: hcrl_ch's model adopted as hcrl_sa's). The archive is read
    /// once per build and only the file names are kept by hash (a manifest's fingerprint parts can be
    /// large); what is archived after that first read is not seen by this build.
    /// </summary>
    public IEnumerable<(string Path, StageManifest Manifest)> OfOtherInstances(string dataset, string stage, string hash)
    {
        if (!_byHash.Value.TryGetValue(hash, out var files)) yield break;
        foreach (var path in files)
            if (ManifestStore.Read(path) is (ManifestStore.ReadStatus.Ok, { } m, _) && (m.Dataset != dataset || m.Stage != stage))
                yield return (path, m);
    }

    private readonly Lazy<Dictionary<string, List<string>>> _byHash;

    private Dictionary<string, List<string>> ReadByHash()
    {
        var byHash = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        string[] files;
        try { files = Directory.GetFiles(Dir, "*.json", SearchOption.AllDirectories); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return byHash; } // none yet, or unreadable
        foreach (var file in files)
        {
            var (status, manifest, _) = ManifestStore.Read(file);
            if (status != ManifestStore.ReadStatus.Ok) continue;
            foreach (var hash in manifest!.Outputs.Select(o => o.Hash).Distinct(StringComparer.Ordinal))
            {
                if (!byHash.TryGetValue(hash, out var list)) byHash[hash] = list = [];
                list.Add(file);
            }
        }
        return byHash;
    }

    public string? Find(string dataset, string stage, string buildId)
    {
        var p = PathFor(dataset, stage, buildId);
        return File.Exists(p) ? p : null;
    }
}
