using KdGat.Core.Tracking;

namespace KdGat.Tasks.Tracking;

/// <summary>
/// Past runs of -p:Stage (all datasets, or -p:Dataset), newest first, with the parameters that
/// differ between them, durations, peak memory and metrics. -p:RunId=... shows one run in full,
/// with its archived manifest.
/// </summary>
public sealed class KdGatHistory : TrackingTask
{
    public string? Stage { get; set; }
    public string? Limit { get; set; }
    public string? RunId { get; set; }

    private protected override bool RunTracking(MSBuildLog log)
    {
        using var t = OpenTracker(log);
        if (!string.IsNullOrWhiteSpace(RunId))
        {
            var stage = string.IsNullOrWhiteSpace(Stage) ? null : t.RequireStage(Stage);
            ShowOne(t, t.FindRun(RunId.Trim(), stage));
            return true;
        }
        var limit = ParseCount(nameof(Limit), Limit, 20, Core.Diagnostics.ErrorCodes.TrackingBadProperty);
        var runs = t.History(Stage, limit);
        var stageName = t.RequireStage(Stage!);
        var total = t.History(stageName).Count;
        Print($"KdGat: history of {stageName} in {string.Join(", ", t.Pipeline.Datasets)}: {total} recorded attempt(s){(runs.Count < total ? $", newest {runs.Count} shown (-p:Limit=0 for all)" : "")}");
        if (runs.Count == 0)
        {
            Print($"  {stageName} has not run yet in these datasets.");
            return true;
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
            var row = new List<string> { Tracker.Local(r.FinishedUtc), r.Dataset, r.State, r.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture), Tracker.Duration(r.WallSeconds), Tracker.Memory(r.PeakRssKb) };
            if (swept) row.Insert(2, r.Variant ?? "-");
            row.AddRange(varying.Select(p => r.Params.GetValueOrDefault(p) ?? "-"));
            row.AddRange(metricNames.Select(m => r.Metrics is not null && r.Metrics.TryGetValue(m, out var v) ? Tracker.Number(v) : "-"));
            row.Add(r.RecordId);
            return (IReadOnlyList<string>)row;
        });
        foreach (var line in TextTable.Format(header, rows)) Print(line);
        var same = paramNames.Except(varying).Select(p => $"{p}={runs[0].Record.Params[p]}").ToArray();
        if (same.Length > 0) Print($"  same in every run shown: {string.Join(" ", same)}");
        Print("  one run in full, with its manifest: -t:History -p:RunId=<run id>");
        return true;
    }

    private void ShowOne(Tracker t, IndexedRun run)
    {
        var r = run.Record;
        Print($"KdGat: run {r.RecordId}: {r.Dataset}/{r.Slot} attempt {r.Attempt}, {r.State}{(r.ExecState is null ? "" : $" ({r.ExecState}, exit code {r.ExitCode})")}");
        Print($"  build {r.BuildId}, executor {r.Executor}{(r.JobId is null ? "" : ", job " + r.JobId)}, host {r.Host}");
        Print($"  {Tracker.Local(r.StartedUtc)} -> {Tracker.Local(r.FinishedUtc)}: {Tracker.Duration(r.WallSeconds)}, CPU {Tracker.Duration(r.CpuSeconds)}, peak memory {Tracker.Memory(r.PeakRssKb)}{(r.MemRequestMb is { } m ? $" of {m} MiB requested" : "")}");
        Print($"  why it ran: {(r.Why.Count == 0 ? "-" : string.Join("; ", r.Why))}");
        Print($"  params: {(r.Params.Count == 0 ? "-" : string.Join(" ", r.Params.Select(p => $"{p.Key}={p.Value}")))}");
        Print($"  metrics: {(r.Metrics is not { Count: > 0 } ? "-" : string.Join(" ", r.Metrics.Select(p => $"{p.Key}={Tracker.Number(p.Value)}")))}");
        foreach (var (path, hash) in r.OutputHashes) Print($"  output {path}: {hash}");
        if (r.Detail is not null) Print($"  detail: {r.Detail}");
        if (r.Log is not null) Print($"  log: {r.Log}");
        Print($"  record: {t.Stored(Path.Combine(t.Records.Dir, run.RecordFile))}");
        var manifest = t.Archive.Find(r.Dataset, r.Slot, r.BuildId);
        Print($"  manifest: {(manifest is null ? "none (the attempt did not succeed, or it ran before manifests were archived)" : t.Stored(manifest))}");
    }
}
