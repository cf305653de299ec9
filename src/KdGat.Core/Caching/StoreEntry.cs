using System.Text.Json.Serialization;
using KdGat.Core.Manifests;

namespace KdGat.Core.Caching;

/// <summary>
/// entry.json of one store entry: the outputs a stage with this fingerprint produced. Its stage and
/// dataset say where the entry came from (for people reading the store; restores do not depend on them).
/// </summary>
internal sealed record StoreEntry : ResultKey
{
    public required IReadOnlyList<OutputRecord> Outputs { get; init; }
    /// <summary>
    /// The stage's declared outputs when the entry was made (stored path, optional or not): an entry
    /// is restored only for the same declared set, since an output declared since (an optional one
    /// the run wrote but nobody kept) is not in it. Null: written by an older KdGat, never restored.
    /// </summary>
    public IReadOnlyList<DeclaredOutput>? Declared { get; init; }
    public required string OutputsDigest { get; init; }
    public DateTimeOffset CreatedUtc { get; init; }
    public long Bytes => Outputs.Sum(o => o.Size);

    /// <summary>True when the entry records exactly these declared outputs (in any order).</summary>
    public bool DeclaresSame(IReadOnlyList<DeclaredOutput> now) =>
        Declared is { } d && d.Count == now.Count && d.ToHashSet().SetEquals(now);

    [JsonIgnore] public string Dir { get; init; } = "";
    /// <summary>File i of the entry holds output i (a file or a directory tree).</summary>
    public string Payload(int i) => Path.Combine(Dir, "o" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>One declared output of a stage: its stored path (as in manifests) and whether it is optional.</summary>
internal sealed record DeclaredOutput(string Path, bool Optional);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StoreEntry))]
internal sealed partial class StoreJson : JsonSerializerContext;
