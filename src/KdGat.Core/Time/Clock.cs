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

    /// <summary>
    /// Waits until <paramref name="signal"/> is released (true) or <paramref name="timeout"/> passes
    /// on <paramref name="time"/>'s timers (false); <paramref name="cancel"/> throws as usual.
    /// SemaphoreSlim's own timeout runs on the system clock, which a test cannot move.
    /// </summary>
    public static async Task<bool> WaitAsync(SemaphoreSlim signal, TimeProvider time, TimeSpan timeout, CancellationToken cancel)
    {
        using var expiry = new CancellationTokenSource(timeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(expiry.Token, cancel);
        try
        {
            await signal.WaitAsync(either.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return false;
        }
    }

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
