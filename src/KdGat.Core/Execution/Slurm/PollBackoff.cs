namespace KdGat.Core.Execution.Slurm;

/// <summary>
/// The wait between status queries: starts at slurm.poll_seconds, grows by half while nothing
/// changes (and doubles after a failed query) up to slurm.max_poll_seconds, and drops back to
/// the start when a job ends, a job's done-marker appears or a new job is submitted.
/// </summary>
internal sealed class PollBackoff
{
    private readonly double _min, _max;

    public PollBackoff(double minSeconds, double maxSeconds)
    {
        _min = Math.Max(0.05, minSeconds);
        _max = Math.Max(_min, maxSeconds);
        Current = TimeSpan.FromSeconds(_min);
    }

    public TimeSpan Current { get; private set; }

    /// <summary>slurm.poll_seconds: the first wait, and how often the watcher looks for done-markers.</summary>
    public TimeSpan Min => TimeSpan.FromSeconds(_min);

    public TimeSpan Next(bool somethingChanged, bool queryFailed = false)
    {
        var s = somethingChanged ? _min : Math.Min(_max, Current.TotalSeconds * (queryFailed ? 2 : 1.5));
        Current = TimeSpan.FromSeconds(s);
        return Current;
    }

    public void Reset() => Current = TimeSpan.FromSeconds(_min);
}
