using System.Collections.Concurrent;
using KdGat.Core.Diagnostics;

namespace KdGat.Core.Execution.Slurm;

/// <summary>
/// Waits for many jobs with one loop: per poll one squeue for every outstanding job, and one sacct
/// for those that ended (exit code, elapsed, MaxRSS). A failed query is retried with backoff and
/// never ends a job. sacct lags behind the controller: a job squeue reports ended is held for a
/// few polls until accounting has its row, then completed with what is known.
/// </summary>
internal sealed class JobWatcher
{
    /// <summary>Polls a job may wait for its sacct row once squeue says it ended.</summary>
    public const int SacctPatience = 6;
    /// <summary>Polls a job may be missing from both squeue and sacct before it counts as lost (NODE_FAIL: retried unchanged).</summary>
    public const int MissingPatience = 60;

    private sealed class Watch(string id)
    {
        public string Id { get; } = id;
        public TaskCompletionSource<JobStatus> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int WaitedForSacct;
        public int Missing;
        public string? LastState;
    }

    private readonly SlurmClient _client;
    private readonly PollBackoff _backoff;
    private readonly IBuildLog _log;
    private readonly ConcurrentDictionary<string, Watch> _watches = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private Task? _loop;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _failedQueries;

    private readonly TimeProvider _time;

    public JobWatcher(SlurmClient client, PollBackoff backoff, IBuildLog log, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _client = client;
        _backoff = backoff;
        _log = log;
    }

    /// <summary>Completes when the job has ended (or is lost). Cancellation only stops waiting, never the job.</summary>
    public Task<JobStatus> WaitAsync(string jobId, CancellationToken cancel)
    {
        var w = _watches.GetOrAdd(jobId, id => new Watch(id));
        lock (_gate)
        {
            _backoff.Reset();
            _wake.TrySetResult();
            if (_loop is null || _loop.IsCompleted) _loop = Task.Run(LoopAsync, CancellationToken.None);
        }
        return w.Done.Task.WaitAsync(cancel);
    }

    private async Task LoopAsync()
    {
        while (true)
        {
            Task wake;
            lock (_gate)
            {
                if (_watches.IsEmpty) { _loop = null; return; }
                _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
                wake = _wake.Task;
            }
            await Task.WhenAny(Time.Clock.Delay(_time, _backoff.Current), wake).ConfigureAwait(false);
            bool changed, failed;
            try { (changed, failed) = await PollOnceAsync().ConfigureAwait(false); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                (changed, failed) = (false, true);
                Warn($"status query threw {e.GetType().Name}: {e.Message}");
            }
            _backoff.Next(changed, failed);
        }
    }

    /// <summary>One round: squeue for all, sacct for the ended or missing. Returns whether anything changed and whether a query failed.</summary>
    public async Task<(bool Changed, bool Failed)> PollOnceAsync()
    {
        var watches = _watches.Values.ToArray();
        if (watches.Length == 0) return (false, false);
        var live = await _client.SqueueAsync(watches.Select(w => w.Id).ToArray(), CancellationToken.None).ConfigureAwait(false);
        if (live is null)
        {
            Warn("squeue failed; retrying with backoff (jobs are not affected)");
            return (false, true);
        }
        var changed = false;
        var ended = new List<Watch>();
        foreach (var w in watches)
        {
            if (live.TryGetValue(w.Id, out var st))
            {
                w.Missing = 0;
                if (st.State != w.LastState) { changed = true; w.LastState = st.State; }
                if (!st.IsActive) ended.Add(w);
            }
            else ended.Add(w); // unknown to the controller: ask accounting
        }
        if (ended.Count == 0) { _failedQueries = 0; return (changed, false); }

        var acct = await _client.SacctAsync(ended.Select(w => w.Id).ToArray(), CancellationToken.None).ConfigureAwait(false);
        if (acct is null) Warn("sacct failed; retrying with backoff (jobs are not affected)");
        else _failedQueries = 0;
        foreach (var w in ended)
        {
            var fromQueue = live.GetValueOrDefault(w.Id);
            var fromAcct = acct?.GetValueOrDefault(w.Id);
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
                Complete(w, fromQueue is null ? fromAcct : fromAcct with { State = fromQueue.State, Reason = fromQueue.Reason ?? fromAcct.Reason });
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

    private void Complete(Watch w, JobStatus s)
    {
        _watches.TryRemove(w.Id, out _);
        w.Done.TrySetResult(s);
    }

    private void Warn(string message)
    {
        // One warning per streak of failures, not one per poll.
        if (_failedQueries++ == 0) _log.Warn(ErrorCodes.SlurmQueryRetry, $"SLURM {message}.");
    }
}
