using KdGat.Core.Tracking;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Tracking;

/// <summary>
/// A stage's metrics.json as ML code writes it. Python's json.dump writes NaN and Infinity bare (not
/// JSON): the file was dropped whole, and Compare fell back to an older run; then such values were
/// left out, and a diverged run showed without its loss; they are kept, and a record holds them.
/// </summary>
[Trait("Category", "Unit")]
public sealed class MetricsJsonReadingTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    /// <summary>PowerShell's Out-File -Encoding utf8 writes a BOM: the metrics were dropped without a word (an edge review).</summary>
    [Fact]
    public void AUtf8Bom_IsSkipped()
    {
        var file = _dir.Write("metrics.json", "");
        File.WriteAllBytes(file, [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes("""{"f1": 0.5}""")]);

        var metrics = RecordStore.ReadMetrics(file, out _, out var unreadable);

        Assert.Equal(0.5, metrics!["f1"]);
        Assert.Null(unreadable);
    }

    /// <summary>A metrics.json that is there but gives nothing says why (the build's KDG5024); one that is not there says nothing.</summary>
    [Theory]
    [InlineData("{\"f1\": 0.5} trailing", "not JSON")]
    [InlineData("", "not JSON")]
    [InlineData("[0.5, 0.6]", "a JSON array, not an object")]
    [InlineData("{\"f1\": 0.5", "not JSON")]
    public void AFileThatIsNotAJsonObject_SaysWhy(string json, string said)
    {
        var metrics = RecordStore.ReadMetrics(_dir.Write("metrics.json", json), out _, out var unreadable);

        Assert.Null(metrics);
        Assert.Contains(said, unreadable);
        Assert.Null(RecordStore.ReadMetrics(_dir["absent.json"], out _, out var none));
        Assert.Null(none);
    }

    /// <summary>
    /// An object without a number at its top level ({"test": {"f1": 0.9}}, a common Python shape) gave a
    /// run without metrics and no warning (a review); with one number among nested values it is read quietly.
    /// </summary>
    [Theory]
    [InlineData("""{"test": {"f1": 0.9}}""", "'test', holds an object")]
    [InlineData("""{"f1": "0.9"}""", "'f1', holds a string")]
    [InlineData("""{"scores": [0.9, 0.8]}""", "'scores', holds a list")]
    [InlineData("""{"loss": null}""", "'loss', holds null")]
    public void AnObjectWithoutTopLevelNumbers_SaysWhy(string json, string said)
    {
        var metrics = RecordStore.ReadMetrics(_dir.Write("metrics.json", json), out _, out var unreadable);

        Assert.Empty(metrics!);
        Assert.Contains(said, unreadable);
        Assert.Equal(0.5, RecordStore.ReadMetrics(_dir.Write("metrics.json", """{"f1": 0.5, "confusion": [[1, 2], [3, 4]]}"""), out _, out var quiet)!["f1"]);
        Assert.Null(quiet);
        Assert.Empty(RecordStore.ReadMetrics(_dir.Write("metrics.json", "{}"), out _, out var empty)!);
        Assert.Null(empty);
    }

    /// <summary>A diverged run (a NaN or infinite loss) must show as one: these values were left out, and Compare showed "-" or nothing (a review).</summary>
    [Theory]
    [InlineData("""{"f1": 0.5, "auc": NaN}""", "auc", double.NaN)]
    [InlineData("""{"f1": 0.5, "auc": Infinity}""", "auc", double.PositiveInfinity)]
    [InlineData("""{"f1": 0.5, "loss": -Infinity}""", "loss", double.NegativeInfinity)]
    [InlineData("""{"f1": 0.5, "auc": 1e400}""", "auc", double.PositiveInfinity)]
    [InlineData("""{"auc": -1e400, "f1": 0.5}""", "auc", double.NegativeInfinity)]
    public void NonFiniteValues_AreKept(string json, string name, double value)
    {
        var metrics = RecordStore.ReadMetrics(_dir.Write("metrics.json", json), out _, out var unreadable);

        Assert.NotNull(metrics);
        Assert.Equal(new[] { name, "f1" }.Order(StringComparer.Ordinal), metrics.Keys);
        Assert.Equal(0.5, metrics["f1"]);
        Assert.Equal(value, metrics[name]);
        Assert.Null(unreadable);
    }

    /// <summary>Only a bare literal at the top level is a value: not a null the file wrote, not one in a string or a nested list.</summary>
    [Fact]
    public void ANullOrALiteralElsewhere_IsNotTakenForOne()
    {
        var metrics = RecordStore.ReadMetrics(_dir.Write("metrics.json", """{"note": "NaN Infinity \" NaN", "a": null, "per_class": [NaN, 1], "f1": 0.5, "b": NaN, "c": null}"""));

        Assert.NotNull(metrics);
        Assert.Equal(["b", "f1"], metrics.Keys);
        Assert.True(double.IsNaN(metrics["b"]));
    }

    /// <summary>A record holds NaN and infinities (JSON has no such numbers: as strings) and reads back with them.</summary>
    [Fact]
    public void ARecordWithTheMetricsOfSuchAFile_IsWritten_AndReadBack()
    {
        var metrics = RecordStore.ReadMetrics(_dir.Write("metrics.json", """{"f1": NaN, "auc": 1e400, "loss": -Infinity, "acc": 0.5}"""));
        var store = new RecordStore(_dir["state"]);
        var path = store.Write(new RunRecord
        {
            RecordId = "r1", Dataset = "d1", Stage = "eval", Fingerprint = "f", Params = new(), State = "ran", Metrics = metrics,
        });

        var (record, json, problem) = RecordStore.TryRead(path);
        Assert.Null(problem);
        Assert.Contains("\"f1\": \"NaN\"", json);
        Assert.True(double.IsNaN(record!.Metrics!["f1"]));
        Assert.Equal(double.PositiveInfinity, record.Metrics["auc"]);
        Assert.Equal(double.NegativeInfinity, record.Metrics["loss"]);
        Assert.Equal(0.5, record.Metrics["acc"]);
    }

    [Fact]
    public void MetricsBeyondTheRecordsBound_AreLeftOut_AndSaid_TheFirstOnesKept()
    {
        var names = Enumerable.Range(0, RecordStore.MaxMetrics + 5).Select(i => $"\"k{i:D6}\": {i}.5")
            .Append($"\"{new string('x', RecordStore.MaxMetricName + 1)}\": 1");
        var file = _dir.Write("metrics.json", "{" + string.Join(", ", names) + "}");

        var metrics = RecordStore.ReadMetrics(file, out var overLimit);

        Assert.NotNull(metrics);
        Assert.Equal(RecordStore.MaxMetrics, metrics.Count);
        Assert.Equal(0.5, metrics["k000000"]);
        Assert.False(metrics.ContainsKey($"k{RecordStore.MaxMetrics:D6}"));
        Assert.NotNull(overLimit);
        Assert.Contains("5 metric(s) beyond the first 10000", overLimit);
        Assert.Contains("1 with a name longer than 200 characters", overLimit);
        Assert.Null(RecordStore.ReadMetrics(_dir.Write("small.json", """{"f1": 0.5}"""), out var none) is null ? "unread" : none);
    }

    [Fact]
    public void AMetricsFileBeyondTheReadCap_RecordsNoMetrics_AndSaysSo()
    {
        var file = _dir["metrics.json"];
        using (var f = File.Create(file)) f.SetLength(KdGat.Core.IO.SmallFile.MaxBytes + 1);

        Assert.Null(RecordStore.ReadMetrics(file, out var overLimit));
        Assert.Contains("more than KdGat reads", overLimit);
    }
}
