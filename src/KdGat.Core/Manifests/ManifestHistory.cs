using System.Text;

namespace KdGat.Core.Manifests;

/// <summary>
/// The manifests a stage instance had, as archived under .kdgat/manifests/{dataset}/{slot}/{build}.json
/// (Tracking.ManifestArchive), newest first by when each finished. A file that cannot be one of those
/// wanted (it does not contain a given output hash) is skipped before it is parsed. Each read is bounded (SmallFile, through ManifestStore); a
/// damaged or unreadable file is skipped.
/// </summary>
internal static class ManifestHistory
{
    /// <param name="dir">The instance's archive folder.</param>
    /// <param name="mustContain">Text every wanted manifest contains (an output hash), or null to parse each.</param>
    public static IReadOnlyList<(string Path, StageManifest Manifest)> NewestFirst(string dir, string? mustContain = null)
    {
        var needle = mustContain is null ? null : Encoding.UTF8.GetBytes(mustContain);
        var found = new List<(string Path, StageManifest Manifest)>();
        foreach (var file in Files(dir))
        {
            var (status, bytes, _) = ManifestStore.ReadBytes(file);
            if (status != ManifestStore.ReadStatus.Ok || bytes is null) continue;
            if (needle is not null && bytes.AsSpan().IndexOf(needle) < 0) continue;
            var (parsed, manifest, _) = ManifestStore.Parse(bytes);
            if (parsed == ManifestStore.ReadStatus.Ok) found.Add((file, manifest!));
        }
        // Newest by when each attempt finished, as the manifest says: a build id names the second its
        // build began, so two builds of one second (or builds queued on a stage lock) would order by
        // the id's random part (review). The build id breaks a tie.
        return found.OrderByDescending(f => f.Manifest.FinishedUtc).ThenByDescending(f => Path.GetFileName(f.Path), StringComparer.Ordinal).ToArray();
    }

    private static string[] Files(string dir)
    {
        try { return Directory.GetFiles(dir, "*.json"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; } // none yet, or unreadable
    }
}
