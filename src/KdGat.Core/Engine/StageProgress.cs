using System.Globalization;
using KdGat.Core.Diagnostics;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Engine;

/// <summary>
/// What a user watching the console sees of each stage instance: one line when it starts (with
/// why), one when its SLURM job is seen running, one when it ends (outcome, duration, attempt, job
/// id), and while anything runs a "still running" line now and then (first after <see cref="FirstBeat"/>,
/// then at doubling intervals up to <see cref="MaxBeat"/>, so a day-long stage adds a bounded number
/// of lines) that tells a queued job from a running one.
/// </summary>
internal sealed class StageProgress : IDisposable
{
    public static readonly TimeSpan FirstBeat = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan MaxBeat = TimeSpan.FromMinutes(10);

    private readonly IBuildLog _log;
    private readonly Func<DateTimeOffset> _now;
    /// <summary>An attempt being waited for: since when it is in its state, and a batch job's state and id.</summary>
    private sealed record Active(DateTimeOffset Since, string? BatchState = null, string? Job = null);
    private readonly Dictionary<string, Active> _running = new(StringComparer.Ordinal);
    private readonly ITimer? _timer;
    private readonly object _beatGate = new();
    private bool _disposed;
    private TimeSpan _interval = FirstBeat;

    /// <param name="heartbeat">false: no timer (tests call <see cref="Beat"/> themselves).</param>
    public StageProgress(IBuildLog log, bool heartbeat = true, TimeProvider? time = null)
    {
        _log = log;
        var clock = time ?? TimeProvider.System;
        _now = clock.GetUtcNow;
        if (heartbeat) _timer = clock.CreateTimer(_ => OnTimer(), null, FirstBeat, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// Opens the live report (-p:LiveReport; null when off). Called on the first instance that
    /// starts or ends other than up to date, never in a build that finds everything up to date: the
    /// page (a laid-out picture of every instance, ~3 s to render at 7,800 instances) is for
    /// watching what runs, and a no-op leaves the previous build's page. Instances that ended before
    /// are replayed into it, so the page shows every state either way.
    /// </summary>
    public Func<Tracking.LiveReport>? OpenLive { get; set; }

    private readonly object _liveGate = new();
    private readonly List<InstanceResult> _endedBeforeLive = [];
    private Tracking.LiveReport? _live;

    /// <summary>The live report, once opened (see <see cref="OpenLive"/>).</summary>
    public Tracking.LiveReport? Live
    {
        get { lock (_liveGate) return _live; }
    }

    /// <summary>The live report, opened now if it is not yet.</summary>
    private Tracking.LiveReport? LiveNow()
    {
        lock (_liveGate)
        {
            if (_live is null && OpenLive is { } open)
            {
                _live = open();
                foreach (var r in _endedBeforeLive) _live.Ended(r);
                _endedBeforeLive.Clear();
            }
            return _live;
        }
    }

    /// <summary>Tells the live report an instance ended, opening it unless the instance was up to date and it is not open yet.</summary>
    private void LiveEnded(InstanceResult r)
    {
        Tracking.LiveReport? live;
        lock (_liveGate)
        {
            if (_live is null && r.Outcome == Outcome.UpToDate)
            {
                if (OpenLive is not null) _endedBeforeLive.Add(r);
                return;
            }
            live = LiveNow();
        }
        live?.Ended(r);
    }

    /// <summary>
    /// An interrupted attempt of an instance was rolled back: the page a killed build left says it runs
    /// (and reloads itself), so it is written again even when every instance turns out up to date
    /// (it said "running" forever after a kill -9, a review).
    /// </summary>
    public void Recovered() => LiveNow();

    /// <summary>An attempt starts (or a job is submitted or collected): "KdGat: ds/stage: running (attempt 2): why".</summary>
    public void Started(StageInstance s, string verb, int attempt, IEnumerable<string> reasons)
    {
        lock (_running) _running[s.Key] = new(_now());
        LiveNow()?.Started(s, verb, attempt, reasons);
        var why = string.Join("; ", reasons);
        _log.Info($"KdGat: {s.Key}: {verb}{(attempt > 1 ? $" (attempt {attempt})" : "")}{(why.Length > 0 ? ": " + why : "")}");
    }

    /// <summary>The attempt's process started or its job was submitted.</summary>
    public void JobStarted(StageInstance s, Execution.AttemptHandle handle)
    {
        lock (_running)
            if (_running.TryGetValue(s.Key, out var a)) _running[s.Key] = a with { Job = handle.Describe() };
        LiveNow()?.JobStarted(s, handle);
    }

    /// <summary>
    /// A batch job's new state (PENDING, RUNNING, ...) as the executor's poll saw it: the live report
    /// and the heartbeat tell a queued job from a running one, and a start gets its line.
    /// </summary>
    public void JobState(StageInstance s, string state)
    {
        var running = Execution.Slurm.SlurmState.IsRunning(state);
        bool started;
        Active a;
        lock (_running)
        {
            if (!_running.TryGetValue(s.Key, out a!) || a.BatchState == state) return;
            var wasRunning = a.BatchState is { } before && Execution.Slurm.SlurmState.IsRunning(before);
            started = running && !wasRunning;
            // Durations count from a start, a return to the queue, the end of the sbatch call, a hold or a release, not from
            // RUNNING -> COMPLETING. A held job's time is how long it has been held (it read as time queued, a SLURM review).
            var submitted = a.BatchState is { } was && IsSubmitting(was) && !IsSubmitting(state);
            var holdChanged = a.BatchState is { } prior && IsHeld(prior) != IsHeld(state);
            _running[s.Key] = a with { Since = a.BatchState is null || running != wasRunning || submitted || holdChanged ? _now() : a.Since, BatchState = state };
        }
        LiveNow()?.JobState(s, running);
        if (started)
            lock (_beatGate) // as Beat: no line once Dispose returned
                if (!_disposed) _log.Info($"KdGat: {s.Key}: running{(a.Job is null ? "" : $" ({a.Job})")}");
    }

    private static bool IsSubmitting(string state) => state.StartsWith(Execution.Slurm.SlurmExecutor.Submitting, StringComparison.Ordinal);

    /// <summary>The watcher's state of a held job: "HELD (JobHeldAdmin: scontrol release 7)".</summary>
    private static bool IsHeld(string state) => state.StartsWith(Execution.Slurm.JobWatcher.HeldState, StringComparison.Ordinal);

    /// <summary>The attempt's process or job is no longer being waited for.</summary>
    public void Stopped(StageInstance s)
    {
        lock (_running) _running.Remove(s.Key);
    }

    /// <summary>The instance's final line; nothing for instances that were up to date (the summary counts those).</summary>
    public void Ended(InstanceResult r)
    {
        LiveEnded(r);
        if (EndLine(r) is { } line) _log.Info(line);
    }

    /// <summary>"PENDING" as "pending"; "HELD (JobHeldAdmin: scontrol release 7)" keeps its reason and command as SLURM spells them.</summary>
    private static string StateWord(string state) =>
        state.IndexOf(" (", StringComparison.Ordinal) is var cut and > 0 ? state[..cut].ToLowerInvariant() + state[cut..] : state.ToLowerInvariant();

    public static string? EndLine(InstanceResult r)
    {
        if (r.Outcome is Outcome.UpToDate or Outcome.WouldRun or Outcome.WouldRestore or Outcome.Skipped) return null;
        var details = new List<string>();
        if (r.Outcome == Outcome.Adopted) details.Add("outputs found in place; nothing ran");
        if (r.Attempts > 0) details.Add($"attempt {r.Attempts}");
        if (r.Handle is { } handle) details.Add(handle.Describe());
        if (r.ExitCode is { } code && code != 0) details.Add($"exit code {code}");
        var took = r.Seconds is { } s ? $" in {Duration(s)}" : "";
        // "cancelled" alone read as if the job had been scancel'd (a review): with CancelOnAbort=false it runs on.
        var outcome = r.JobLeftRunning ? "cancelled, its job left running" : r.Outcome;
        return $"KdGat: {r.Instance.Key}: {outcome}{took}{(details.Count > 0 ? $" ({string.Join(", ", details)})" : "")}";
    }

    /// <summary>
    /// One "still running" line naming every running instance and for how long ("in progress" with
    /// batch jobs, each with its state: "pending 12m 05s", "running 3m 10s"); nothing when none runs.
    /// </summary>
    public void Beat()
    {
        string[] items;
        bool batch;
        var now = _now();
        lock (_running)
        {
            // Queued jobs last: with a whole DAG submitted at once they would hide what runs.
            items = _running.OrderBy(kv => kv.Value.BatchState is { } st && !Execution.Slurm.SlurmState.IsRunning(st)).ThenBy(kv => kv.Value.Since).Select(kv =>
                $"{kv.Key} ({(kv.Value.BatchState is { } st ? StateWord(st) + " " : "")}{Duration((now - kv.Value.Since).TotalSeconds)})").ToArray();
            batch = _running.Values.Any(a => a.BatchState is not null);
        }
        if (items.Length == 0) return;
        const int shown = 8;
        var more = items.Length > shown ? $" and {items.Length - shown} more" : "";
        _log.Info($"KdGat: {(batch ? "in progress" : "still running")} ({items.Length}): {string.Join(", ", items.Take(shown))}{more}");
    }

    private void OnTimer()
    {
        // Under the gate, so no line is logged once Dispose returned (MSBuild refuses a finished task's log).
        lock (_beatGate)
        {
            if (_disposed) return;
            Beat();
        }
        _interval = TimeSpan.FromTicks(Math.Min(_interval.Ticks * 2, MaxBeat.Ticks));
        try { _timer?.Change(_interval, Timeout.InfiniteTimeSpan); } catch (ObjectDisposedException) { }
    }

    /// <summary>"0.4 s", "12.0 s", "3m 05s", "2h 01m".</summary>
    public static string Duration(double seconds)
    {
        var t = TimeSpan.FromSeconds(Math.Max(0, seconds));
        return t.TotalSeconds < 60 ? t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s"
            : t.TotalHours < 1 ? $"{(int)t.TotalMinutes}m {t.Seconds:00}s"
            : $"{(int)t.TotalHours}h {t.Minutes:00}m";
    }

    public void Dispose()
    {
        lock (_beatGate) _disposed = true;
        _timer?.Dispose();
        Live?.Dispose();
    }
}
