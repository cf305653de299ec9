using System.Text.Json.Serialization;
using KdGat.Core.Planning;

namespace KdGat.Core.Manifests;

internal sealed record OutputRecord(string Path, string Hash, long Size, bool Directory)
{
    /// <summary>An `optional_outputs` entry: the digest names it by path, since which optional outputs exist can change.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool Optional { get; init; }

    /// <summary>
    /// Where a required output lies within its run dir (or its dataset's cache dir), when that is more than its
    /// file name (best/m.txt): the outputs digest keys it so (<see cref="Fingerprinter.OutputsDigest"/>). Null for
    /// an output directly in the run dir, and in manifests written before 2026-12-06, whose digests key the file name.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Within { get; init; }

    /// <summary>What the outputs digest keys a required output by: where it lies within its run dir, else its file name.</summary>
    internal string Key => Within ?? System.IO.Path.GetFileName(Path.TrimEnd('/'));
}

/// <summary>
/// Written atomically beside a stage's outputs after it succeeded and every declared output
/// exists. It replaces the '.done' sentinel: the stage is up to date iff this parses, its
/// fingerprint matches, and the outputs still hash to what it records.
/// </summary>
internal sealed record StageManifest : AttemptFacts
{
    public required FingerprintComponents Components { get; init; }
    public required IReadOnlyList<OutputRecord> Outputs { get; init; }
    public required string OutputsDigest { get; init; }
    /// <summary>
    /// The hash of the params.json KdGat wrote into the run dir, part of <see cref="OutputsDigest"/>:
    /// a downstream stage given the run dir ({upstream.X}) can read it, so a parameter change
    /// that leaves the declared outputs byte-identical must still reach it. Null in manifests of
    /// KdGat before 2026-12-04, whose digest does not cover it (they keep it until the stage runs again).
    /// </summary>
    public string? ParamsFile { get; init; }
    /// <summary><see cref="Planning.FingerprintComponents.DigestRules"/> of the KdGat that wrote it; null before 2026-12-06.</summary>
    public int? DigestRules { get; init; }
    /// <summary>
    /// A SLURM job's end as sacct gives it (its last run, after a requeue): a downstream job chained on it and collected by
    /// a later build is refused when it started before this (KDG3017). Null: not a job, or written before 2026-12-06.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? JobEnded { get; init; }
    /// <summary>Set when the outputs came from the content-addressed cache instead of a run.</summary>
    public string? RestoredFrom { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(StageManifest))]
[JsonSerializable(typeof(FingerprintComponents))]
internal sealed partial class ManifestJson : JsonSerializerContext
{
    // Lazy: the generated Default is a static of the other partial half, and static initialisers
    // across partial files run in no promised order.
    private static ManifestJson? s_readable;
    public static ManifestJson Readable => s_readable ??= new(IO.Json.Readable(Default.Options));
}
