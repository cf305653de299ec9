using System.Text.Json;
using KdGat.Core.IO;

namespace KdGat.Core.Manifests;

/// <summary>Reads and writes manifests. A damaged manifest never crashes a build: it reads as "stale".</summary>
internal static class ManifestStore
{
    public enum ReadStatus { Ok, Missing, Corrupt }

    public static (ReadStatus Status, StageManifest? Manifest, string? Problem) Read(string path)
    {
        var (status, bytes, problem) = ReadBytes(path);
        return bytes is null ? (status, null, problem) : Parse(bytes);
    }

    /// <summary>The file's bytes; Missing or Corrupt (unreadable, special, too large) without them.</summary>
    /// <param name="regularFile">The caller's statx just found a regular file there: two syscalls fewer per manifest.</param>
    public static (ReadStatus Status, byte[]? Bytes, string? Problem) ReadBytes(string path, bool regularFile = false)
    {
        try
        {
            if (!regularFile && !NoOp.FileObservations.FileExists(path)) return (ReadStatus.Missing, null, null);
            return (ReadStatus.Ok, SmallFile.ReadAllBytes(path, checkedRegular: regularFile), null);
        }
        catch (Exception e) when (regularFile && e is FileNotFoundException or DirectoryNotFoundException)
        {
            return (ReadStatus.Missing, null, null); // deleted since the caller's statx
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (ReadStatus.Corrupt, null, e.Message);
        }
    }

    /// <summary>A manifest from its bytes: Ok, or Corrupt with what is wrong. Depends on nothing but the bytes.</summary>
    public static (ReadStatus Status, StageManifest? Manifest, string? Problem) Parse(byte[] bytes)
    {
        try
        {
            var m = JsonSerializer.Deserialize(bytes, ManifestJson.Readable.StageManifest);
            if (m is null || m.Schema != 1 || string.IsNullOrEmpty(m.Fingerprint) || m.Outputs is null || m.Components is null)
                return (ReadStatus.Corrupt, null, "not a KdGat manifest (fields missing)");
            // An explicit null where a list or table belongs passes the deserializer ("upstream": null,
            // "outputs": [null]) and would surface later as a NullReferenceException (KDG9001; review).
            if (m.Outputs.Any(o => o is null || o.Path is null || o.Hash is null) || m.Components.Command is null || m.Components.Params is null
                || m.Components.Inputs is null || m.Components.Code is null || m.Components.Upstream is null || m.Components.Env is null)
                return (ReadStatus.Corrupt, null, "not a KdGat manifest (a field is null)");
            // The digest downstream fingerprints use must be the one of the outputs it lists: a manifest
            // edited or damaged there would otherwise keep downstream stages up to date against a lie.
            if (m.OutputsDigest != Planning.Fingerprinter.OutputsDigest(m.Outputs, m.ParamsFile))
                return (ReadStatus.Corrupt, null, "its outputs_digest does not match the output hashes it records");
            return (ReadStatus.Ok, m, null);
        }
        catch (JsonException e)
        {
            return (ReadStatus.Corrupt, null, e.Message);
        }
    }

    public static void Write(string path, StageManifest manifest) =>
        AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJson.Readable.StageManifest));
}
