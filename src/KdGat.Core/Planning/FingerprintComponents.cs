using System.Text.Json;
using KdGat.Core.Hashing;

namespace KdGat.Core.Planning;

/// <summary>
/// Everything that decides whether a stage must run, kept per component so Explain can say
/// which one changed. Paths are root-relative; env values are stored as hashes only. The
/// manifest stores them as they were; <see cref="Planner"/> compares them with the current ones.
/// </summary>
internal sealed record FingerprintComponents
{
    public required string Command { get; init; }
    public required SortedDictionary<string, string> Params { get; init; }
    public required SortedDictionary<string, string> Inputs { get; init; }
    public required SortedDictionary<string, string> Code { get; init; }
    public required SortedDictionary<string, string> Upstream { get; init; }
    public required SortedDictionary<string, string> Env { get; init; }

    /// <summary>The canonical JSON the digest is taken of (the same form the manifest stores).</summary>
    public string Canonical() => JsonSerializer.Serialize(this, Manifests.ManifestJson.Readable.FingerprintComponents);

    /// <summary>
    /// The rules by which unchanged files, folders and outputs get their digests (what DigestPinTests
    /// pins), recorded in every manifest. Raise it with any change that gives an unchanged file or
    /// tree another digest (a directory's digest taking in the x bit, the outputs digest taking in
    /// params.json): Adopt then knows that a digest of a manifest written by other rules may differ
    /// with no byte changed (<c>InstanceRunner.MadeFrom</c>).
    /// </summary>
    public const int DigestRules = 1;

    /// <summary>The fingerprint: one hash of every component.</summary>
    public string Digest() => ContentHash.OfText("kdgat-fingerprint-v1\n" + Canonical());
}
