using KdGat.Core.Diagnostics;
using KdGat.Core.Engine;
using KdGat.Core.Pipeline;
using KdGat.Core.Tracking;
using Xunit;

namespace KdGat.Tracking.Tests;

/// <summary>
/// Compare and Report never show a swept cell as a clean mean when seeds of the grid have no current
/// result or no value, never average several stages of a variant as seeds, and refuse duplicate variants.
/// </summary>
[Trait("Category", "Unit")]
public sealed class CompareCompletenessTests
{
    private static readonly StageDeclaration[] Stages = [new("train", []), new("eval", ["train"])];

    private static Tracker Open(TempDir t, string sweep, string datasets = "[d1]")
    {
        File.WriteAllText(System.IO.Path.Combine(t.Path, "kdgat.yaml"), $$"""
            datasets: {{datasets}}
            stages:
              train: { command: x, outputs: [metrics.json], sweep: {{sweep}} }
              eval: { command: x, outputs: [metrics.json] }
            """);
        var request = new BuildRequest { Root = t.Path, ConfigFile = "kdgat.yaml", ToolsDir = System.IO.Path.Combine(t.Path, "tools"), Stages = Stages };
        return Tracker.Open(request, new RecordingLog(), t.Db);
    }

    private static void Write(TempDir t, string id, string stage, string variant, Dictionary<string, double>? metrics, string state = "ran") =>
        new RecordStore(t.StateDir).Write(Records.Make(id, dataset: "d1", stage: stage, state: state, metrics: metrics) with { Variant = variant });

    private static Dictionary<string, double> F1(double x) => new() { ["f1"] = x };

    private static Dictionary<string, double> Acc(double x) => new() { ["accuracy"] = x };

    /// <summary>Status as the tracker would give it: the written runs are current, every other instance stale.</summary>
    private static StatusRow[] Status(Tracker tracker, params (string Stage, string Variant, string Id)[] current) =>
        tracker.Pipeline.Instances.Select(i =>
        {
            var made = current.FirstOrDefault(c => c.Stage == i.Name && c.Variant == i.Variant);
            return made.Id is null
                ? new StatusRow(i.Dataset, i.Name, StatusRow.Stale, "never run") { Variant = i.Sweep.IsEmpty ? null : i.Variant }
                : new StatusRow(i.Dataset, i.Name, StatusRow.UpToDate, "up to date") { Variant = i.Sweep.IsEmpty ? null : i.Variant, Result = ("b-" + made.Id, 1) };
        }).ToArray();

    /// <summary>
    /// Results copied without .kdgat/records: every instance up to date, no record. Compare said "not built yet" and
    /// "build first", which changed nothing (a user review); it says what is missing. Never built: as before.
    /// </summary>
    [Fact]
    public void UpToDateWithoutRunRecords_SaysTheRecordsAreMissing_NotToBuild()
    {
        using var t = new TempDir();
        using var tracker = Open(t, "{ seed: [0] }");
        var upToDate = tracker.Pipeline.Instances.Select(i => new StatusRow(i.Dataset, i.Name, StatusRow.UpToDate, "up to date") { Variant = i.Sweep.IsEmpty ? null : i.Variant, Result = ("b-x", 1) }).ToArray();

        var note = Assert.Single(tracker.Compare(upToDate).Notes);
        Assert.Contains("d1: every stage instance is up to date, but it has no run records", note);
        Assert.Contains("Copy .kdgat/records", note);
        Assert.DoesNotContain("for  (", note);

        var never = Assert.Single(tracker.Compare(Status(tracker)).Notes);
        Assert.Contains("d1: no metrics recorded (not built yet", never);
    }

    /// <summary>Built here, records there, no stage recorded metrics: not "copied without records" (the diff review).</summary>
    [Fact]
    public void UpToDateWithRunRecordsWithoutMetrics_SaysNoStageRecordedMetrics()
    {
        using var t = new TempDir();
        Write(t, "a", "eval", "", null);
        using var tracker = Open(t, "{ seed: [0] }");
        var upToDate = tracker.Pipeline.Instances.Select(i => new StatusRow(i.Dataset, i.Name, StatusRow.UpToDate, "up to date") { Variant = i.Sweep.IsEmpty ? null : i.Variant, Result = ("b-x", 1) }).ToArray();

        var note = Assert.Single(tracker.Compare(upToDate).Notes);
        Assert.Contains("none of its runs recorded metrics", note);
        Assert.DoesNotContain("Rebuild", note);
    }

