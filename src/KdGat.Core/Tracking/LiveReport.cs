using System.Globalization;
using System.Net;
using System.Text;
using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Graphing;
using KdGat.Core.IO;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Tracking;

/// <summary>
/// The HTML page a build rewrites while it runs (default .kdgat/report.html): the stage graph
/// with each instance's state now (waiting, running with its pid or job id, ran, failed, ...), a
/// timeline of this build's attempts and each instance's per-epoch curves (curves.jsonl). While
/// anything runs the page reloads itself (meta refresh: works opened as file://, no server).
/// Writes are atomic (temp + rename) and bounded: a state change asks for a write, and at most
/// one write happens per <see cref="MinInterval"/>, however many of 78 instances change at once,
/// nor sooner after the last one than <see cref="RenderPause"/> times what that one took: the page
/// lays out every instance (~1 s at 7,800), so it costs at most about a fifth of one core however
/// large the build (a cold build of 600 datasets spent about half a core rendering it).
/// While something runs, the page is looked at (a stat per running instance) and rewritten when a
/// running instance's curves.jsonl grew, else at least every <see cref="IdleRewrite"/> so timeline
/// bars move. The looks start at the reload period after a state change or growing curves and back
/// off by half to once per <see cref="IdleRewrite"/> while nothing moves: a build waiting hours on
/// queued SLURM jobs wakes about once a minute, not every reload period (login-node CPU, issue 16).
/// The last write (<see cref="Complete"/>) does not reload, unless SLURM jobs were left queued.
/// </summary>
internal sealed class LiveReport : IDisposable
{
    public const int DefaultRefreshSeconds = 5;

    /// <summary>The longest a page goes unwritten while something runs and nothing changed.</summary>
    public static readonly TimeSpan IdleRewrite = TimeSpan.FromSeconds(60);

    /// <summary>After a write, the loop waits at least this many times as long as the write took (and at least <see cref="MinInterval"/>).</summary>
    public const int RenderPause = 4;

    private sealed class Entry(StageInstance instance)
    {
        public StageInstance Instance { get; } = instance;
        public string State { get; set; } = GraphStyle.Waiting;
        public string Detail { get; set; } = "";
        public string? JobId { get; set; }
        public int Attempt { get; set; }
        public DateTimeOffset? Started { get; set; }
        public DateTimeOffset? Ended { get; set; }
    }

    private readonly TimeProvider _time;
    private readonly string _path;
    private readonly string _buildId;
    private readonly string _root;
    private readonly IBuildLog _log;
    private readonly DateTimeOffset _started;
    private readonly List<Entry> _entries;
    private readonly Dictionary<string, Entry> _byKey;
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly object _writeGate = new();
    private readonly Task _loop;
    private bool _broken;
    private bool _completed;
    private DateTimeOffset _lastWrite;
    private TimeSpan _lastWriteTook;
    private byte[] _bytes = [];

    public string Path { get; }
    public int RefreshSeconds { get; }
    public TimeSpan MinInterval { get; }
    /// <summary>Every write so far succeeded (after <see cref="Complete"/>: the file holds the final page); false after a KDG4020.</summary>
    public bool Written => !_broken && Writes > 0;
    /// <summary>Files written so far (tests: bounded work).</summary>
    public int Writes { get; private set; }
    /// <summary>Times the loop looked at the page without being woken by a change (tests).</summary>
    public int Looks { get; private set; }

