using System.Text;

namespace KdGat.Core.Manifests;

/// <summary>
/// The manifests a stage instance had, as archived under .kdgat/manifests/{dataset}/{slot}/{build}.json
/// (Tracking.ManifestArchive), newest first. Read lazily: a caller that stops at the first manifest it
/// wants reads no more, and a file that cannot be the one (it does not contain a given output hash)
/// is skipped before it is parsed. Each read is bounded (SmallFile, through ManifestStore); a
/// damaged or unreadable file is skipped.
/// </summary>
internal static class ManifestHistory
{
    /// <param name="dir">The instance's archive folder.</param>
    /// <param name="mustContain">Text every wanted manifest contains (an output hash), or null to parse each.</param>
    public static IEnumerable<(string Path, StageManifest Manifest)> NewestFirst(string dir, string? mustContain = null)
    {
        var files = Files(dir);
        // Build ids start with the UTC second they began (yyyyMMddTHHmmssZ-…): the name orders them.
        Array.Sort(files, (a, b) => string.CompareOrdinal(Path.GetFileName(b), Path.GetFileName(a)));
        var needle = mustContain is null ? null : Encoding.UTF8.GetBytes(mustContain);
        foreach (var file in files)
        {
            var (status, bytes, _) = ManifestStore.ReadBytes(file);
            if (status != ManifestStore.ReadStatus.Ok || bytes is null) continue;
            if (needle is not null && bytes.AsSpan().IndexOf(needle) < 0) continue;
            var (parsed, manifest, _) = ManifestStore.Parse(bytes);
            if (parsed == ManifestStore.ReadStatus.Ok) yield return (file, manifest!);
        }
    }

    private static string[] Files(string dir)
    {
        try { return Directory.GetFiles(dir, "*.json"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; } // none yet, or unreadable
    }
}
