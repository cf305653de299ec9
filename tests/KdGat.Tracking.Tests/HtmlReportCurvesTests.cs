using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Tracking;
using Xunit;

namespace KdGat.Tracking.Tests;

/// <summary>
/// The report's training curves follow Status, as its metrics do: an up-to-date instance's
/// curves.jsonl (a declared output, so its content is the manifest's) is shown as current whatever
/// its file time (a restore from the cache keeps the cached file's old time: no curves were shown);
/// any other instance's is shown marked NOT CURRENT (a stale or hand-edited file was shown unmarked).
/// </summary>
[Trait("Category", "Unit")]
public sealed class HtmlReportCurvesTests
{
    [Fact]
    public void CurvesAreCurrentExactlyWhenStatusFindsTheirInstanceUpToDate_NeverByFileTime()
    {
        using var t = new TempDir();
        File.WriteAllText(System.IO.Path.Combine(t.Path, "kdgat.yaml"), """
            datasets: [d1]
            stages:
              restored: { command: x, outputs: [m, curves.jsonl] }
              stale: { command: x, outputs: [m, curves.jsonl] }
              undeclared: { command: x, outputs: [m] }
            """);
        var store = new RecordStore(t.StateDir);
        foreach (var stage in new[] { "restored", "stale", "undeclared" })
        {
            // Every attempt started long after its curves were written (a restore, a later attempt rolled back).
            store.Write(Records.Make(stage, dataset: "d1", stage: stage, finished: DateTimeOffset.Parse("2100-01-01T00:00:00Z")) with { State = Outcome.Restored });
            var run = System.IO.Path.Combine(t.Path, "experimentruns", "d1", stage);
            Directory.CreateDirectory(run);
            var file = System.IO.Path.Combine(run, "curves.jsonl");
            File.WriteAllText(file, "{\"epoch\":1,\"loss\":0.9}\n{\"epoch\":2,\"loss\":0.5}\n");
            File.SetLastWriteTimeUtc(file, new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        }
        var request = new BuildRequest { Root = t.Path, ConfigFile = "kdgat.yaml", ToolsDir = System.IO.Path.Combine(t.Path, "tools"), Stages = [new("restored", []), new("stale", []), new("undeclared", [])] };
        using var tracker = Tracker.Open(request, new RecordingLog(), t.Db);
        StatusRow[] status =
        [
            new("d1", "restored", StatusRow.UpToDate, "restored from the cache") { Result = ("b-restored", 1) },
            new("d1", "stale", StatusRow.Stale, "output modified: experimentruns/d1/stale/curves.jsonl"),
            new("d1", "undeclared", StatusRow.UpToDate, "up to date") { Result = ("b-undeclared", 1) },
        ];

        var html = HtmlReport.Render(tracker, null, DateTimeOffset.UnixEpoch, status);

        Assert.Contains("<p class=\"muted\">restored: 2 epoch line(s)</p><div class=\"curves\" data-id=\"d1/restored\">", html);
        Assert.Contains("<p class=\"muted not-current\" title=\"output modified: experimentruns/d1/stale/curves.jsonl\">stale: 2 epoch line(s) (NOT CURRENT: stale)</p><div class=\"curves not-current\" data-id=\"d1/stale\">", html);
        // Up to date, but no manifest records the file: nothing says which run wrote it.
        Assert.Contains("undeclared: 2 epoch line(s) (NOT CURRENT: curves.jsonl is not a declared output", html);
        Assert.Contains("<div class=\"curves not-current\" data-id=\"d1/undeclared\">", html);
    }
}