    /// <param name="path">Full path of the HTML file.</param>
    /// <param name="minInterval">At most one write per this interval (default 1 s).</param>
    public LiveReport(string path, string buildId, string root, IReadOnlyList<StageInstance> instances, IBuildLog log,
        int refreshSeconds = DefaultRefreshSeconds, TimeSpan? minInterval = null, TimeProvider? time = null)
    {
        Path = _path = path;
        _buildId = buildId;
        _root = root;
        _log = log;
        _time = time ?? TimeProvider.System;
        _started = _time.GetUtcNow();
        RefreshSeconds = Math.Max(1, refreshSeconds);
        MinInterval = minInterval ?? TimeSpan.FromSeconds(1);
        _entries = instances.Select(i => new Entry(i)).ToList();
        _byKey = _entries.ToDictionary(e => e.Instance.Key, StringComparer.Ordinal);
        WriteNow(live: true); // the page exists (waiting) as soon as the build starts
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>An attempt starts: running (local) or submitted (SLURM).</summary>
    public void Started(StageInstance s, string verb, int attempt, IEnumerable<string> reasons)
    {
        Update(s, e =>
        {
            e.State = verb == "running" ? GraphStyle.Running : Outcome.Submitted;
            e.Attempt = attempt;
            e.Detail = string.Join("; ", reasons);
            e.Started ??= _time.GetUtcNow();
            e.Ended = null;
        });
    }

    /// <summary>The attempt's process or job exists.</summary>
    public void JobStarted(StageInstance s, Execution.AttemptHandle handle) => Update(s, e => e.JobId = handle.Describe());

    /// <summary>A submitted job was seen running (or queued again, e.g. requeued): its box says which.</summary>
    public void JobState(StageInstance s, bool running) => Update(s, e =>
    {
        if (e.State is Outcome.Submitted or GraphStyle.Running) e.State = running ? GraphStyle.Running : Outcome.Submitted;
    });

    public void Ended(InstanceResult r)
    {
        Update(r.Instance, e =>
        {
            e.State = r.Outcome;
            e.Detail = r.Error ?? string.Join("; ", r.Reasons.Select(x => x.Text));
            if (r.Handle is { } handle) e.JobId = handle.Describe();
            if (e.Started is not null || r.Seconds is not null) e.Ended = _time.GetUtcNow();
            if (e.Started is null && r.Seconds is { } secs) e.Started = e.Ended - TimeSpan.FromSeconds(secs);
        });
    }

    private void Update(StageInstance s, Action<Entry> change)
    {
        if (!_byKey.TryGetValue(s.Key, out var e)) return;
        lock (_entries) change(e);
        try { if (_wake.CurrentCount == 0) _wake.Release(); } catch (SemaphoreFullException) { }
    }

    /// <summary>The build is over: stop the loop and write the final page (no reload, unless jobs were left in SLURM).</summary>
    public void Complete()
    {
        if (_completed) return;
        _completed = true;
        StopLoop();
        bool queued;
        lock (_entries) queued = _entries.Any(e => e.State == Outcome.Submitted);
        WriteNow(live: queued);
    }

    private async Task LoopAsync()
    {
        var refresh = TimeSpan.FromSeconds(RefreshSeconds);
        var longest = refresh > IdleRewrite ? refresh : IdleRewrite;
        var look = refresh;
        while (!_stop.IsCancellationRequested)
        {
            bool woken;
            try { woken = await KdGat.Core.Time.Clock.WaitAsync(_wake, _time, look, _stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            if (!woken)
            {
                Entry[] active;
                lock (_entries) active = _entries.Where(e => e.State is GraphStyle.Running or Outcome.Submitted).ToArray();
                var moved = active.Any(e => e.Started is not null && CurvesMoved(e));
                var due = active.Length > 0 && (moved || _time.GetUtcNow() - _lastWrite >= IdleRewrite);
                Looks++;
                // While nothing moves, look less often (by half, up to once per IdleRewrite): every
                // wake-up of a build that waits hours on queued jobs costs login-node CPU (issue 16).
                // Curves that grow bring the looks back to once a reload period.
                look = moved ? refresh : TimeSpan.FromTicks(Math.Min(longest.Ticks, look.Ticks * 3 / 2));
                if (!due) continue; // nothing changed, nothing moved, the bars were drawn recently: no write
            }
            else look = refresh; // a state change: something may start writing curves
            WriteNow(live: true);
            // Coalesce a burst of changes; a large page also bounds its own share of the CPU.
            var pause = TimeSpan.FromTicks(Math.Max(MinInterval.Ticks, Math.Min(_lastWriteTook.Ticks * RenderPause, IdleRewrite.Ticks)));
            try { await KdGat.Core.Time.Clock.Delay(_time, pause, _stop.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    private void WriteNow(bool live)
    {
        lock (_writeGate)
        {
            if (_broken) return;
            // A progress page is not part of the attempt protocol: crash tests' plans neither count nor break its writes.
            var plan = CrashPoints.Current;
            CrashPoints.Current = null;
            try
            {
                var start = _time.GetUtcNow();
                var page = new StringBuilder();
                RenderTo(page, live);
                AtomicFile.WriteAllBytes(_path, Utf8(page), durable: false);
                Writes++;
                _lastWrite = _time.GetUtcNow();
                _lastWriteTook = _lastWrite - start;
            }
            catch (Exception e) // whatever goes wrong with a progress page, the build's result must not change
            {
                _broken = true;
                _log.Warn(ErrorCodes.LiveReportWriteFailed, e is IOException or UnauthorizedAccessException
                    ? $"could not write the live report {_path} ({e.Message}); the build goes on without it. Free space or fix permissions, choose another file with -p:ReportFile=PATH, or turn it off with -p:LiveReport=false."
                    : $"could not make the live report {_path} ({e.GetType().Name}: {e.Message}); the build goes on without it. This is a bug in KdGat; please report it (-t:Report and -t:Status still work; -p:LiveReport=false turns the live report off).");
            }
            finally
            {
                CrashPoints.Current = plan;
            }
        }
    }

    /// <summary>
    /// The page as UTF-8, encoded chunk by chunk into a buffer kept between writes: the page is
    /// ~10 MB at 7,800 instances, and a string of it plus its bytes were two more large objects per write.
    /// </summary>
    private ReadOnlySpan<byte> Utf8(StringBuilder page) => Utf8(page, ref _bytes);

    /// <summary><see cref="Utf8(StringBuilder)"/> into <paramref name="buffer"/>, grown when short (internal for tests).</summary>
    internal static ReadOnlySpan<byte> Utf8(StringBuilder page, ref byte[] buffer)
    {
        var encoder = Encoding.UTF8.GetEncoder();
        // Only a first size: counting keeps no state, so a surrogate pair split between two chunks
        // counts 3 bytes (each half alone), not 4. Sized by it alone, such a page failed its write
        // (KDG4020) and the page stayed at an earlier, still reloading state for the rest of the build.
        var count = 0;
        foreach (var chunk in page.GetChunks()) count += encoder.GetByteCount(chunk.Span, flush: false);
        if (buffer.Length < count) buffer = new byte[count];
        var at = 0;
        foreach (var chunk in page.GetChunks()) at = Append(encoder, chunk.Span, flush: false, ref buffer, at);
        at = Append(encoder, [], flush: true, ref buffer, at);
        return buffer.AsSpan(0, at);
    }

    /// <summary>Encodes <paramref name="chars"/> at <paramref name="at"/>; returns the end.</summary>
    private static int Append(Encoder encoder, ReadOnlySpan<char> chars, bool flush, ref byte[] buffer, int at)
    {
        // Counted after the chunk before was encoded, with the high surrogate it ended on held by the encoder: exact.
        var need = at + encoder.GetByteCount(chars, flush);
        if (buffer.Length < need) Array.Resize(ref buffer, need + buffer.Length / 64); // room for a few more split pairs without a copy each
        return at + encoder.GetBytes(chars, buffer.AsSpan(at), flush);
    }

    /// <summary>The page as it stands (public for tests).</summary>
    public string Render(bool live)
    {
        var h = new StringBuilder();
        RenderTo(h, live);
        return h.ToString();
    }

    private void RenderTo(StringBuilder h, bool live)
    {
        Entry[] entries;
        lock (_entries) entries = _entries.Select(e => new Entry(e.Instance) { State = e.State, Detail = e.Detail, JobId = e.JobId, Attempt = e.Attempt, Started = e.Started, Ended = e.Ended }).ToArray();
        var now = _time.GetUtcNow();
        h.Append(ReportPage.Head($"KdGat build {_buildId}", live ? RefreshSeconds : 0));
        var counts = string.Join(", ", entries.GroupBy(e => e.State).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}"));
        h.Append($"<h1>KdGat build {E(_buildId)}</h1>\n<p class=\"muted\">{E(_root)} &middot; started <time data-utc=\"{RunIndex.Time(_started)}\">{Tracker.Local(_started)}</time> &middot; updated <time id=\"updated\" data-utc=\"{RunIndex.Time(now)}\">{Tracker.Local(now)}</time></p>\n");
        h.Append(live
            ? $"<p id=\"build-state\" data-state=\"live\"><span class=\"live\">live</span> {E(counts)} <span class=\"muted\">(reloads every {RefreshSeconds} s{(_completed ? "; jobs left in SLURM: <code>-t:Status</code> or the next build updates this page" : "")})</span></p>\n"
            : $"<p id=\"build-state\" data-state=\"done\"><span class=\"done\">finished</span> {E(counts)} <span class=\"muted\">(run history and metrics: -t:Report)</span></p>\n");

        var nodes = entries.Select(e => new GraphNode(e.Instance.Dataset, e.Instance.Name, e.State, Tip(e))
        {
            Variant = e.Instance.Sweep.IsEmpty ? null : e.Instance.Variant, // a box per grid point: node ids are instance keys, as the edges'
            Caption = e.JobId is { } j && e.State is GraphStyle.Running or Outcome.Submitted ? $"{e.State}, {j}" : null,
        }).ToArray();
        var ids = nodes.Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
        var edges = entries.SelectMany(e => e.Instance.Upstreams.Where(u => ids.Contains(u.Key)).Select(u => new GraphEdge(u.Key, e.Instance.Key))).ToArray();
        h.Append("<h2 id=\"graph\">Stage graph</h2>\n<div class=\"graph\" id=\"stage-graph\">");
        SvgWriter.Write(h, new PipelinePicture(nodes, edges), GraphStyle.BuildLegend);
        h.Append("</div>\n");

        Timeline(h, entries, now);

        var curves = entries.Where(e => e.Started is not null)
            .Select(e => (e, c: Curves(e)))
            .Where(x => x.c is not null).ToArray();
        h.Append("<h2 id=\"curves\">Training curves (per epoch)</h2>\n");
        if (curves.Length == 0)
            h.Append($"<p class=\"muted\">No stage of this build has written {EpochCurves.FileName} yet (one JSON object per line, e.g. {{\"epoch\":1,\"loss\":0.5}}).</p>\n");
        foreach (var (e, c) in curves)
        {
            h.Append($"<h3>{E(e.Instance.Key)} <span class=\"muted\">{E(e.State)}, {c!.Lines} epoch line(s){(c.Tail ? ", last 1 MiB of the file" : "")}</span></h3>\n");
            h.Append(c.ToHtml(e.Instance.Key)).Append('\n');
        }
        h.Append(ReportPage.Foot);
    }

    /// <summary>What the page shows of one curves.jsonl: read when the file had this size and time.</summary>
    private sealed record ShownCurves(long Length, DateTime Written, DateTimeOffset? Since, EpochCurves? Curves)
    {
        public bool Matches(FileInfo now) => now.Exists && now.Length == Length && now.LastWriteTimeUtc == Written;
    }

    private readonly Dictionary<string, ShownCurves> _curves = new(StringComparer.Ordinal);

    private static string CurvesPath(Entry e) => System.IO.Path.Combine(e.Instance.RunDir, EpochCurves.FileName);

    /// <summary>A running instance's curves.jsonl differs (size or time) from what the page shows.</summary>
    private bool CurvesMoved(Entry e)
    {
        var path = CurvesPath(e);
        var info = new FileInfo(path);
        lock (_curves) return _curves.TryGetValue(path, out var shown) ? !shown.Matches(info) : info.Exists;
    }

    /// <summary>A file unchanged since the last write (size and time) is not read again: 78 finished stages cost 78 stat calls.</summary>
    private EpochCurves? Curves(Entry e)
    {
        var path = CurvesPath(e);
        var info = new FileInfo(path);
        lock (_curves)
        {
            if (!info.Exists)
            {
                _curves.Remove(path); // gone (a retry moved it aside): no longer shown, so not "moved" on every look
                return null;
            }
            // A failed or cancelled attempt was rolled back: a curves.jsonl it declares is the kept result's again (its own
            // went to failed/), whatever its time (shown under "failed" when written within 5 s of the start, a review).
            if (e.State is Outcome.Failed or Outcome.Cancelled && e.Instance.Outputs.Contains(path, StringComparer.Ordinal))
            {
                _curves.Remove(path);
                return null;
            }
            // A running attempt's file is its own once written after it started (before, an earlier run's); a restored
            // one is the cached result, checked by the restore, with the cached file's (older) time: no time check.
            var since = e.State == Outcome.Restored ? null : e.Started;
            if (_curves.TryGetValue(path, out var shown) && shown.Matches(info) && shown.Since == since)
                return shown.Curves;
            var c = EpochCurves.Read(path, since);
            _curves[path] = new ShownCurves(info.Length, info.LastWriteTimeUtc, since, c);
            return c;
        }
    }

    private static string Tip(Entry e)
    {
        var parts = new List<string>();
        if (e.JobId is { } j) parts.Add(j);
        if (e.Attempt > 1) parts.Add($"attempt {e.Attempt}");
        if (e.Detail.Length > 0) parts.Add(e.Detail.Length > 300 ? e.Detail[..299] + "…" : e.Detail);
        return string.Join("; ", parts);
    }

    /// <summary>One row per instance that started in this build: a bar from its start to its end (or to now, growing, while it runs).</summary>
    private static void Timeline(StringBuilder h, IReadOnlyList<Entry> entries, DateTimeOffset now)
    {
        var rows = entries.Where(e => e.Started is not null).OrderBy(e => e.Started).ToArray();
        h.Append("<h2 id=\"timeline\">Timeline</h2>\n");
        if (rows.Length == 0) { h.Append("<p class=\"muted\">Nothing has started yet.</p>\n"); return; }
        var t0 = rows.Min(e => e.Started!.Value);
        var t1 = rows.Max(e => e.Ended ?? now);
        var span = Math.Max((t1 - t0).TotalSeconds, 0.001);
        const int labelW = 260, chartW = 620, rowH = 20, top = 22;
        var height = top + rows.Length * rowH + 8;
        h.Append($"<svg class=\"timeline\" id=\"build-timeline\" width=\"{labelW + chartW + 150}\" height=\"{height}\" viewBox=\"0 0 {labelW + chartW + 150} {height}\" role=\"img\" aria-label=\"timeline of this build\">\n");
        for (var i = 0; i <= 4; i++)
        {
            var x = labelW + chartW * i / 4.0;
            h.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:0.#}\" y1=\"{top - 4}\" x2=\"{x:0.#}\" y2=\"{height - 4}\" stroke=\"#e0e0e0\"/><text x=\"{x:0.#}\" y=\"12\" text-anchor=\"middle\">+{E(StageProgress.Duration(span * i / 4))}</text>\n");
        }
        for (var i = 0; i < rows.Length; i++)
        {
            var e = rows[i];
            var y = top + i * rowH;
            var end = e.Ended ?? now;
            var x = labelW + chartW * (e.Started!.Value - t0).TotalSeconds / span;
            var w = Math.Max(chartW * (end - e.Started.Value).TotalSeconds / span, 3);
            var color = e.State switch
            {
                Outcome.Ran or Outcome.Restored or Outcome.UpToDate => ReportPage.RanColor,
                Outcome.Failed or Outcome.Cancelled => ReportPage.FailedColor,
                GraphStyle.Running or Outcome.Submitted => ReportPage.RunningColor,
                _ => ReportPage.OtherColor,
            };
            var took = StageProgress.Duration((end - e.Started.Value).TotalSeconds);
            h.Append(CultureInfo.InvariantCulture,
                $"<g class=\"bar\" data-id=\"{E(e.Instance.Key)}\" data-state=\"{E(e.State)}\"><text x=\"{labelW - 6}\" y=\"{y + 14}\" text-anchor=\"end\">{E(e.Instance.Key)}</text>" +
                $"<rect x=\"{x:0.##}\" y=\"{y + 3}\" width=\"{w:0.##}\" height=\"{rowH - 6}\" fill=\"{color}\"><title>{E(e.Instance.Key)}: {E(e.State)}, {E(took)}{(e.JobId is null ? "" : ", " + E(e.JobId))}</title></rect>" +
                $"<text x=\"{x + w + 4:0.##}\" y=\"{y + 14}\">{E(e.State)} {E(took)}</text></g>\n");
        }
        h.Append("</svg>\n");
    }

    private void StopLoop()
    {
        if (!_stop.IsCancellationRequested) _stop.Cancel();
        try { _loop.GetAwaiter().GetResult(); } catch (OperationCanceledException) { }
    }

    /// <summary>Without <see cref="Complete"/> (the build stopped with an error): the last page, not reloading, so no reader waits for a build that is gone.</summary>
    public void Dispose()
    {
        if (!_completed)
        {
            _completed = true;
            StopLoop();
            WriteNow(live: false);
        }
        _stop.Dispose();
        _wake.Dispose();
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
