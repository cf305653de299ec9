namespace KdGat.Core.Time;

/// <summary>
/// The clock seam: every wait and every "now" in KdGat goes through a <see cref="TimeProvider"/>
/// (the build's, else <see cref="TimeProvider.System"/>), so tests can drive time with a manual
/// provider. ClockUsageTests keeps DateTime.UtcNow, Thread.Sleep and Task.Delay out of the other sources.
/// </summary>
internal static class Clock
{
    /// <summary>Waits <paramref name="delay"/> on <paramref name="time"/>'s timers.</summary>
    public static Task Delay(TimeProvider time, TimeSpan delay, CancellationToken cancel = default) =>
        delay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(delay, time, cancel);

    /// <summary>Blocks the calling thread for <paramref name="delay"/> (synchronous callers: SQLite retries, lock polling).</summary>
    public static void Sleep(TimeProvider time, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero) return;
        if (ReferenceEquals(time, TimeProvider.System)) { Thread.Sleep(delay); return; }
        Delay(time, delay).GetAwaiter().GetResult();
    }

    /// <summary>A sortable UTC timestamp for file names and ids.</summary>
    public static string Stamp(TimeProvider time) => time.GetUtcNow().ToString("yyyyMMdd'T'HHmmss", System.Globalization.CultureInfo.InvariantCulture);
}
