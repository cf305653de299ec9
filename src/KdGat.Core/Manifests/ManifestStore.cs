using System.Text.Json;
using KdGat.Core.IO;

namespace KdGat.Core.Manifests;

/// <summary>Reads and writes manifests. A damaged manifest never crashes a build: it reads as "stale".</summary>
internal static class ManifestStore
{
    public enum ReadStatus { Ok, Missing, Corrupt }

    public static (ReadStatus Status, StageManifest? Manifest, string? Problem) Read(string path)
    {
        byte[] bytes;
        try
        {
            if (!File.Exists(path)) return (ReadStatus.Missing, null, null);
            bytes = SmallFile.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (ReadStatus.Corrupt, null, e.Message);
        }
        try
        {
            var m = JsonSerializer.Deserialize(bytes, ManifestJson.Readable.StageManifest);
            if (m is null || m.Schema != 1 || string.IsNullOrEmpty(m.Fingerprint) || m.Outputs is null || m.Components is null)
                return (ReadStatus.Corrupt, null, "not a KdGat manifest (fields missing)");
            // The digest downstream fingerprints use must be the one of the outputs it lists: a manifest
            // edited or damaged there would otherwise keep downstream stages up to date against a lie.
            if (m.OutputsDigest != Planning.Fingerprinter.OutputsDigest(m.Outputs))
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
