namespace KdGat.Core.Engine;

/// <summary>
/// How one stage instance ended in a build: what <see cref="InstanceResult"/> (in memory, for the
/// engine and downstream instances) and <see cref="InstanceReport"/> (its row in the build report)
/// share, so the row is a copy of it and not a second list of the same fields.
/// </summary>
public abstract record InstanceEnd
{
    /// <summary>One of <see cref="Engine.Outcome"/>.</summary>
    public required string Outcome { get; init; }
    public string? Log { get; init; }
    public double? Seconds { get; init; }
    public int? ExitCode { get; init; }
    public int Attempts { get; init; }
    public string? Error { get; init; }
}
