using KdGat.Core.Tracking;
using KdGat.Core.Tests.Support;

namespace KdGat.Core.Tests.Tracking;

/// <summary>
/// A stage's metrics.json as ML code writes it. Python's json.dump writes NaN and Infinity bare (not
/// JSON): the file was dropped whole, and Compare fell back to an older run; a number beyond a double
/// (1e400) became infinity, which no record can hold: every build stopped with KDG9001.
/// </summary>
[Trait("Category", "Unit")]
public sealed class MetricsFileTests : IDisposable
{
    private readonly TempDir _dir = new();
    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("""{"f1": 0.5, "auc": NaN}""")]
    [InlineData("""{"f1": 0.5, "auc": Infinity, "loss": -Infinity}""")]
    [InlineData("""{"f1": 0.5, "auc": 1e400}""")]
    [InlineData("""{"note": "NaN Infinity \" NaN", "f1": 0.5}""")]
    public void NonFiniteValues_AreLeftOut_TheRestIsKept(string json)
    {
        var file = _dir.Write("metrics.json", json);

        var metrics = RecordStore.ReadMetrics(file);

        Assert.NotNull(metrics);
        Assert.Equal(["f1"], metrics.Keys);
        Assert.Equal(0.5, metrics["f1"]);
    }

    [Fact]
    public void ARecordWithTheMetricsOfSuchAFile_CanBeWritten()
    {
        var metrics = RecordStore.ReadMetrics(_dir.Write("metrics.json", """{"f1": 0.5, "auc": 1e400}"""));
        var store = new RecordStore(_dir["state"]);
        store.Write(new RunRecord
        {
            RecordId = "r1", Dataset = "d1", Stage = "eval", Fingerprint = "f", Params = new(), State = "ran", Metrics = metrics,
        });
        Assert.Single(Directory.EnumerateFiles(_dir["state"], "*.json", SearchOption.AllDirectories));
    }
}
