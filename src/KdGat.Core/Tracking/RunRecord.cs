using System.Text.Json.Serialization;

namespace KdGat.Core.Tracking;

/// <summary>
/// One attempt of one stage instance, written once by the orchestrator and never changed. The
/// records are the truth about history; the SQLite index is rebuilt from them at will.
/// </summary>
internal sealed record RunRecord : Manifests.AttemptFacts
{
    public required string RecordId { get; init; }
    /// <summary>
    /// Its place in the pipeline's record sequence (<see cref="RecordStore.Write"/>): the order records were written
    /// in, whatever any clock says. Absent in records of a KdGat before 2026-12-07, which come before every numbered one.
    /// </summary>
    public long? Seq { get; init; }
    /// <summary>A swept instance's grid point, "seed=1,lr=0.003"; absent for an unswept one.</summary>
    public string? Variant { get; init; }
    /// <summary>"stage" or "stage/variant": the instance within its dataset.</summary>
    [JsonIgnore]
    public string Slot => string.IsNullOrEmpty(Variant) ? Stage : $"{Stage}/{Variant}";
    public required SortedDictionary<string, string> Params { get; init; }
    /// <summary>One of <see cref="Engine.Outcome"/>: ran, failed, cancelled, restored, adopted.</summary>
    public required string State { get; init; }
    public string? ExecState { get; init; }
    public long? MemRequestMb { get; init; }
    public IReadOnlyList<string> Why { get; init; } = [];
    public SortedDictionary<string, string> OutputHashes { get; init; } = new();
    /// <summary>A diverged run's NaN, Infinity and -Infinity are kept, written as strings ("NaN"): JSON has no such numbers.</summary>
    [JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)]
    public SortedDictionary<string, double>? Metrics { get; init; }
    public string? Log { get; init; }
    public string? Detail { get; init; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunRecord))]
internal sealed partial class RecordJson : JsonSerializerContext
{
    // Lazy: the generated Default is a static of the other partial half, and static initialisers
    // across partial files run in no promised order.
    private static RecordJson? s_readable;
    public static RecordJson Readable => s_readable ??= new(IO.Json.Readable(Default.Options));
}
