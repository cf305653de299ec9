namespace KdGat.Core.Manifests;

/// <summary>
/// What one attempt of one stage instance was: which build and executor ran it, where, when, for
/// how long and how it exited. The manifest (the current result) and the run record (history)
/// both carry these facts, flat in their JSON, filled in one place (InstanceRunner.WithFacts).
/// </summary>
internal abstract record AttemptFacts : ResultKey
{
    public string BuildId { get; init; } = "";
    public string Executor { get; init; } = "";
    public string? JobId { get; init; }
    public int Attempt { get; init; } = 1;
    public DateTimeOffset StartedUtc { get; init; }
    public DateTimeOffset FinishedUtc { get; init; }
    public double WallSeconds { get; init; }
    public double CpuSeconds { get; init; }
    public long PeakRssKb { get; init; }
    public int ExitCode { get; init; }
    public string Host { get; init; } = "";
}
