using System.Collections.Concurrent;
using KdGat.Core.Diagnostics;

namespace KdGat.Core.Execution.Slurm;

/// <summary>
/// Waits for many jobs with one loop: per poll one squeue for every outstanding job, and one sacct
/// for those that ended (exit code, elapsed, MaxRSS). A failed query is retried with backoff and
/// never fails a job; one that keeps failing for <see cref="UnreachableAfter"/> ends the wait
/// (<see cref="Unreachable"/>: the job is left journalled for the next build). sacct lags behind the controller: a job squeue reports ended is held for a
/// few polls until accounting has its row, then completed with what is known.
/// <para>
/// Between queries the loop looks for the done-marker each job script writes when its command
/// returns (<see cref="JobScript.MarkerPath"/>): a stat per job, no call to SLURM. Looks start
/// slurm.poll_seconds after a submission or a job's end and back off to slurm.max_marker_seconds
/// (each wake-up of this process costs a few milliseconds of CPU). A marker that appears starts a
/// query at once and keeps the queries at poll_seconds while SLURM still lists that job (its shell
/// is exiting) for up to <see cref="MarkerPatience"/> polls. The marker's content is never trusted:
/// the outcome is what squeue and sacct report. Queries otherwise back off from poll_seconds to
/// slurm.max_poll_seconds while no job ends; that slower round is the safety net for jobs that end
/// without a marker (TIMEOUT, scancel, node failure, preemption, a marker an NFS attribute cache
/// keeps hidden, a script from an older KdGat). A query's wake-up also looks for markers, and the
/// next look is counted from it: in steady state a build wakes once per max_marker_seconds.
/// </para>
/// </summary>
internal sealed class JobWatcher
{
    /// <summary>Polls a job may wait for its sacct row once squeue says it ended.</summary>
    public const int SacctPatience = 6;
    /// <summary>Polls a job may be missing from both squeue and sacct before it counts as lost (NODE_FAIL: retried unchanged).</summary>
    public const int MissingPatience = 60;
    /// <summary>Queries at poll_seconds after a job's marker appeared while SLURM still lists the job as active; then the backoff again.</summary>
    public const int MarkerPatience = 6;
    /// <summary>
    /// How long squeue may keep failing before the watcher stops waiting: longer than a controller
    /// restart or failover takes; a failure that lasts (wrong SlurmUser, a login node cut off from the
    /// controller) would otherwise keep the build waiting for ever. The jobs are left as they are.
    /// </summary>
    public static readonly TimeSpan UnreachableAfter = TimeSpan.FromMinutes(30);
    /// <summary>The state a watch ends with when squeue failed for <see cref="UnreachableAfter"/> (not a SLURM state).</summary>
    public const string Unreachable = "UNREACHABLE";
    /// <summary>The state a watch ends with when the job is pending for a reason that never clears (<see cref="SlurmState.NeverStarts"/>; not a SLURM state).</summary>
    public const string NeverStarts = "NEVER_STARTS";
    /// <summary>How a held job's state is shown, before its reason and the scontrol release that lets it go (not a SLURM state).</summary>
    public const string HeldState = "HELD";

    private sealed class Watch(string id, string? marker)
    {
        public string Id { get; } = id;
        /// <summary>Who the job is for (the stage instance's key), in the lines the watcher writes itself.</summary>
        public string? Label;
        /// <summary>Seen running since it was last seen queued: a return to the queue is a requeue.</summary>
        public bool WasRunning;
        /// <summary>The done-marker its job script writes; null: none (only squeue sees it end).</summary>
        public string? Marker { get; } = marker;
        public TaskCompletionSource<JobStatus> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int WaitedForSacct;
        public int Missing;
        public string? LastState;
        /// <summary>Told each new state squeue reports while the job is active (PENDING, RUNNING, ...).</summary>
        public Action<string>? OnState;
        /// <summary>What the console was last told (the state, or that the job is held).</summary>
        public string? LastShown;
        public bool MarkerSeen;
        /// <summary>Held when last polled, and said so.</summary>
        public bool HeldSaid;
        /// <summary>Queries left at poll_seconds since the marker appeared.</summary>
        public int Hurry;
    }