    [Fact]
    public void ASeedAddedToTheGridButNotBuilt_MarksTheCell()
    {
        using var t = new TempDir();
        Write(t, "a", "eval", "seed=0", F1(0.1));
        Write(t, "b", "eval", "seed=1", F1(0.2));
        Write(t, "c", "eval", "seed=2", F1(0.3));
        using var tracker = Open(t, "{ seed: [0, 1, 2, 3] }");

        var table = tracker.Compare(Status(tracker, ("eval", "seed=0", "a"), ("eval", "seed=1", "b"), ("eval", "seed=2", "c")), [new Variant("ev", ["eval"])]);

        Assert.Equal("0.2 ± 0.1 (n=3)", Assert.Single(table.Rows).Stats[0]!.ToString());
        // Was unmarked: seed=3 never entered the cell.
        Assert.Contains("1 of 4 seeds has no current result (seed=3: stale, never built)", table.NotCurrent[("d1", "ev")]);
        var text = TrackingText.Compare(table).ToArray();
        Assert.Contains(text, l => l.Contains("0.2 ± 0.1 (n=3) *"));
        Assert.Contains(text, l => l.Contains("NOT CURRENT: 1 of 4 seeds has no current result"));
    }

    [Fact]
    public void ASeedWhoseOnlyRunFailed_MarksTheCell()
    {
        using var t = new TempDir();
        Write(t, "a", "eval", "seed=0", F1(0.1));
        Write(t, "b", "eval", "seed=1", F1(0.3));
        Write(t, "c", "eval", "seed=2", null, state: "failed");
        using var tracker = Open(t, "{ seed: [0, 1, 2] }");
        var status = Status(tracker, ("eval", "seed=0", "a"), ("eval", "seed=1", "b"))
            .Select(r => r.Key == "d1/eval/seed=2" ? r with { State = StatusRow.Failed } : r).ToArray();

        var table = tracker.Compare(status, [new Variant("ev", ["eval"])]);

        Assert.Equal(2, Assert.Single(table.Rows).Stats[0]!.N);
        Assert.Contains("1 of 3 seeds has no current result (seed=2: failed)", table.NotCurrent[("d1", "ev")]);
    }

    [Fact]
    public void AGridColumnNeverBuilt_IsShown_AndADatasetNeverBuilt_HasANote()
    {
        using var t = new TempDir();
        Write(t, "a", "eval", "seed=0,lr=0.1", F1(0.1));
        using var tracker = Open(t, "{ seed: [0], lr: [0.1, 0.2] }", "[d1, d2]");

        var table = tracker.Compare(Status(tracker, ("eval", "seed=0,lr=0.1", "a")), [new Variant("ev", ["eval"])]);

        Assert.Equal(["ev [lr=0.1]", "ev [lr=0.2]"], table.Variants);
        Assert.Null(Assert.Single(table.Rows).Stats[1]);
        Assert.Contains("1 of 1 seed has no current result", table.NotCurrent[("d1", "ev [lr=0.2]")]);
        Assert.Contains(table.Notes, n => n.StartsWith("d2: no metrics recorded", StringComparison.Ordinal));
        var text = TrackingText.Compare(table).ToArray();
        Assert.Contains(text, l => l.Contains("d1 ev [lr=0.2]: no run with metrics (NOT CURRENT"));
        Assert.Contains(text, l => l.Contains("d2: no metrics recorded"));
    }

