using KdGat.Core.Engine;

namespace KdGat.Core.Tracking;

/// <summary>The History and Compare tables as console lines (the tasks only print them).</summary>
internal static class TrackingText
{
    /// <summary>
    /// Status's first line: how many instances are in which state, and with -p:Sweep of how many in the
    /// grid ("13 up-to-date" read as the pipeline's state while 24 other points were never built).
    /// </summary>
    /// <param name="rows">The rows shown: the selection's, of <paramref name="stage"/> when -p:Stage names one.</param>
    public static string StatusHeadline(LoadedPipeline pipeline, IReadOnlyList<StatusRow> rows, string? stage)
    {
        var counts = rows.GroupBy(r => r.State).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} {g.Key}");
        var grid = pipeline.Grid.Count(i => stage is null || i.Name == stage);
        var of = pipeline.Sweep is { } selection && grid > rows.Count
            ? $"; -p:Sweep={selection} selects {rows.Count} of the grid's {grid}, the other {grid - rows.Count} are not shown"
            : "";
        return $"KdGat: status of {rows.Count} stage instance(s) in {pipeline.Datasets.Count} dataset(s): {string.Join(", ", counts)}{of}";
    }

    /// <summary>Past runs of a stage, newest first: the parameters that differ between them, durations, peak memory, metrics.</summary>
    public static IEnumerable<string> History(Tracker t, string? stage, int limit)
    {
        var runs = t.History(stage, limit);
        var stageName = t.RequireStage(stage!);
        var total = t.HistoryCount(stageName);
        yield return $"KdGat: history of {stageName} in {string.Join(", ", t.Pipeline.Datasets)}: {total} recorded attempt(s){(runs.Count < total ? $", newest {runs.Count} shown (-p:Limit=0 for all)" : "")}";
        if (runs.Count == 0)
        {
            yield return $"  {stageName} has not run yet in these datasets.";
            yield break;
        }
        var paramNames = runs.SelectMany(r => r.Record.Params.Keys).Distinct().Order(StringComparer.Ordinal).ToArray();
        var varying = paramNames.Where(p => runs.Select(r => r.Record.Params.GetValueOrDefault(p)).Distinct().Count() > 1).ToArray();
        var metricNames = runs.SelectMany(r => r.Record.Metrics?.Keys ?? Enumerable.Empty<string>()).Distinct().Order(StringComparer.Ordinal).ToArray();
        var swept = runs.Any(r => r.Record.Variant is not null);
        var header = new List<string> { "finished (UTC)", "dataset", "state", "try", "duration", "peak mem" };
        if (swept) header.Insert(2, "variant");
        header.AddRange(varying.Select(p => "param " + p));
        header.AddRange(metricNames);
        header.Add("run id");
        var rows = runs.Select(run =>
        {
            var r = run.Record;
            var row = new List<string> { Tracker.Local(r.FinishedUtc), r.Dataset, StateCell(r.State, r.ExecState), r.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture), Tracker.Duration(r.WallSeconds), Tracker.Memory(r.PeakRssKb) };
            if (swept) row.Insert(2, r.Variant ?? "-");
            row.AddRange(varying.Select(p => r.Params.GetValueOrDefault(p) ?? "-"));
            row.AddRange(metricNames.Select(m => r.Metrics is not null && r.Metrics.TryGetValue(m, out var v) ? Tracker.Number(v) : "-"));
            row.Add(r.RecordId);
            return (IReadOnlyList<string>)row;
        });
        foreach (var line in TextTable.Format(header, rows)) yield return line;
        var same = paramNames.Except(varying).Select(p => $"{p}={runs[0].Record.Params[p]}").ToArray();
        if (same.Length > 0) yield return $"  same in every run shown: {string.Join(" ", same)}";
        yield return "  one run in full, with its manifest: -t:History -p:RunId=<run id>";
    }

    /// <summary>The state, with how the attempt ended when that says more ("failed (Timeout)", "failed (OutOfMemory)"): a timed-out SLURM attempt was a plain "failed" (a SLURM user review).</summary>
    internal static string StateCell(string state, string? execState) =>
        execState is null or "Completed" or "Failed" || string.Equals(execState, state, StringComparison.OrdinalIgnoreCase) ? state : $"{state} ({execState})";

    /// <summary>One run in full, with its record and archived manifest.</summary>
    public static IEnumerable<string> Run(Tracker t, IndexedRun run)
    {
        var r = run.Record;
        yield return $"KdGat: run {r.RecordId}: {r.Dataset}/{r.Slot} attempt {r.Attempt}, {r.State}{(r.ExecState is null ? "" : $" ({r.ExecState}, exit code {r.ExitCode})")}";
        yield return $"  build {r.BuildId}, executor {r.Executor}{(r.JobId is null ? "" : ", job " + r.JobId)}, host {r.Host}";
        yield return $"  {Tracker.Local(r.StartedUtc)} -> {Tracker.Local(r.FinishedUtc)}: {Tracker.Duration(r.WallSeconds)}, CPU {Tracker.Duration(r.CpuSeconds)}, peak memory {Tracker.Memory(r.PeakRssKb)}{(r.MemRequestMb is { } m ? $" of {m} MiB requested" : "")}";
        yield return $"  why it ran: {(r.Why.Count == 0 ? "-" : string.Join("; ", r.Why))}";
        yield return $"  params: {(r.Params.Count == 0 ? "-" : string.Join(" ", r.Params.Select(p => $"{p.Key}={p.Value}")))}";
        yield return $"  metrics: {(r.Metrics is not { Count: > 0 } ? "-" : string.Join(" ", r.Metrics.Select(p => $"{p.Key}={Tracker.Exact(p.Value)}")))}";
        foreach (var (path, hash) in r.OutputHashes) yield return $"  output {path}: {hash}";
        if (r.Detail is not null) yield return $"  detail: {r.Detail}";
        if (r.Log is not null) yield return $"  log: {r.Log}";
        yield return $"  record: {t.Stored(Path.Combine(t.Records.Dir, run.RecordFile))}";
        var manifest = t.ManifestOf(r);
        yield return $"  manifest: {manifest switch
        {
            null => "none (the attempt did not succeed, or it ran before manifests were archived)",
            { Archived: true } => t.Stored(manifest.Value.Path),
            _ => $"{t.Stored(manifest.Value.Path)} (the live one, not archived yet: -question writes nothing; History without it archives it)",
        }}";
    }

    /// <summary>Metrics per dataset, one column per variant, and where each value comes from.</summary>
    public static IEnumerable<string> Compare(CompareTable table)
    {
        yield return $"KdGat: metrics per variant ({string.Join(" vs ", table.Variants)}), from the run behind each stage instance's current result{(table.Groups.Values.Any(g => g.Count > 1) ? "; mean ± std (n) over seeds" : "")}:";
        var header = new List<string> { "dataset", "metric" };
        header.AddRange(table.Variants);
        foreach (var line in TextTable.Format(header, table.Rows.Select(r =>
                 {
                     var row = new List<string> { r.Dataset, r.Metric };
                     row.AddRange(r.Stats.Select((x, i) => (x is null ? "-" : x.ToString()) + (table.NotCurrent.ContainsKey((r.Dataset, table.Variants[i])) || r.Gap(i) is not null ? " *" : "")));
                     return (IReadOnlyList<string>)row;
                 })))
            yield return line;
        var cells = table.Sources.Keys.Concat(table.NotCurrent.Keys).Distinct().OrderBy(k => k.Dataset, StringComparer.Ordinal).ThenBy(k => k.Variant, StringComparer.Ordinal);
        foreach (var (dataset, variant) in cells)
        {
            if (!table.Sources.TryGetValue((dataset, variant), out var run))
            {
                yield return $"  {dataset} {variant}: no run with metrics{table.Mark(dataset, variant)}";
                continue;
            }
            yield return (table.Groups.TryGetValue((dataset, variant), out var group) && group.Count > 1
                ? $"  {dataset} {variant}: {run.Record.Stage}, mean of {group.Count} seeds, newest run {run.Record.RecordId} finished {Tracker.Local(run.Record.FinishedUtc)}"
                : $"  {dataset} {variant}: {run.Record.Stage}, run {run.Record.RecordId} ({run.Record.State}) finished {Tracker.Local(run.Record.FinishedUtc)}")
                + (table.Narrowed.TryGetValue((dataset, variant), out var share) ? $"; {share}" : "") + table.Mark(dataset, variant);
        }
        foreach (var r in table.Rows)
            for (var i = 0; i < table.Variants.Count; i++)
                if (r.Gap(i) is { } gap)
                    yield return $"  {r.Dataset} {table.Variants[i]} {r.Metric}: INCOMPLETE: {gap}; the mean is over the other seeds";
        foreach (var note in table.Notes) yield return "  " + note;
        if (table.Narrowed.Count > 0)
            yield return $"  n=K of N seeds, -p:Sweep: the value is over only the K seeds -p:Sweep={table.Narrowed.Values.First().Selection} selects, not every seed of the grid; Compare without -p:Sweep gives the mean ± std (n) of all N.";
        if (table.NotCurrent.Count > 0 || table.Rows.Any(r => r.Gaps.Any(g => g is not null)))
            yield return "  * NOT CURRENT: from an older run while the stage instance is stale, failed or not built, or some seeds of a mean have no current result; INCOMPLETE: some seeds' metrics.json has no number for that metric. A build of today's tree may give another value (-t:Status says why; build, then compare).";
    }
}