    private readonly SlurmClient _client;
    private readonly PollBackoff _backoff;
    private readonly PollBackoff _markerBackoff;
    private readonly IBuildLog _log;
    private readonly ConcurrentDictionary<string, Watch> _watches = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private Task? _loop;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Under _gate: WaitAsync resets them from the caller's thread.
    private bool _queryNow;
    private DateTimeOffset _nextQuery = DateTimeOffset.MinValue;
    private DateTimeOffset _nextMarkerLook = DateTimeOffset.MinValue;
    private int _markerWatches;
    private int _failedQueries;
    /// <summary>When squeue's current streak of failures began (null: it answered last time).</summary>
    private DateTimeOffset? _squeueFailingSince;
    /// <summary>When sacct's current streak of failures began (null: it answered last time, or was not needed).</summary>
    private DateTimeOffset? _sacctFailingSince;

    private readonly TimeProvider _time;

    /// <param name="backoff">Between status queries: slurm.poll_seconds to slurm.max_poll_seconds.</param>
    /// <param name="maxMarkerSeconds">slurm.max_marker_seconds: the longest wait between two looks for done-markers.</param>
    public JobWatcher(SlurmClient client, PollBackoff backoff, IBuildLog log, TimeProvider? time = null, double maxMarkerSeconds = 30)
    {
        _time = time ?? TimeProvider.System;
        _client = client;
        _backoff = backoff;
        _markerBackoff = new PollBackoff(backoff.Min.TotalSeconds, maxMarkerSeconds);
        _log = log;
    }

    /// <summary>SLURM status queries so far (squeue calls, failed ones included).</summary>
    public int Queries { get; private set; }

    /// <summary>Looks for done-markers so far (each a stat per job that writes one).</summary>
    public int MarkerLooks { get; private set; }

    /// <summary>Times the loop woke up (each costs this process a timer and a thread-pool hop).</summary>
    public int WakeUps { get; private set; }

    /// <summary>Completes when the job has ended (or is lost). Cancellation only stops waiting, never the job.</summary>
    /// <param name="marker">The done-marker the job's script writes (<see cref="JobScript.MarkerPath"/>); null when it writes none.</param>
    /// <param name="onState">Told each new state of the job while it is active, as the polls see it (a start shows within max_poll_seconds).</param>
    /// <param name="label">Who the job is for (the stage instance's key): named in the line a requeue gets.</param>
    public Task<JobStatus> WaitAsync(string jobId, CancellationToken cancel, string? marker = null, Action<string>? onState = null, string? label = null)
    {
        var added = false;
        var w = _watches.GetOrAdd(jobId, id => { added = true; return new Watch(id, marker) { OnState = onState, Label = label }; });
        lock (_gate)
        {
            if (added && w.Marker is not null) _markerWatches++;
            _backoff.Reset();
            ResetMarkerLooks();
            _queryNow = true;
            _wake.TrySetResult();
            if (_loop is null || _loop.IsCompleted) _loop = Task.Run(LoopAsync, CancellationToken.None);
        }
        return w.Done.Task.WaitAsync(cancel);
    }

    /// <summary>Under _gate: the next look for markers in poll_seconds, backing off from there.</summary>
    private void ResetMarkerLooks()
    {
        _markerBackoff.Reset();
        _nextMarkerLook = _time.GetUtcNow() + _markerBackoff.Current;
    }

