using System.Collections.Concurrent;
using KdGat.Core.Hashing;

namespace KdGat.Core.Manifests;

/// <summary>
/// Manifests parsed once per file version: the plan before the stage targets and the build after
/// them read the same 7,800 manifests of a large pipeline. A parsed manifest is used again only
/// while the file has the same identity (size, mtime, ctime, inode, device: the hash cache's
/// rule, <see cref="FileIdentity"/>); any difference, or a file that changed while it was read,
/// means "read again". Manifests are replaced by rename, so a new one is a new inode.
/// </summary>
internal sealed class ManifestCache
{
    private readonly ConcurrentDictionary<string, (FileIdentity Id, StageManifest Manifest)> _read = new(StringComparer.Ordinal);

    public (ManifestStore.ReadStatus Status, StageManifest? Manifest, string? Problem) Read(string path)
    {
        var before = FileIdentity.Of(path);
        if (before is { } id && _read.TryGetValue(path, out var hit) && hit.Id == id) return (ManifestStore.ReadStatus.Ok, hit.Manifest, null);
        var result = ManifestStore.Read(path);
        if (result.Status == ManifestStore.ReadStatus.Ok && before is { } b && FileIdentity.Of(path) == b) _read[path] = (b, result.Manifest!);
        else _read.TryRemove(path, out _);
        return result;
    }
}
