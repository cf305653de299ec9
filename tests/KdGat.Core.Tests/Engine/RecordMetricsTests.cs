using KdGat.Core.Diagnostics;
using KdGat.Core.Tracking;
using KdGat.Core.Tests.Support;
using static KdGat.Core.Tests.Engine.CrashLab;

namespace KdGat.Core.Tests.Engine;

/// <summary>
/// A run record keeps a bounded number of metrics: a metrics.json of millions (up to the 64 MiB a
/// stage's file is read) made a record bigger than KdGat reads back, and every tracking target then
/// warned KDG5002 about a record KdGat had just written, and Compare marked the current result NOT CURRENT.
/// </summary>
[Trait("Category", "Unit")]
public sealed class RecordMetricsTests : IDisposable
{
    private readonly TempDir _d = NewRoot($$"""
        datasets: [d1]
        paths: { runs: runs, raw: 'raw/{dataset}', cache: 'cache/{dataset}' }
        cache_store: off
        defaults: { retries: 0 }
        stages:
          a: { command: 'echo a > model.ckpt', outputs: [model.ckpt] }
          b:
            command: 'cat {upstream.a}/model.ckpt > out.txt && (printf ''\173''; seq 0 {{RecordStore.MaxMetrics + 2}} | sed ''s/.*/"k&": &.5/'' | paste -sd, -; printf ''\175'') > metrics.json'
            outputs: [out.txt, metrics.json]
        """);

    public void Dispose() => _d.Dispose();

    [Fact]
    public async Task TooManyMetrics_AWarningNamingStageAndFile_AndARecordKdGatReadsBack()
    {
        var log = new RecordingLog();
        Assert.True((await BuildAsync(_d, log: log)).Succeeded);

        var warning = Assert.Single(log.Items, i => i.Code == ErrorCodes.MetricsOverLimit);
        Assert.Contains("d1/b", warning.Message);
        Assert.Contains("metrics.json", warning.Message);
        Assert.Contains("3 metric(s) beyond the first", warning.Message);
        var damaged = new List<string>();
        var record = Assert.Single(new RecordStore(_d[".kdgat"]).ReadAll((f, why) => damaged.Add(why)), r => r.Record.Stage == "b").Record;
        Assert.Empty(damaged);
        Assert.Equal(RecordStore.MaxMetrics, record.Metrics!.Count);
    }
}