    private async Task LoopAsync()
    {
        while (true)
        {
            Task wake;
            TimeSpan wait;
            lock (_gate)
            {
                if (_watches.IsEmpty) { _loop = null; return; }
                if (!_queryNow) _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
                wake = _queryNow ? Task.CompletedTask : _wake.Task;
                wait = NextWait();
            }
            if (wait > TimeSpan.Zero && !wake.IsCompleted)
            {
                using var stop = new CancellationTokenSource();
                var delay = Time.Clock.Delay(_time, wait, stop.Token);
                if (await Task.WhenAny(delay, wake).ConfigureAwait(false) != delay) stop.Cancel(); // drops the timer
            }
            try { await TickAsync().ConfigureAwait(false); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Warn($"status query threw {e.GetType().Name}: {e.Message}");
                lock (_gate)
                {
                    _backoff.Next(false, true);
                    _nextQuery = _time.GetUtcNow() + _backoff.Current;
                }
            }
        }
    }

    /// <summary>Under _gate: until the next query is due, or the next look for markers if sooner.</summary>
    private TimeSpan NextWait()
    {
        var until = _markerWatches > 0 && _nextMarkerLook < _nextQuery ? _nextMarkerLook : _nextQuery;
        var wait = until - _time.GetUtcNow();
        // Timers count whole milliseconds (Task.Delay truncates): round up, or a wait would end just
        // short of what it waits for and the loop would spin through sub-millisecond waits.
        return wait <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds));
    }

    /// <summary>
    /// One wake-up: look for markers if due; query SLURM if one appeared, if asked to, or if the query
    /// backoff says so. A wake-up for a query also looks (a stat per job) and restarts the looks'
    /// interval from there, so the queries do not come as wake-ups of their own between two looks.
    /// </summary>
    private async Task TickAsync()
    {
        bool due, look, appeared = false, query;
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            WakeUps++;
            due = _markerWatches > 0 && now >= _nextMarkerLook;
            look = due || _markerWatches > 0 && (_queryNow || now >= _nextQuery);
        }
        if (look) appeared = CheckMarkers(); // file system calls: not under the lock
        lock (_gate)
        {
            if (look)
            {
                MarkerLooks++;
                // A look that only rides on a query's wake-up restarts the interval without growing it
                // (right after a submission the next look stays poll_seconds away).
                if (due || appeared) _markerBackoff.Next(appeared);
                _nextMarkerLook = now + _markerBackoff.Current;
            }
            query = _queryNow || appeared || now >= _nextQuery;
            _queryNow = false;
        }
        if (!query) return;
        var (changed, failed) = await PollOnceAsync().ConfigureAwait(false);
        lock (_gate)
        {
            var hurry = false;
            foreach (var w in _watches.Values)
                if (w.Hurry > 0) { w.Hurry--; hurry = true; }
            _backoff.Next(changed || hurry, failed);
            _nextQuery = _time.GetUtcNow() + _backoff.Current;
            if (changed) ResetMarkerLooks(); // a job ended: its dependents may start now, and may be short
        }
    }

    /// <summary>True when some job's marker has appeared since the last look. A marker that is gone again (a requeued job's script removes it) re-arms.</summary>
    private bool CheckMarkers()
    {
        var appeared = false;
        foreach (var w in _watches.Values)
        {
            if (w.Marker is null) continue;
            var exists = File.Exists(w.Marker);
            if (exists && !w.MarkerSeen) { w.Hurry = MarkerPatience; appeared = true; }
            w.MarkerSeen = exists;
        }
        return appeared;
    }

    /// <summary>Only reporting hangs on it: whatever the callback does must not cut a poll round short (jobs that ended would wait a round).</summary>
    private static void Tell(Watch w, string state)
    {
        try { w.OnState?.Invoke(state); }
        catch (Exception e) when (e is not OutOfMemoryException) { }
    }

    /// <summary>One round: squeue for all, sacct for the ended or missing. Returns whether a job ended (or squeue newly lists it as ended) and whether a query failed.</summary>
    public async Task<(bool Changed, bool Failed)> PollOnceAsync()
    {
        var watches = _watches.Values.ToArray();
        if (watches.Length == 0) return (false, false);
        Queries++;
        var live = await _client.SqueueAsync(watches.Select(w => w.Id).ToArray(), CancellationToken.None).ConfigureAwait(false);
        if (live is null)
        {
            Warn("squeue failed; retrying with backoff (jobs are not affected)");
            var now = _time.GetUtcNow();
            _squeueFailingSince ??= now;
            if (now - _squeueFailingSince < UnreachableAfter) return (false, true);
            var why = $"squeue has failed for {UnreachableAfter.TotalMinutes:0} minutes" + (_client.LastError is { } e ? $" (last: {e})" : "");
            foreach (var w in watches) Complete(w, new JobStatus(w.Id, Unreachable, why));
            return (true, true);
        }
        _squeueFailingSince = null;
        var changed = false;
        var ended = new List<Watch>();
        foreach (var w in watches)
        {
            if (live.TryGetValue(w.Id, out var st))
            {
                w.Missing = 0;
                // Only an end speeds the polling up again: PENDING -> RUNNING says nothing about when a job ends.
                if (st.State != w.LastState)
                {
                    changed |= !st.IsActive;
                    w.LastState = st.State;
                    if (SlurmState.IsRunning(st.State)) w.WasRunning = true;
                    else if (w.WasRunning && Requeued(st.State))
                    {
                        // Back in the queue after running (node failure, preemption, scontrol requeue): said as such,
                        // not left to look like a job that has not started yet.
                        w.WasRunning = false;
                        w.HeldSaid = Held(st);
                        _log.Info($"KdGat: {Who(w)}job {w.Id} was requeued by SLURM{(st.Reason is { } r ? $" ({r})" : "")}{(w.HeldSaid ? $" and held: once someone releases it (scontrol release {w.Id}) it" : "; it")} runs again as the same attempt, its script clearing the declared outputs first{(w.HeldSaid ? "; the build waits for it" : "")}.");
                    }
                }
                // A held job waits for a human, for ever: said at once, not only in the next progress line (up to 10 minutes away).
                if (Held(st) && !w.HeldSaid)
                    _log.Info($"KdGat: {Who(w)}job {w.Id} is held ({st.Reason ?? st.State}): SLURM does not start it until someone releases it (scontrol release {w.Id}); the build waits for it.");
                w.HeldSaid = Held(st);
                if (SlurmState.Normalize(st.State) == "PENDING" && SlurmState.NeverStarts(st.Reason))
                {
                    Complete(w, new JobStatus(w.Id, NeverStarts, st.Reason));
                    changed = true;
                    continue;
                }
                // A held job stays PENDING for ever: say so, and how to let it go (a SLURM pass).
                var shown = Held(st)
                    ? $"{HeldState} ({st.Reason}: scontrol release {w.Id})"
                    : SlurmState.Normalize(st.State) == "PENDING" && SlurmState.IsNotable(st.Reason) ? $"{st.State} ({st.Reason})" : st.State;
                if (st.IsActive && shown != w.LastShown)
                {
                    w.LastShown = shown;
                    Tell(w, shown);
                }
                if (!st.IsActive) ended.Add(w);
            }
            else ended.Add(w); // unknown to the controller: ask accounting
        }
        if (ended.Count == 0)
        {
            _failedQueries = 0;
            _sacctFailingSince = null; // a streak is of sacct calls in a row: one long before must not count toward UnreachableAfter
            return (changed, false);
        }

        var acct = await _client.SacctAsync(ended.Select(w => w.Id).ToArray(), CancellationToken.None).ConfigureAwait(false);
        var polled = _time.GetUtcNow();
        if (acct is null)
        {
            Warn("sacct failed; retrying with backoff (jobs are not affected)");
            _sacctFailingSince ??= polled;
        }
        else
        {
            _failedQueries = 0;
            _sacctFailingSince = null;
        }
        foreach (var w in ended)
        {
            var fromQueue = live.GetValueOrDefault(w.Id);
            var fromAcct = acct?.GetValueOrDefault(w.Id);
            if (fromQueue is null && acct is null)
            {
                // Gone from squeue (ended over MinJobAge ago, e.g. a -p:Wait=false build's job) and sacct failed
                // (slurmdbd down, a site without accounting): nothing is known of how it ended. Not counted as
                // missing: a completed job was taken for lost (NODE_FAIL) and run again (a review). After
                // UnreachableAfter the wait ends as for a failing squeue: the journal stays, the next build collects it.
                if (polled - _sacctFailingSince < UnreachableAfter) continue;
                Complete(w, new JobStatus(w.Id, Unreachable, SacctUnreachable(w)));
                changed = true;
                continue;
            }
            if (fromQueue is null && (fromAcct is null || fromAcct.IsActive))
            {
                // Neither knows it as ended: sacct lag right after submission, or a lost job.
                if (++w.Missing < MissingPatience) continue;
                Complete(w, new JobStatus(w.Id, "NODE_FAIL", "job vanished from squeue and sacct"));
                changed = true;
                continue;
            }
            if (fromAcct is not null && !fromAcct.IsActive)
            {
                // The controller's state and reason are the live truth; accounting adds exit code, elapsed, MaxRSS.
                // sacct's "CANCELLED by 1234" says who cancelled (SlurmState.ToExecState); squeue's is the bare state.
                var state = fromQueue is null || SlurmState.Normalize(fromQueue.State) == SlurmState.Normalize(fromAcct.State) ? fromAcct.State : fromQueue.State;
                Complete(w, fromQueue is null ? fromAcct : fromAcct with { State = state, Reason = fromQueue.Reason ?? fromAcct.Reason });
                changed = true;
            }
            else if (++w.WaitedForSacct >= SacctPatience || acct is null && w.WaitedForSacct >= SacctPatience * 2)
            {
                Complete(w, fromQueue!);
                changed = true;
            }
        }
        return (changed, acct is null);
    }

    /// <summary>Why the wait for a job squeue no longer lists ends while sacct keeps failing; the done-marker is named, never taken as the outcome.</summary>
    private string SacctUnreachable(Watch w)
    {
        var marker = w.Marker is null ? "" : File.Exists(w.Marker)
            ? $"; its done-marker {w.Marker} is there (the command returned), but only sacct can tell how the job ended"
            : $"; its done-marker {w.Marker} is not there (killed before its command returned, or still hidden by the file system)";
        return $"squeue no longer lists job {w.Id} (it ended over MinJobAge ago) and sacct has failed for {UnreachableAfter.TotalMinutes:0} minutes" +
               (_client.LastSacctError is { } e ? $" (last: {e})" : "") + marker;
    }

    /// <summary>Held by scontrol hold or requeuehold (or sbatch --hold): it starts only once someone releases it.</summary>
    private static bool Held(JobStatus st) =>
        st.Reason is "JobHeldAdmin" or "JobHeldUser" || SlurmState.Normalize(st.State) == "REQUEUE_HOLD" || st.Reason?.Contains("held state", StringComparison.OrdinalIgnoreCase) == true;

    private static string Who(Watch w) => w.Label is null ? "" : w.Label + ": ";

    /// <summary>A state a job is in again after it ran: queued (PENDING) or SLURM's own REQUEUED, REQUEUE_HOLD, REQUEUE_FED.</summary>
    private static bool Requeued(string state) => SlurmState.Normalize(state) is var n && (n == "PENDING" || n.StartsWith("REQUEUE", StringComparison.Ordinal));

    private void Complete(Watch w, JobStatus s)
    {
        if (_watches.TryRemove(w.Id, out _) && w.Marker is not null)
            lock (_gate) _markerWatches--;
        w.Done.TrySetResult(s);
    }

    private void Warn(string message)
    {
        // One warning per streak of failures, not one per poll.
        if (_failedQueries++ == 0) _log.Warn(ErrorCodes.SlurmQueryRetry, $"SLURM {message}.");
    }
}
