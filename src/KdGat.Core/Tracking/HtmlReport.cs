using System.Globalization;
using System.Net;
using System.Text;
using KdGat.Core.Graphing;
using KdGat.Core.IO;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Tracking;

/// <summary>
/// One self-contained HTML file: metrics per variant and dataset, then per dataset a timeline
/// (SVG) of the stage attempts of its latest build and a table of each stage's latest attempt
/// (duration, peak memory, state). No external files, fonts or scripts: it opens offline.
/// </summary>
internal static class HtmlReport
{
    // Colours the screenshot test looks for: keep them unique to their element.
    public const string RanColor = ReportPage.RanColor, FailedColor = ReportPage.FailedColor, OtherColor = ReportPage.OtherColor, MetricsHeaderColor = ReportPage.MetricsHeaderColor;

    /// <param name="status">The Status rows (<see cref="Tracker.StatusAsync"/>).</param>
    /// <param name="reloadSeconds">Make the page reload itself this often (something is still running); 0: never.</param>
    /// <param name="variantErrors">
    /// Status's page: a variant error (KDG5022) is said here as a warning and on the page in place of
    /// the metrics, and the rest of the page is written (a live page kept its old states while jobs
    /// ran, a review). Without it (-t:Report) it is the error it is.
    /// </param>
    public static string Render(Tracker t, IReadOnlyList<Variant>? variants, DateTimeOffset now, IReadOnlyList<StatusRow> status, int reloadSeconds = 0, Diagnostics.IBuildLog? variantErrors = null)
    {
        CompareTable compare;
        string? compareError = null;
        try
        {
            compare = t.Compare(status, variants);
        }
        catch (Diagnostics.KdgException e) when (variantErrors is not null && e.Code == Diagnostics.ErrorCodes.DuplicateVariant)
        {
            variantErrors.Report(new Diagnostics.Diagnostic(Diagnostics.Severity.Warning, e.Code, $"{e.Message} The report's metrics section says so; the rest of it is up to date.", e.File, e.Line, e.Column));
            compare = new CompareTable([], [], new Dictionary<(string Dataset, string Variant), IndexedRun>());
            compareError = $"{e.Code}: {e.Message}";
        }
        var runs = t.ShownRuns(status).Where(r => t.Pipeline.Datasets.Contains(r.Record.Dataset)).ToArray();
        var counts = t.Index.Counts();
        var rows = status;
        var statusByKey = rows.ToDictionary(s => s.Key);
        // Grouped once: per dataset (and stage) scans of every run, row and instance made a report of
        // 600 datasets quadratic (each of 7,800 rows looked through all 7,800 again).
        var runsOf = runs.ToLookup(r => r.Record.Dataset, StringComparer.Ordinal);
        var rowsOf = rows.ToLookup(r => (r.Dataset, r.Stage));
        var instancesOf = t.Pipeline.Instances.ToLookup(i => i.Dataset, StringComparer.Ordinal);
        var grid = t.Pipeline.Sweep is null ? null : t.Pipeline.Grid.Select(i => i.Key).ToHashSet(StringComparer.Ordinal);
        var h = new StringBuilder();
        h.Append(ReportPage.Head("KdGat run report", reloadSeconds));
        h.Append($"<h1>KdGat run report</h1><p class=\"muted\">{E(t.Pipeline.Layout.Root)} &middot; generated <time data-utc=\"{RunIndex.Time(now)}\">{Tracker.Local(now)}</time> &middot; {counts.Where(c => t.Pipeline.Datasets.Contains(c.Key.Dataset)).Sum(c => c.Value)} recorded attempt(s) in {t.Pipeline.Datasets.Count} dataset(s)</p>\n");

        if (reloadSeconds > 0)
            h.Append($"<p><span class=\"live\">live</span> <span class=\"muted\">stage instances still running: this page reloads every {reloadSeconds} s while <code>-t:Status</code> (or a build) rewrites it</span></p>\n");
        Graph(h, t, rows);

        // Metrics per variant.
        h.Append("<h2 id=\"metrics\">Metrics per variant</h2>\n");
        if (compareError is not null)
            h.Append($"<p class=\"not-current\">{E(compareError)}</p>\n");
        else if (compare.Rows.Count == 0)
        {
            h.Append("<p>No stage has recorded metrics yet (a stage's metrics come from the metrics.json among its outputs).</p>\n");
            foreach (var note in compare.Notes) h.Append($"<p class=\"not-current\">{E(note)}</p>\n");
        }
        else
        {
            h.Append("<table class=\"metrics\" id=\"metrics-table\"><thead><tr><th>dataset</th><th>metric</th>");
            foreach (var v in compare.Variants) h.Append($"<th>{E(v)}</th>");
            h.Append("</tr></thead><tbody>\n");
            foreach (var row in compare.Rows)
            {
                // Only current values compete for bold: a stale one is not a result of today's tree.
                bool Current(int i) => !compare.NotCurrent.ContainsKey((row.Dataset, compare.Variants[i])) && row.Gap(i) is null;
                var current = Enumerable.Range(0, row.Values.Count).Where(i => row.Values[i].HasValue && Current(i)).ToArray();
                var best = MetricDirection.Best(row.Metric, current.Select(i => row.Values[i]!.Value));
                h.Append($"<tr><td>{E(row.Dataset)}</td><td>{E(row.Metric)}</td>");
                for (var i = 0; i < row.Values.Count; i++)
                {
                    var v = row.Values[i];
                    var shown = i < row.Stats.Count && row.Stats[i] is { } st ? st.ToString() : Tracker.Number(v); // mean ± std (n) over seeds
                    var why = string.Join("; ", new[] { compare.NotCurrent.GetValueOrDefault((row.Dataset, compare.Variants[i])), row.Gap(i) }.OfType<string>());
                    if (why.Length > 0)
                    {
                        h.Append($"<td class=\"num not-current\" title=\"{E(why)}\">{E(shown)} <span class=\"muted\">({E(why)})</span></td>");
                        continue;
                    }
                    h.Append($"<td class=\"num{(v.HasValue && v == best && current.Length > 1 ? " best" : "")}\">{E(shown)}</td>");
                }
                h.Append("</tr>\n");
            }
            h.Append("</tbody></table>\n");
            foreach (var note in compare.Notes) h.Append($"<p class=\"not-current\">{E(note)}</p>\n");
            if (compare.Narrowed.Count > 0)
                h.Append($"<p class=\"muted\">n=K of N seeds, -p:Sweep: the value is over only the K seeds -p:Sweep={E(compare.Narrowed.Values.First().Selection)} selects, not every seed of the grid; a report without -p:Sweep gives the mean ± std (n) of all N.</p>\n");
            h.Append("<p class=\"muted\">Each value comes from the run that made its stage instance's current result; a value in grey with a reason is from an older run while the instance is stale, failed or not yet built (a build of today's tree may give another); bold is the best current value in a row: the highest of accuracy-like metrics (accuracy, precision, recall, f1, auc, ...), the lowest of error-like ones (fp, fn, fpr, loss, error, mse, ...) but the highest of a neg_ score (neg_log_loss), none for other names (counts such as graphs).</p>\n");
        }

        // Per dataset: timeline of the latest build, then each stage's latest attempt.
        foreach (var d in t.Pipeline.Datasets)
        {
            var mine = runsOf[d].ToArray();
            h.Append($"<h2 id=\"dataset-{E(d)}\">{E(d)}</h2>\n");
            if (mine.Length == 0) { h.Append("<p>Nothing has run for this dataset yet.</p>\n"); continue; }
            var lastBuild = RunIndex.InOrder(mine).Last().Record.BuildId;
            Timeline(h, d, mine.Where(r => r.Record.BuildId == lastBuild).Select(r => r.Record).ToArray(), lastBuild, t);

            h.Append("<h3>Stages (latest attempt)</h3><table class=\"runs\"><thead><tr><th>stage</th><th>now</th><th>last attempt</th><th>finished (UTC)</th><th>duration</th><th>CPU</th><th>peak memory</th><th>attempts recorded</th><th>build</th></tr></thead><tbody>\n");
            foreach (var s in t.StageNames())
                foreach (var slot in Slots(s, rowsOf[(d, s)], mine))
                {
                    // A swept stage has a row per grid point ("train/seed=1"), each with its own state.
                    var ofSlot = mine.Where(r => r.Record.Stage == s && r.Record.Slot == slot).Select(r => r.Record).ToArray();
                    var (state, stateDetail) = statusByKey.TryGetValue($"{d}/{slot}", out var st) ? (st.State, st.Detail) : NotAnInstanceNow(t, grid?.Contains($"{d}/{slot}") ?? false, s, slot);
                    if (ofSlot.Length == 0)
                    {
                        h.Append($"<tr><td>{E(slot)}</td><td{(st is null ? $" title=\"{E(stateDetail)}\"" : "")}>{E(state)}</td><td colspan=\"7\" class=\"muted\">never ran</td></tr>\n");
                        continue;
                    }
                    var r = ofSlot[^1];
                    h.Append($"<tr><td>{E(slot)}</td><td title=\"{E(stateDetail)}\">{E(state)}</td><td class=\"state-{E(r.State)}\">{E(r.State)}</td><td>{Tracker.Local(r.FinishedUtc)}</td>" +
                             $"<td class=\"num\">{Tracker.Duration(r.WallSeconds)}</td><td class=\"num\">{Tracker.Duration(r.CpuSeconds)}</td><td class=\"num\">{Tracker.Memory(r.PeakRssKb)}</td>" +
                             $"<td class=\"num\">{counts.GetValueOrDefault((d, slot), ofSlot.Length)}</td><td>{E(r.BuildId)}</td></tr>\n");
                }
            h.Append("</tbody></table>\n");
            Curves(h, instancesOf[d], mine, statusByKey);
        }

        h.Append(ReportPage.Foot);
        return h.ToString();
    }

    /// <summary>
    /// The "now" of a row Status has no instance for (it was blank): a grid point -p:Sweep leaves out, or
    /// one no longer in the stage's grid (removed from its sweep:, the stage no longer swept, or its runs
    /// from before it was), whose runs History keeps and Compare leaves out. A point of neither grid
    /// said "not selected" under -p:Sweep, as if a build without it would make it.
    /// </summary>
    /// <param name="selectable">The row is an instance of the grid before -p:Sweep narrowed it (<see cref="Engine.LoadedPipeline.Grid"/>).</param>
    private static (string State, string Detail) NotAnInstanceNow(Tracker t, bool selectable, string stage, string slot) =>
        t.Pipeline.Sweep is { } selection && selectable
            ? ("not selected", $"-p:Sweep={selection} leaves {slot} out")
            : ("not in the grid now", (slot == stage
                ? $"{stage} is swept in {t.Stored(t.Pipeline.Config.File)} now: these are its runs from before the sweep"
                : $"{slot} is not a grid point of {stage} in {t.Stored(t.Pipeline.Config.File)} now (removed from its sweep:, or the stage is no longer swept)")
                + "; History keeps its runs, Compare leaves them out");

    /// <summary>
    /// The instances of stage <paramref name="stage"/> in a dataset (<paramref name="rowsOfStage"/>: Status's rows of
    /// the stage there, <paramref name="runs"/>: the dataset's runs): "stage", or "stage/variant" per grid point the
    /// pipeline has now or a record has.
    /// </summary>
    private static IEnumerable<string> Slots(string stage, IEnumerable<StatusRow> rowsOfStage, IReadOnlyList<IndexedRun> runs)
    {
        var slots = rowsOfStage.Select(x => x.Variant is null ? stage : $"{stage}/{x.Variant}")
            .Concat(runs.Where(r => r.Record.Stage == stage).Select(r => r.Record.Slot))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        return slots.Length == 0 ? [stage] : slots;
    }

    private static void Timeline(StringBuilder h, string dataset, IReadOnlyList<RunRecord> attempts, string buildId, Tracker t)
    {
        var t0 = attempts.Min(a => a.StartedUtc);
        var t1 = attempts.Max(a => a.FinishedUtc);
        var span = Math.Max((t1 - t0).TotalSeconds, 0.001);
        var order = t.StageNames();
        var rows = attempts.OrderBy(a => IndexOf(order, a.Stage)).ThenBy(a => a.StartedUtc).ToArray();
        const int labelW = 230, chartW = 720, rowH = 20, top = 22;
        var height = top + rows.Length * rowH + 8;
        h.Append($"<h3>Timeline of build {E(buildId)} <span class=\"muted\">({Tracker.Local(t0)} &ndash; {Tracker.Local(t1)}, {Tracker.Duration(span)})</span></h3>\n");
        h.Append($"<svg class=\"timeline\" id=\"timeline-{E(dataset)}\" width=\"{labelW + chartW + 140}\" height=\"{height}\" viewBox=\"0 0 {labelW + chartW + 140} {height}\" role=\"img\" aria-label=\"timeline of {E(dataset)}\">\n");
        for (var i = 0; i <= 4; i++)
        {
            var x = labelW + chartW * i / 4.0;
            h.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:0.#}\" y1=\"{top - 4}\" x2=\"{x:0.#}\" y2=\"{height - 4}\" stroke=\"#e0e0e0\"/><text x=\"{x:0.#}\" y=\"12\" text-anchor=\"middle\">+{E(Tracker.Duration(span * i / 4))}</text>\n");
        }
        for (var i = 0; i < rows.Length; i++)
        {
            var a = rows[i];
            var y = top + i * rowH;
            var x = labelW + chartW * (a.StartedUtc - t0).TotalSeconds / span;
            var w = Math.Max(chartW * a.WallSeconds / span, 3);
            var color = a.State switch { "ran" => RanColor, "failed" or "cancelled" => FailedColor, _ => OtherColor };
            var label = $"{a.Stage}{(a.Attempt > 1 ? $" (attempt {a.Attempt})" : "")}";
            h.Append(CultureInfo.InvariantCulture,
                $"<text x=\"{labelW - 6}\" y=\"{y + 14}\" text-anchor=\"end\">{E(label)}</text><rect x=\"{x:0.##}\" y=\"{y + 3}\" width=\"{w:0.##}\" height=\"{rowH - 6}\" fill=\"{color}\"><title>{E(label)}: {E(a.State)}, {E(Tracker.Duration(a.WallSeconds))}, peak {E(Tracker.Memory(a.PeakRssKb))}</title></rect>" +
                $"<text x=\"{x + w + 4:0.##}\" y=\"{y + 14}\">{E(Tracker.Duration(a.WallSeconds))} &middot; {E(Tracker.Memory(a.PeakRssKb))}</text>\n");
        }
        h.Append("</svg>\n");
    }

    private static int IndexOf(IReadOnlyList<string> order, string stage)
    {
        for (var i = 0; i < order.Count; i++) if (order[i] == stage) return i;
        return int.MaxValue;
    }

    /// <summary>The stage graph with each instance's Status state (running ones with their job id).</summary>
    private static void Graph(StringBuilder h, Tracker t, IReadOnlyList<StatusRow> rows)
    {
        var byKey = rows.ToDictionary(r => r.Key);
        var nodes = t.Pipeline.Instances.Where(i => byKey.ContainsKey(i.Key)).Select(i =>
        {
            var r = byKey[i.Key];
            return new GraphNode(i.Dataset, i.Name, r.State, r.Detail)
            {
                Variant = i.Sweep.IsEmpty ? null : i.Variant, // a node per grid point: ids (and edges) are instance keys
                Caption = r.Active && r.JobId is { } job ? $"{r.State}, job {job}" : null,
            };
        }).ToArray();
        var ids = nodes.Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
        var edges = t.Pipeline.Instances.Where(i => ids.Contains(i.Key))
            .SelectMany(i => i.Upstreams.Where(u => ids.Contains(u.Key)).Select(u => new GraphEdge(u.Key, i.Key))).ToArray();
        h.Append("<h2 id=\"graph\">Stage graph</h2>\n<div class=\"graph\" id=\"stage-graph\">");
        h.Append(SvgWriter.Write(new PipelinePicture(nodes, edges), GraphStyle.StatusLegend));
        h.Append("</div>\n");
    }

    /// <summary>
    /// Per-epoch curves (curves.jsonl) of each stage instance, current or marked as not, by Status as
    /// Compare's values are (never by file time: a restore from the cache keeps the cached file's time,
    /// a later attempt rolled back leaves the result's): current only while Status finds the instance up
    /// to date and the file is a declared output, whose content its manifest vouches for. A running
    /// instance's file is its attempt's progress (as on the live report), not a result.
    /// </summary>
    private static void Curves(StringBuilder h, IEnumerable<StageInstance> instances, IReadOnlyList<IndexedRun> mine, IReadOnlyDictionary<string, StatusRow> status)
    {
        var any = false;
        var marked = false;
        foreach (var i in instances)
        {
            var path = Path.Combine(i.RunDir, EpochCurves.FileName);
            var st = status.GetValueOrDefault(i.Key);
            var running = st?.State == StatusRow.Running;
            string? notCurrent = null;
            EpochCurves? c;
            if (running)
            {
                // This instance's own attempts: a swept stage's grid points run (and write curves) apart.
                var last = mine.Where(r => r.Record.Stage == i.Name && r.Record.Slot == i.Slot).Select(r => r.Record).OrderBy(r => r.StartedUtc).LastOrDefault();
                c = EpochCurves.Read(path, last?.FinishedUtc); // not yet rewritten by the running attempt: an earlier run's
            }
            else
            {
                c = EpochCurves.Read(path);
                notCurrent = st is null ? "state unknown"
                    : st.State != StatusRow.UpToDate ? st.State
                    : !i.Outputs.Any(o => Covers(o, path)) ? $"{EpochCurves.FileName} is not a declared output of this stage, so no manifest says which run wrote it (declare it under outputs: or optional_outputs:)"
                    : null;
            }
            if (c is null) continue;
            if (!any) h.Append("<h3>Training curves (per epoch)</h3>\n");
            any = true;
            marked |= notCurrent is not null;
            var title = notCurrent is null ? "" : $" title=\"{E(st?.Detail ?? "")}\"";
            h.Append($"<p class=\"muted{(notCurrent is null ? "" : " not-current")}\"{title}>{E(i.Slot)}{(running ? " (running)" : "")}: {c.Lines} epoch line(s){(c.Tail ? ", last 1 MiB of the file" : "")}{(notCurrent is null ? "" : $" (NOT CURRENT: {E(notCurrent)})")}</p>");
            h.Append(c.ToHtml(i.Key, current: notCurrent is null)).Append('\n');
        }
        if (marked)
            h.Append("<p class=\"muted\">Curves marked NOT CURRENT are the run dir's file while its instance is not up to date (stale, failed, never built: a build of today's tree may write others), or a file no manifest records.</p>\n");
    }

    /// <summary>Whether a declared output is the file, or a directory holding it.</summary>
    private static bool Covers(string output, string file)
    {
        var o = output.TrimEnd('/');
        return file == o || file.StartsWith(o + "/", StringComparison.Ordinal);
    }

    public static void Write(string path, string html) => AtomicFile.WriteAllText(path, html);

    /// <summary>
    /// -question: whether <paramref name="path"/> holds what <paramref name="render"/> gives at the time the file says it was
    /// generated (the one thing two renders of the same state differ in); nothing is written.
    /// </summary>
    public static bool Holds(string path, Func<DateTimeOffset, string> render)
    {
        var text = ReplaceableFile.Current(path);
        var at = text is null ? null : System.Text.RegularExpressions.Regex.Match(text, "generated <time data-utc=\"([^\"]+)\">");
        return at is { Success: true }
            && DateTimeOffset.TryParseExact(at.Groups[1].Value, "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var generated)
            && render(generated) == text;
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
