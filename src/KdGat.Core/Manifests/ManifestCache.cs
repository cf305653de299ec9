using System.Collections.Concurrent;
using KdGat.Core.Hashing;
using KdGat.Core.IO;

namespace KdGat.Core.Manifests;

/// <summary>
/// Manifests parsed once per file version: the plan before the stage targets and the build after
/// them read the same 7,800 manifests of a large pipeline. Within one build (one instance of this
/// class) a parsed manifest is used again while the file has the same identity (size, mtime,
/// ctime, inode, device: the hash cache's rule, <see cref="FileIdentity"/>); any difference, or a
/// file that changed while it was read, means "read again". Manifests are replaced by rename, so a
/// new one is a new inode.
/// <para>
/// Across the builds of one long-lived process (the MSBuild server, a reused node, an IDE) a parse
/// is kept with the bytes it was made from (<see cref="KeptParses{T}"/>): a later build reads the
/// file but parses it only when its bytes differ.
/// </para>
/// </summary>
internal sealed class ManifestCache
{
    /// <summary>
    /// Manifest bytes parsed and kept: 600 datasets (7,800 manifests) are ~12 MB; a parse holds ~3 bytes
    /// of heap per byte read, so this keeps a server or IDE process under ~150 MB of them however
    /// many pipelines it has built (128 MiB could hold ~370 MiB).
    /// </summary>
    internal const long KeptBytes = 48L << 20;
    private static readonly KeptParses<StageManifest> Kept = new(KeptBytes);

    private readonly ConcurrentDictionary<string, (FileIdentity Id, StageManifest Manifest)> _read = new(StringComparer.Ordinal);

    /// <summary>Files this instance parsed (not found in this build's or the process's parses).</summary>
    public int Parsed => _parsed;
    private int _parsed;

    public (ManifestStore.ReadStatus Status, StageManifest? Manifest, string? Problem) Read(string path)
    {
        var before = FileIdentity.Of(path);
        // Only a statx identity vouches for an earlier parse (without one, size and mtime would decide).
        if (before is { IsCheckedRegularFile: true } id && _read.TryGetValue(path, out var hit) && hit.Id == id) return (ManifestStore.ReadStatus.Ok, hit.Manifest, null);
        var result = ReadKept(path, regularFile: before is { IsCheckedRegularFile: true });
        if (result.Status == ManifestStore.ReadStatus.Ok && before is { } b && FileIdentity.Of(path) == b) _read[path] = (b, result.Manifest!);
        else _read.TryRemove(path, out _);
        return result;
    }

    private (ManifestStore.ReadStatus Status, StageManifest? Manifest, string? Problem) ReadKept(string path, bool regularFile)
    {
        var (status, bytes, problem) = ManifestStore.ReadBytes(path, regularFile);
        if (bytes is null)
        {
            Kept.Forget(path);
            return (status, null, problem);
        }
        var content = KeptParses<StageManifest>.ContentOf(bytes);
        if (Kept.Get(path, content) is { } kept) return (ManifestStore.ReadStatus.Ok, kept, null);
        Interlocked.Increment(ref _parsed);
        var result = ManifestStore.Parse(bytes);
        if (result.Status == ManifestStore.ReadStatus.Ok) Kept.Keep(path, content, result.Manifest!, bytes.Length);
        else Kept.Forget(path);
        return result;
    }
}
