namespace KdGat.Core.Tests.Support;

/// <summary>A clock the test moves by hand (only "now"; timers still run on the system clock).</summary>
internal sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; private set; } = start;
    public override DateTimeOffset GetUtcNow() => Now;
    public void Advance(TimeSpan by) => Now += by;
}