    /// <summary>After -t:Large, small_kd showed a bare "-" in Compare and the report: an unswept cell without a result says why, as a swept one does.</summary>
    [Fact]
    public void AnUnsweptVariantNeverBuilt_ShowsItsReason()
    {
        using var t = new TempDir();
        Write(t, "a", "train", "", F1(0.5));
        using var tracker = Open(t, "{}");
        var status = Status(tracker, ("train", "", "a"));
        Variant[] variants = [new("tr", ["train"]), new("ev", ["eval"])];

        var table = tracker.Compare(status, variants);

        Assert.Equal("stale, never built", table.NotCurrent[("d1", "ev")]);
        Assert.False(table.NotCurrent.ContainsKey(("d1", "tr")));
        var text = TrackingText.Compare(table).ToArray();
        Assert.Contains(text, l => l.StartsWith("  d1 ev: no run with metrics (NOT CURRENT: stale, never built)", StringComparison.Ordinal));
        Assert.Contains(text, l => l.Contains("0.5 ") && l.TrimEnd().EndsWith("- *", StringComparison.Ordinal));
        Assert.Contains("<td class=\"num not-current\" title=\"stale, never built\">- <span class=\"muted\">(stale, never built)</span></td>",
            HtmlReport.Render(tracker, variants, DateTimeOffset.UnixEpoch, status));
    }

    /// <summary>-p:Metrics="f1 acc" showed f1 and said nothing of acc (KDG5020 only when no name matched): KDG5026 names it, with a guess and the names there are.</summary>
    [Fact]
    public void AMetricsFilterNameThatMatchesNothing_IsSaid()
    {
        using var t = new TempDir();
        Write(t, "a", "eval", "", new() { ["f1"] = 0.5, ["accuracy"] = 0.9 });
        using var tracker = Open(t, "{}");
        var status = Status(tracker, ("eval", "", "a"));

        var table = tracker.Compare(status, [new Variant("ev", ["eval"])], ["f1", "acc"]);

        Assert.Equal("f1", Assert.Single(table.Rows).Metric);
        var warning = Assert.Single(table.UnknownMetrics(["f1", "acc"], tracker.Pipeline.Datasets));
        Assert.Contains("-p:Metrics names 'acc', which no run shown recorded in d1", warning);
        Assert.Contains("Did you mean 'accuracy'?", warning);
        Assert.Contains("Metrics recorded: accuracy, f1.", warning);
        Assert.Contains("Did you mean 'f1'?", Assert.Single(table.UnknownMetrics(["F1"], tracker.Pipeline.Datasets)));
        Assert.Empty(table.UnknownMetrics(["f1", "accuracy"], tracker.Pipeline.Datasets));
    }

    [Fact]
    public void ASeedWithoutTheMetric_IsSaid_NotASilentlySmallerN()
    {
        using var t = new TempDir();
        Write(t, "a", "eval", "seed=0", new() { ["f1"] = 0.1, ["acc"] = 0.5 });
        Write(t, "b", "eval", "seed=1", new() { ["f1"] = 0.3, ["acc"] = 0.6 });
        Write(t, "c", "eval", "seed=2", new() { ["acc"] = 0.7 }); // no f1 in its metrics.json
        using var tracker = Open(t, "{ seed: [0, 1, 2] }");

        var table = tracker.Compare(Status(tracker, ("eval", "seed=0", "a"), ("eval", "seed=1", "b"), ("eval", "seed=2", "c")), [new Variant("ev", ["eval"])]);

        var f1 = table.Rows.Single(r => r.Metric == "f1");
        Assert.Equal(2, f1.Stats[0]!.N);
        Assert.Equal("1 of 3 seeds has no value for f1 (seed=2)", f1.Gap(0));
        Assert.Null(table.Rows.Single(r => r.Metric == "acc").Gap(0));
        Assert.False(table.NotCurrent.ContainsKey(("d1", "ev")));
        var text = TrackingText.Compare(table).ToArray();
        Assert.Contains(text, l => l.Contains("0.2 ± 0.1414 (n=2) *"));
        Assert.Contains(text, l => l.Contains("INCOMPLETE: 1 of 3 seeds has no value for f1 (seed=2)"));
    }

