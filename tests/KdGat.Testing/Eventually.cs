using System.Diagnostics;

namespace KdGat.Testing;

/// <summary>
/// The one place a test waits by polling: for something outside the test's control (a child
/// process, a build, a browser, a file another process writes) to reach a state. The condition
/// decides when the wait ends, never an amount of time; the timeout only bounds a wait that would
/// otherwise hang. Everything the code under test waits for goes through a manual TimeProvider
/// instead (ManualTime in KdGat.Core.Tests). This file is the only sleep in tests/ outside the
/// SLURM end-to-end tests' fixed waits for the cluster.
/// </summary>
public static class Eventually
{
    /// <summary>How often a condition is asked again, unless the caller says otherwise.</summary>
    public static readonly TimeSpan DefaultPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>True as soon as <paramref name="condition"/> holds; false if <paramref name="timeout"/> passes first.</summary>
    public static bool Within(TimeSpan timeout, Func<bool> condition, TimeSpan? poll = null)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed >= timeout) return false;
            Thread.Sleep(poll ?? DefaultPoll);
        }
        return true;
    }

    /// <summary>Returns once <paramref name="condition"/> holds; a <see cref="TimeoutException"/> naming <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static void Until(Func<bool> condition, TimeSpan timeout, string what, TimeSpan? poll = null)
    {
        if (!Within(timeout, condition, poll))
            throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting until {what}");
    }

    /// <summary><see cref="Until"/> for async tests: the wait does not block a thread.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what, TimeSpan? poll = null)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed >= timeout) throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#} s waiting until {what}");
            await Task.Delay(poll ?? DefaultPoll).ConfigureAwait(false);
        }
    }
}
