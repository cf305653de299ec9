using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Pipeline;

namespace KdGat.Core.Tracking;

/// <summary>
/// Compare's table (<see cref="Tracker.Compare"/>), one step per method: which run of each instance
/// counts (<see cref="ChooseRuns"/>), why an instance has none (<see cref="InstancesWithoutResult"/>),
/// the grid points every cell should hold (<see cref="ExpectedPoints"/>), the runs each cell holds
/// (<see cref="FillCells"/>), what in a cell is not current (<see cref="NotCurrentCells"/>), and the
/// rows (<see cref="Rows"/>). One object per table: the steps share the pipeline, the status and the runs.
/// <paramref name="shownRuns"/>, oldest first, need not be the whole history (<see cref="RunIndex.Shown"/>): per
/// instance its latest run, its latest successful run with metrics and its current result's run.
/// </summary>
internal sealed class CompareBuilder(LoadedPipeline pipeline, IReadOnlyList<IndexedRun> shownRuns, IReadOnlyList<StatusRow> status)
{
    /// <summary>The sweep dimension Compare aggregates over: instances differing only by it are one cell.</summary>
    public const string SeedDimension = "seed";

    private readonly Dictionary<string, StatusRow> _rowOf = status.ToDictionary(r => r.Key, StringComparer.Ordinal);
    private readonly Dictionary<string, int> _order = pipeline.Graph.Stages.Select((s, k) => (s.Name, k)).ToDictionary(x => x.Name, x => x.k, StringComparer.Ordinal);

    /// <summary>Per instance without a run that counts: why (never built, failed, stale), and whether only the value is missing (a current result without metrics).</summary>
    private Dictionary<string, (string Why, bool NoValue)> _noResult = [];

