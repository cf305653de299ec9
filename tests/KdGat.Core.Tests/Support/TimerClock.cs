namespace KdGat.Core.Tests.Support;

/// <summary>
/// A clock whose time moves only when the test says, timers included: <see cref="RunUntilAsync"/>
/// jumps from one due timer to the next, waiting (on a condition, with a real-time limit) for the
/// code under test to arm its next timer before jumping again. Time.Clock.Delay(provider, ...)
/// runs on these timers, so the JobWatcher's loop runs a simulated hour in milliseconds.
/// </summary>
internal sealed class TimerClock(DateTimeOffset start) : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<Timer> _timers = [];
    private readonly DateTimeOffset _start = start;
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() { lock (_gate) return _now; }

    public TimeSpan Elapsed => GetUtcNow() - _start;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var t = new Timer(this, callback, state);
        t.Change(dueTime, period);
        return t;
    }

    /// <summary>
    /// Fires due timers in order until simulated time reaches <paramref name="until"/> or <paramref name="done"/>
    /// holds. Between jumps it waits until some timer is armed (the code under test is asleep again).
    /// </summary>
    public async Task RunUntilAsync(TimeSpan until, Func<bool>? done = null)
    {
        var limit = DateTime.UtcNow.AddSeconds(20); // real time: a hung loop fails the test instead of hanging it
        while (Elapsed < until && done?.Invoke() != true)
        {
            Timer? next;
            while (true)
            {
                lock (_gate) next = _timers.Where(t => t.Due is not null).MinBy(t => t.Due);
                if (next is not null || done?.Invoke() == true) break;
                if (DateTime.UtcNow > limit) throw new TimeoutException($"nothing armed a timer at {Elapsed}");
                await Task.Yield();
            }
            if (next is null) break;
            lock (_gate)
            {
                if (next.Due > _now) _now = next.Due!.Value;
                next.Due = null;
            }
            // Let the continuation run up to its next wait before looking for the next timer (it may run inline in Fire).
            var armedBefore = Armed;
            next.Fire();
            var spin = DateTime.UtcNow.AddSeconds(20);
            while (Armed == armedBefore && done?.Invoke() != true && DateTime.UtcNow < spin) await Task.Yield();
        }
    }

    private int _armed;
    private int Armed { get { lock (_gate) return _armed; } }

    private sealed class Timer(TimerClock clock, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                if (!clock._timers.Contains(this)) clock._timers.Add(this);
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock._now + dueTime;
                if (Due is not null) clock._armed++;
            }
            return true;
        }

        public void Fire() => callback(state);

        public void Dispose() { lock (clock._gate) { Due = null; clock._timers.Remove(this); } }

        public ValueTask DisposeAsync() { Dispose(); return ValueTask.CompletedTask; }
    }
}