    [Fact]
    public void AVariantOfSeveralSweptStages_CountsOneRunPerSeed()
    {
        using var t = new TempDir();
        Write(t, "t0", "train", "seed=0", F1(0.9));
        Write(t, "t1", "train", "seed=1", F1(0.9));
        Write(t, "t2", "train", "seed=2", F1(0.9));
        Write(t, "e0", "eval", "seed=0", F1(0.1));
        Write(t, "e1", "eval", "seed=1", F1(0.2));
        Write(t, "e2", "eval", "seed=2", F1(0.3));
        using var tracker = Open(t, "{ seed: [0, 1, 2] }");
        var status = Status(tracker, ("train", "seed=0", "t0"), ("train", "seed=1", "t1"), ("train", "seed=2", "t2"), ("eval", "seed=0", "e0"), ("eval", "seed=1", "e1"), ("eval", "seed=2", "e2"));

        var table = tracker.Compare(status, [new Variant("large", ["train", "eval"])]);

        // Was "0.5 ± 0.4382 (n=6)": both stages' metrics.json averaged as if they were seeds.
        Assert.Equal("0.2 ± 0.1 (n=3)", Assert.Single(table.Rows).Stats[0]!.ToString());
        Assert.Equal(3, table.Groups[("d1", "large")].Count);
        Assert.Empty(table.NotCurrent);
    }

    [Fact]
    public void AVariantOfSeveralSweptStages_TakesItsDownstreamStage_AndMarksAStaleOneBehindACurrentUpstream()
    {
        using var t = new TempDir();
        Write(t, "t0", "train", "seed=0", Acc(0.9));
        Write(t, "t1", "train", "seed=1", Acc(0.9));
        Write(t, "t2", "train", "seed=2", Acc(0.9));
        Write(t, "e0", "eval", "seed=0", Acc(0.1));
        Write(t, "e1", "eval", "seed=1", Acc(0.2));
        Write(t, "e2", "eval", "seed=2", Acc(0.3));
        Write(t, "t1b", "train", "seed=1", Acc(0.95)); // -t:Train for seed=1: train newer and current, its eval now stale
        using var tracker = Open(t, "{ seed: [0, 1, 2] }");
        var status = Status(tracker, ("train", "seed=0", "t0"), ("train", "seed=1", "t1b"), ("train", "seed=2", "t2"), ("eval", "seed=0", "e0"), ("eval", "seed=2", "e2"));

        var table = tracker.Compare(status, [new Variant("large", ["train", "eval"])]);

        // Was "0.4333 ± 0.4509 (n=3)" and unmarked: seed=1 counted train's accuracy (the last to finish, current), the others eval's.
        Assert.Equal("0.2 ± 0.1 (n=3)", Assert.Single(table.Rows).Stats[0]!.ToString());
        Assert.All(table.Groups[("d1", "large")], r => Assert.Equal("eval", r.Record.Stage));
        Assert.Equal("1 of 3 seeds not current (seed=1: eval stale)", table.NotCurrent[("d1", "large")]);
        Assert.Contains(TrackingText.Compare(table), l => l.Contains("0.2 ± 0.1 (n=3) *"));
    }

    [Fact]
    public void AnUnsweptVariantOfSeveralStages_TakesItsDownstreamStage_AndMarksAStaleOneBehindACurrentUpstream()
    {
        using var t = new TempDir();
        Write(t, "t0", "train", "", Acc(0.9));
        Write(t, "e0", "eval", "", Acc(0.2));
        Write(t, "t1", "train", "", Acc(0.95)); // -t:Train: train newer and current, eval stale
        using var tracker = Open(t, "{}");
        var status = Status(tracker, ("train", tracker.Pipeline.Instances.Single(i => i.Name == "train").Variant, "t1"));

        var table = tracker.Compare(status, [new Variant("large", ["train", "eval"])]);

        // Was 0.95 from train and unmarked.
        Assert.Equal(0.2, Assert.Single(table.Rows).Values[0]);
        Assert.Equal("e0", table.Sources[("d1", "large")].Record.RecordId);
        Assert.Equal("eval stale", table.NotCurrent[("d1", "large")]);
    }

    [Fact]
    public void ADuplicateVariantName_IsAKdgError_NotACrash()
    {
        using var t = new TempDir();
        Write(t, "a", "eval", "seed=0", F1(0.1));
        using var tracker = Open(t, "{ seed: [0] }");

        var e = Assert.Throws<KdgException>(() => tracker.Compare([], [new Variant("large", ["train"]), new Variant("large", ["eval"])]));
        Assert.Equal(ErrorCodes.DuplicateVariant, e.Code);
        Assert.Contains("'large'", e.Message);
        Assert.Contains("before that Import", e.Message);
        // The same item twice is harmless.
        Assert.Single(tracker.Compare([], [new Variant("large", ["eval"]), new Variant("large", ["eval"])]).Variants);
    }
}
