namespace KdGat.Core.Manifests;

/// <summary>
/// Which result a file describes: one stage of one dataset, produced under one fingerprint. The
/// manifest, the run record (through <see cref="AttemptFacts"/>) and the output store's entry.json
/// all start with these fields, flat in their JSON (schema 1).
/// </summary>
internal abstract record ResultKey
{
    public int Schema { get; init; } = 1;
    public required string Dataset { get; init; }
    public required string Stage { get; init; }
    public required string Fingerprint { get; init; }
}