    public CompareTable Build(IReadOnlyList<Variant>? variants, IReadOnlyCollection<string>? metricFilter)
    {
        var chosen = ChooseRuns();
        var withMetrics = chosen.Select(c => c.Run).ToArray();
        var notCurrentRun = chosen.Where(c => c.NotCurrent is not null).ToDictionary(c => c.Run.Record.RecordId, c => c.NotCurrent!, StringComparer.Ordinal);
        _noResult = InstancesWithoutResult(chosen);
        var resolved = Resolve(variants, withMetrics);
        var columns = resolved.ToDictionary(v => v.Name, _ => new SortedSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        var expected = ExpectedPoints(resolved, columns);
        var (cells, cellStage) = FillCells(resolved, withMetrics, columns);
        var names = resolved.SelectMany(v => columns[v.Name].Count == 0 ? [v.Name] : columns[v.Name].Select(rest => Column(v, rest))).ToArray();
        var notCurrent = NotCurrentCells(names, cells, cellStage, expected, notCurrentRun);
        var narrowed = Narrowed(resolved, expected);
        var (rows, notes) = Rows(resolved, names, cells, cellStage, expected, narrowed, metricFilter);
        return new CompareTable(names, rows, cells.ToDictionary(c => c.Key, c => c.Value[^1]))
        {
            Groups = cells.ToDictionary(c => c.Key, c => (IReadOnlyList<IndexedRun>)c.Value),
            NotCurrent = notCurrent,
            Narrowed = narrowed,
            Notes = notes,
            Metrics = cells.Values.SelectMany(rs => rs.SelectMany(r => r.Record.Metrics!.Keys)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
        };
    }

    /// <summary>
    /// Per instance: the run whose metrics count, and why it is not the current result (null: it is).
    /// An up-to-date instance counts with the run its manifest names, and with no value when that run
    /// recorded no metrics (never an older run's); any other with its latest run that has metrics.
    /// </summary>
    private List<(IndexedRun Run, string? NotCurrent)> ChooseRuns()
    {
        var instances = pipeline.Instances.Select(i => i.Key).ToHashSet(StringComparer.Ordinal);
        var results = shownRuns
            .Where(r => r.Record.State is Outcome.Ran or Outcome.Restored or Outcome.Adopted && instances.Contains($"{r.Record.Dataset}/{r.Record.Slot}"))
            .GroupBy(r => $"{r.Record.Dataset}/{r.Record.Slot}");
        var chosen = new List<(IndexedRun Run, string? NotCurrent)>();
        foreach (var runs in results)
        {
            var row = _rowOf.GetValueOrDefault(runs.Key);
            var state = row?.State ?? "state unknown";
            if (state == StatusRow.UpToDate)
            {
                if (row!.Result is { } made && runs.LastOrDefault(r => r.Record.BuildId == made.BuildId && r.Record.Attempt == made.Attempt) is { } result)
                {
                    if (result.Record.Metrics is { Count: > 0 }) chosen.Add((result, null));
                    continue; // the current result recorded no metrics: no value, not an older run's
                }
                state = "no run record of its current result";
            }
            if (runs.LastOrDefault(r => r.Record.Metrics is { Count: > 0 }) is { } latest) chosen.Add((latest, state)); // oldest first
        }
        return chosen;
    }

    /// <summary>Instances of the grid with no run that counts: why (never built, failed, stale, or a current result without metrics).</summary>
    private Dictionary<string, (string Why, bool NoValue)> InstancesWithoutResult(List<(IndexedRun Run, string? NotCurrent)> chosen)
    {
        var anyRun = shownRuns.Select(r => $"{r.Record.Dataset}/{r.Record.Slot}").ToHashSet(StringComparer.Ordinal);
        var counted = chosen.Select(c => $"{c.Run.Record.Dataset}/{c.Run.Record.Slot}").ToHashSet(StringComparer.Ordinal);
        var noResult = new Dictionary<string, (string Why, bool NoValue)>(StringComparer.Ordinal);
        foreach (var i in pipeline.Instances.Where(i => !counted.Contains(i.Key)))
        {
            var row = _rowOf.GetValueOrDefault(i.Key);
            noResult[i.Key] = row?.State == StatusRow.UpToDate && row.Result is not null && anyRun.Contains(i.Key)
                ? ("its current result recorded no metrics", true)
                : (anyRun.Contains(i.Key) ? row?.State ?? "state unknown" : $"{row?.State ?? "state unknown"}, never built", false);
        }
        return noResult;
    }

    /// <summary>The variants asked for (default: every stage that recorded metrics), each name once: KDG5022 for one name with two stage lists.</summary>
    private static IReadOnlyList<Variant> Resolve(IReadOnlyList<Variant>? variants, IReadOnlyList<IndexedRun> withMetrics)
    {
        variants = variants is { Count: > 0 } ? variants
            : withMetrics.Select(r => r.Record.Stage).Distinct().Order(StringComparer.Ordinal).Select(s => new Variant(s, [s])).ToArray();
        variants = variants.DistinctBy(v => (v.Name, string.Join(";", v.Stages))).ToArray(); // the same item twice is harmless
        var duplicate = variants.GroupBy(v => v.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null ? variants : throw DuplicateVariant(duplicate.Key, duplicate.Select(v => v.Stages));
    }

    /// <summary>
    /// Every point of the grid a cell should hold (its seeds), with the instances behind each: a seed
    /// never built or without a result is counted against the cell, and a column no run reached still shows.
    /// </summary>
    private Dictionary<(string Dataset, string Variant), SortedDictionary<string, List<StageInstance>>> ExpectedPoints(
        IReadOnlyList<Variant> variants, Dictionary<string, SortedSet<string>> columns)
    {
        var expected = new Dictionary<(string Dataset, string Variant), SortedDictionary<string, List<StageInstance>>>();
        foreach (var v in variants)
            foreach (var i in pipeline.Instances.Where(i => v.Stages.Contains(i.Name)))
            {
                var point = i.Sweep.IsEmpty ? "" : i.Variant;
                var rest = WithoutSeed(point);
                columns[v.Name].Add(rest);
                var key = (i.Dataset, Column(v, rest));
                if (!expected.TryGetValue(key, out var points)) expected[key] = points = new(StringComparer.Ordinal);
                if (!points.TryGetValue(point, out var list)) points[point] = list = [];
                list.Add(i);
            }
        return expected;
    }

    /// <summary>
    /// Cells whose seeds -p:Sweep narrowed (-p:Sweep=seed=1 of seed: [0, 1, 2]): the seeds of the whole
    /// grid there. Their mean is over the selection only, and every view says so ("n=1 of 3 seeds"): it
    /// read as the grid's result. A cell whose seeds the selection all keeps is not here.
    /// </summary>
    private Dictionary<(string Dataset, string Variant), SweepShare> Narrowed(
        IReadOnlyList<Variant> variants, Dictionary<(string Dataset, string Variant), SortedDictionary<string, List<StageInstance>>> expected)
    {
        var narrowed = new Dictionary<(string Dataset, string Variant), SweepShare>();
        if (pipeline.Sweep is not { } selection) return narrowed;
        foreach (var v in variants)
            foreach (var cell in pipeline.Grid.Where(i => v.Stages.Contains(i.Name) && !i.Sweep.IsEmpty).GroupBy(i => (i.Dataset, Column(v, WithoutSeed(i.Variant)))))
            {
                var seeds = cell.Select(i => i.Variant).Distinct(StringComparer.Ordinal).Count();
                var kept = expected.GetValueOrDefault(cell.Key)?.Keys.Count(k => k.Length > 0) ?? 0;
                if (kept > 0 && kept < seeds) narrowed[cell.Key] = new SweepShare(kept, seeds, selection.ToString());
            }
        return narrowed;
    }

    /// <summary>
    /// Per cell (dataset, column): an unswept cell has its instance's run, a swept one every seed's. A
    /// variant listing several stages (train + eval) counts, per instance of the grid (sweep point), the
    /// run of its most-downstream stage that has one in the cell (dependency order, then the order of
    /// Stages): the same stage for every point, never the run that happened to finish last (after
    /// -t:Train that is train's, while eval's is stale), and never one metrics.json per stage as if they were seeds.
    /// </summary>
    private (Dictionary<(string Dataset, string Variant), List<IndexedRun>> Cells, Dictionary<(string Dataset, string Variant), string> CellStage) FillCells(
        IReadOnlyList<Variant> variants, IReadOnlyList<IndexedRun> withMetrics, Dictionary<string, SortedSet<string>> columns)
    {
        var candidates = new Dictionary<(string Dataset, string Variant), List<(IndexedRun Run, int Rank)>>();
        foreach (var run in RunIndex.InOrder(withMetrics))
            foreach (var v in variants.Where(v => v.Stages.Contains(run.Record.Stage)))
            {
                var rest = WithoutSeed(run.Record.Variant);
                columns[v.Name].Add(rest);
                var key = (run.Record.Dataset, Column(v, rest));
                if (!candidates.TryGetValue(key, out var list)) candidates[key] = list = [];
                list.Add((run, Downstream(v, run.Record.Stage)));
            }
        var cells = new Dictionary<(string Dataset, string Variant), List<IndexedRun>>();
        var cellStage = new Dictionary<(string Dataset, string Variant), string>();
        foreach (var (key, list) in candidates)
        {
            var top = list.Max(c => c.Rank);
            var kept = list.Where(c => c.Rank == top).Select(c => c.Run).ToList(); // one run per instance (chosen), finish order
            cells[key] = kept;
            cellStage[key] = kept[0].Record.Stage;
        }
        return (cells, cellStage);
    }

    private int Downstream(Variant v, string stage) => _order.TryGetValue(stage, out var k) ? k : _order.Count + v.Stages.ToList().IndexOf(stage);

    /// <summary>
    /// Cells whose values are not (all) from the current result of their instances, and why. A point
    /// whose value counts is not current when ANY of the variant's instances at it is not up to date
    /// (eval stale behind a current train), not only the stage whose run gives the value; a swept
    /// cell also names its points without a current result.
    /// </summary>
    private Dictionary<(string Dataset, string Variant), string> NotCurrentCells(
        IReadOnlyList<string> names,
        Dictionary<(string Dataset, string Variant), List<IndexedRun>> cells,
        Dictionary<(string Dataset, string Variant), string> cellStage,
        Dictionary<(string Dataset, string Variant), SortedDictionary<string, List<StageInstance>>> expected,
        Dictionary<string, string> notCurrentRun)
    {
        var notCurrent = new Dictionary<(string Dataset, string Variant), string>();
        foreach (var d in pipeline.Datasets)
            foreach (var n in names)
            {
                var runs = cells.GetValueOrDefault((d, n)) ?? [];
                var stage = cellStage.GetValueOrDefault((d, n));
                var points = expected.GetValueOrDefault((d, n));
                var swept = points is not null && points.Keys.Any(k => k.Length > 0);
                var total = swept ? points!.Count : runs.Count;
                var parts = new List<string>();
                var marks = new List<(string Point, string Why)>();
                foreach (var run in runs)
                {
                    var point = run.Record.Variant ?? "";
                    var at = points?.GetValueOrDefault(point) ?? [];
                    var runKey = $"{run.Record.Dataset}/{run.Record.Slot}";
                    var whys = at.Where(i => i.Key != runKey)
                        .Select(i => (i.Name, Why: _rowOf.GetValueOrDefault(i.Key) is { State: StatusRow.UpToDate } ? null : _rowOf.GetValueOrDefault(i.Key)?.State ?? "state unknown"))
                        .Append((run.Record.Stage, Why: notCurrentRun.GetValueOrDefault(run.Record.RecordId)))
                        .Where(w => w.Why is not null)
                        .OrderBy(w => _order.GetValueOrDefault(w.Item1, _order.Count)).ToArray();
                    if (whys.Length > 0)
                        marks.Add((swept ? point : run.Record.Slot, at.Count <= 1 ? whys[0].Why! : string.Join(" and ", whys.Select(w => $"{w.Item1} {w.Why}"))));
                }
                if (marks.Count > 0)
                    parts.Add(total <= 1 && !swept ? marks[0].Why : $"{marks.Count} of {total} seeds not current ({string.Join(", ", marks.Select(m => $"{m.Point}: {m.Why}"))})");
                if (swept)
                {
                    // Points with no run in the cell: no successful run at all, or one whose current result has no metrics
                    // (those are not counted here but per metric in Rows, as INCOMPLETE: "no value for <metric>").
                    var missing = points!.Where(p => !runs.Any(r => (r.Record.Variant ?? "") == p.Key))
                        .Select(p => (Point: p.Key, Why: WhyNoRun(p.Value, stage)))
                        .Where(m => m.Why is { NoValue: false }).ToArray();
                    if (missing.Length > 0)
                        parts.Add($"{Seeds(missing.Length, total)} no current result ({string.Join(", ", missing.Select(m => $"{m.Point}: {m.Why!.Value.Why}"))})");
                }
                else if (runs.Count == 0 && points?.GetValueOrDefault("") is { } instances && cells.Keys.Any(k => k.Dataset == d)
                         && WhyNoRun(instances, stage) is { NoValue: false } why)
                    parts.Add(why.Why); // an unswept variant never built (after -t:Large, small_kd): a bare "-" said nothing
                if (parts.Count > 0) notCurrent[(d, n)] = string.Join("; ", parts);
            }
        return notCurrent;
    }

    /// <summary>
    /// The reason an instance of a point has no run in its cell: that of the cell's stage (the one whose
    /// runs count) at that point, else that of the variant's last stage without one.
    /// </summary>
    private (string Why, bool NoValue)? WhyNoRun(List<StageInstance> at, string? stage) =>
        (stage is not null && at.FirstOrDefault(i => i.Name == stage) is { } own && _noResult.TryGetValue(own.Key, out var w0) ? w0 : ((string, bool)?)null)
        ?? at.Select(i => _noResult.TryGetValue(i.Key, out var w) ? w : ((string, bool)?)null).LastOrDefault(w => w is not null) ?? ("no run with metrics", true);

    private static string Seeds(int k, int of) => $"{k} of {of} seed{(of == 1 ? "" : "s")} {(k == 1 ? "has" : "have")}";

    /// <summary>A row per dataset and metric, a value (or mean over seeds) per column; a seed that counts without a number for the metric is said (Gaps), never a silently smaller n.</summary>
    /// <summary>
    /// Why a dataset has no metrics: never built or failed, or up to date without run records (results
    /// copied without .kdgat/, where "build first" changed nothing: a user review).
    /// </summary>
    private string NoMetrics(string dataset, IReadOnlyList<Variant> variants)
    {
        var of = variants.Count == 0 ? "" : $" for {string.Join(", ", variants.Select(v => v.Name))}";
        var rows = status.Where(r => r.Dataset == dataset).ToArray();
        if (rows.Length == 0 || rows.Any(r => r.State != StatusRow.UpToDate))
            return $"{dataset}: no metrics recorded{of} (not built yet, or its stages failed): dotnet msbuild -t:Evaluate -p:Dataset={dataset}, then compare";
        return shownRuns.Any(r => r.Record.Dataset == dataset) // the latest run of each instance is among them
            ? $"{dataset}: every stage instance is up to date, but none of its runs recorded metrics{of}: metrics come from a metrics.json among a stage's outputs, a JSON object of numbers (a build warns KDG5024 when it is not). Declare and write one"
            : $"{dataset}: every stage instance is up to date, but it has no run records: its results were built elsewhere and copied without .kdgat/records, or its records were deleted. " +
              $"Copy .kdgat/records from where they were built (then any tracking target indexes them), or run the stages here: dotnet msbuild -t:Rebuild -p:Dataset={dataset}";
    }

    private (List<CompareRow> Rows, List<string> Notes) Rows(
        IReadOnlyList<Variant> variants, IReadOnlyList<string> names,
        Dictionary<(string Dataset, string Variant), List<IndexedRun>> cells,
        Dictionary<(string Dataset, string Variant), string> cellStage,
        Dictionary<(string Dataset, string Variant), SortedDictionary<string, List<StageInstance>>> expected,
        Dictionary<(string Dataset, string Variant), SweepShare> narrowed,
        IReadOnlyCollection<string>? metricFilter)
    {
        var rows = new List<CompareRow>();
        var notes = new List<string>();
        foreach (var d in pipeline.Datasets)
        {
            var metrics = names.SelectMany(n => cells.TryGetValue((d, n), out var rs) ? rs.SelectMany(r => r.Record.Metrics!.Keys) : Enumerable.Empty<string>())
                .Distinct().Where(m => metricFilter is null || metricFilter.Count == 0 || metricFilter.Contains(m)).Order(StringComparer.Ordinal).ToArray();
            if (metrics.Length == 0)
            {
                if (!cells.Keys.Any(k => k.Dataset == d))
                    notes.Add(NoMetrics(d, variants));
                continue;
            }
            foreach (var m in metrics)
            {
                var gaps = new string?[names.Count];
                var stats = new MetricStats?[names.Count];
                for (var col = 0; col < names.Count; col++)
                {
                    var n = names[col];
                    var rs = cells.GetValueOrDefault((d, n)) ?? [];
                    var values = rs.Where(r => r.Record.Metrics!.ContainsKey(m)).Select(r => (Point: r.Record.Variant ?? r.Record.Slot, X: r.Record.Metrics![m])).ToArray();
                    if (expected.GetValueOrDefault((d, n)) is { } points && points.Keys.Any(k => k.Length > 0))
                    {
                        var none = points.Where(p =>
                            rs.FirstOrDefault(r => (r.Record.Variant ?? "") == p.Key) is { } run ? !run.Record.Metrics!.ContainsKey(m) : WhyNoRun(p.Value, cellStage.GetValueOrDefault((d, n))) is { NoValue: true })
                            .Select(p => p.Key).ToArray();
                        if (none.Length > 0) gaps[col] = $"{Seeds(none.Length, points.Count)} no value for {m} ({string.Join(", ", none)})";
                    }
                    stats[col] = values.Length == 0 ? null : MetricStats.Of(values.Select(v => v.X).ToArray(), values.Select(v => v.Point).ToArray()) with { Share = narrowed.GetValueOrDefault((d, n)) };
                }
                rows.Add(new CompareRow(d, m, stats.Select(s => s?.Mean).ToArray()) { Stats = stats, Gaps = gaps });
            }
        }
        return (rows, notes);
    }

    /// <summary>A variant's column at a point of the grid's dimensions other than seed: "large", "large [lr=0.003]".</summary>
    private static string Column(Variant v, string rest) => rest.Length == 0 ? v.Name : $"{v.Name} [{rest}]";

    private static KdgException DuplicateVariant(string name, IEnumerable<IReadOnlyList<string>> stages) =>
        new(ErrorCodes.DuplicateVariant,
            $"the Compare/Report variant '{name}' is defined more than once (KdGatVariant items with Stages {string.Join(" and ", stages.Select(s => $"\"{string.Join(";", s)}\""))}). " +
            "KdGatVariant items placed after the Import of KdGat's targets come on top of the default large/small_kd/small_nokd items: define them in an ItemGroup before that Import " +
            "(with <Project Sdk=\"KdGat.Sdk\">, anywhere in the project), or give each variant its own name.");

    /// <summary>"seed=1,lr=0.003" without its seed: "lr=0.003".</summary>
    private static string WithoutSeed(string? variant) =>
        string.Join(",", (variant ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Where(a => !a.StartsWith(SeedDimension + "=", StringComparison.Ordinal)));
}
