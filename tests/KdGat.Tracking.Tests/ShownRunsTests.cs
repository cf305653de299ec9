using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Pipeline;
using KdGat.Core.Tracking;
using Xunit;

namespace KdGat.Tracking.Tests;

/// <summary>
/// Compare and the report read only the runs they can show (<see cref="RunIndex.Shown"/>), not the
/// whole history: on random histories (states, metrics or none, shared builds, equal end times, old
/// grid points) and random status rows, their answers equal those from every run.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ShownRunsTests
{
    private static readonly StageDeclaration[] Stages = [new("train", []), new("eval", ["train"])];
    private static readonly string[] States = ["ran", "ran", "ran", "failed", "cancelled", "restored", "adopted"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void CompareAndReport_FromTheShownRuns_EqualThoseFromEveryRun(int seed)
    {
        using var t = new TempDir();
        var random = new Random(seed);
        File.WriteAllText(Path.Combine(t.Path, "kdgat.yaml"), """
            datasets: [d1, d2]
            stages:
              train: { command: x, outputs: [metrics.json], sweep: { seed: [0, 1] } }
              eval: { command: x, outputs: [metrics.json] }
            """);
        var store = new RecordStore(t.StateDir);
        var instances = new[] { ("train", "seed=0"), ("train", "seed=1"), ("train", "seed=2"), ("eval", (string?)null) };
        var day = DateTimeOffset.Parse("2025-05-01T00:00:00Z");
        var written = new List<RunRecord>();
        for (var i = 0; i < 150; i++)
        {
            var (stage, variant) = instances[random.Next(instances.Length)];
            var state = States[random.Next(States.Length)];
            var end = day.AddMinutes(random.Next(40)); // equal end times are common
            var record = Records.Make($"r{i:000}", dataset: random.Next(2) == 0 ? "d1" : "d2", stage: stage, state: state, finished: end,
                metrics: random.Next(3) == 0 ? null : new Dictionary<string, double> { ["f1"] = random.Next(100) / 100.0, ["loss"] = random.Next(100) })
                with { Variant = variant, BuildId = $"b{random.Next(8)}", Attempt = 1 + random.Next(2), StartedUtc = end.AddMinutes(-random.Next(30)) };
            store.Write(record);
            written.Add(record);
        }
        var request = new BuildRequest { Root = t.Path, ConfigFile = "kdgat.yaml", ToolsDir = Path.Combine(t.Path, "tools"), Stages = Stages };
        using var tracker = Tracker.Open(request, new RecordingLog(), t.Db);
        var status = tracker.Pipeline.Instances.Select(i =>
        {
            var row = new StatusRow(i.Dataset, i.Name, random.Next(4) switch { 0 => StatusRow.Stale, 1 => StatusRow.Failed, 2 => StatusRow.Running, _ => StatusRow.UpToDate }, "detail")
                { Variant = i.Sweep.IsEmpty ? null : i.Variant };
            if (row.State != StatusRow.UpToDate) return row;
            var mine = written.Where(r => r.Dataset == i.Dataset && r.Stage == i.Name && r.Variant == row.Variant).ToArray();
            return random.Next(5) == 0 || mine.Length == 0 ? row with { Result = ("b-none", 1) } : row with { Result = mine[random.Next(mine.Length)] is var m ? (m.BuildId, m.Attempt) : null };
        }).ToArray();
        // A running instance's curves count when written after its latest attempt by start: dated mid-history.
        foreach (var i in tracker.Pipeline.Instances)
        {
            Directory.CreateDirectory(i.RunDir);
            var curves = Path.Combine(i.RunDir, EpochCurves.FileName);
            File.WriteAllText(curves, "{\"epoch\": 1, \"loss\": 0.5}\n{\"epoch\": 2, \"loss\": 0.25}\n");
            File.SetLastWriteTimeUtc(curves, day.AddMinutes(20).UtcDateTime);
        }
        Variant[] variants = [new("train", ["train"]), new("eval", ["eval"])];
        var now = DateTimeOffset.Parse("2025-06-01T00:00:00Z");

        tracker.WholeHistory = true;
        var everyRun = (TrackingText.Compare(tracker.Compare(status, variants)).ToArray(), HtmlReport.Render(tracker, variants, now, status));
        tracker.WholeHistory = false;
        var shownStatus = status.ToArray(); // another reference: read again
        var shown = (TrackingText.Compare(tracker.Compare(shownStatus, variants)).ToArray(), HtmlReport.Render(tracker, variants, now, shownStatus));

        Assert.True(tracker.ShownRuns(shownStatus).Count < written.Count, "the test reads a subset");
        Assert.Equal(everyRun.Item1, shown.Item1);
        Assert.Equal(everyRun.Item2, shown.Item2);
    }
}
