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
    public required string OutputsDigest { get; init; }
    public DateTimeOffset CreatedUtc { get; init; }
    public long Bytes => Outputs.Sum(o => o.Size);

    [JsonIgnore] public string Dir { get; init; } = "";
    /// <summary>File i of the entry holds output i (a file or a directory tree).</summary>
    public string Payload(int i) => Path.Combine(Dir, "o" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StoreEntry))]
internal sealed partial class StoreJson : JsonSerializerContext;
