using System.Text.Json;

namespace KdGat.Sample.Tests;

/// <summary>The chains kdgat.yaml runs, end to end.</summary>
[Trait("Category", "EndToEnd")]
public sealed class PipelineTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void FullChain_WritesMetricsInUnitRange()
    {
        _ws.Prepare();
        _ws.TrainLarge();

        using var metrics = JsonDocument.Parse(File.ReadAllBytes(_ws["eval_large/metrics.json"]));
        var m = metrics.RootElement;
        foreach (var name in new[] { "accuracy", "precision", "recall", "f1" })
            Assert.InRange(m.GetProperty(name).GetDouble(), 0.0, 1.0);
        var counts = new[] { "tp", "fp", "tn", "fn" }.Sum(n => m.GetProperty(n).GetInt32());
        Assert.Equal(m.GetProperty("graphs").GetInt32(), counts);
        Assert.True(counts > 0);
        // Better than always answering "normal", or the models learnt nothing.
        Assert.True(m.GetProperty("f1").GetDouble() > 0.5, m.GetRawText());
    }

    [Fact]
    public void FullChain_TrainingVerbsWriteModelAndLog()
    {
        _ws.Prepare();
        _ws.TrainLarge();

        foreach (var stage in new[] { "vgae_large", "gat_large", "dqn_large" })
        {
            Assert.Equal(new[] { "curves.jsonl", "model.ckpt", "train_log.json" }, Directory.GetFiles(_ws[stage]).Select(Path.GetFileName).Order());
            using var log = JsonDocument.Parse(File.ReadAllBytes(_ws[$"{stage}/train_log.json"]));
            var epochs = log.RootElement.GetProperty("epochs");
            Assert.NotEqual(0, epochs.GetArrayLength());
            // curves.jsonl (KdGat's live report reads it): one JSON object per epoch, the same values as train_log.json.
            var lines = File.ReadAllLines(_ws[$"{stage}/curves.jsonl"]);
            Assert.Equal(epochs.GetArrayLength(), lines.Length);
            for (var i = 0; i < lines.Length; i++)
            {
                using var line = JsonDocument.Parse(lines[i]);
                Assert.Equal(epochs[i].GetProperty("epoch").GetInt32(), line.RootElement.GetProperty("epoch").GetInt32());
                Assert.Equal(epochs[i].GetProperty("loss").GetDouble(), line.RootElement.GetProperty("loss").GetDouble());
            }
        }
    }

    [Fact]
    public void FullChain_RerunGivesByteIdenticalOutputs()
    {
        using var other = new Workspace();
        foreach (var ws in new[] { _ws, other })
        {
            ws.Prepare();
            ws.TrainLarge();
            ws.TrainSmallKd();
        }

        var first = _ws.Outputs();
        var second = other.Outputs();
        Assert.Equal(first.Keys, second.Keys);
        foreach (var (path, bytes) in first)
            Assert.True(bytes.AsSpan().SequenceEqual(second[path]), $"{path} differs between identical runs");
    }

    [Fact]
    public void FullChain_OutputsCarryNoPathsOrTimes()
    {
        _ws.Prepare();
        _ws.TrainLarge();

        foreach (var (path, bytes) in _ws.Outputs())
        {
            var text = System.Text.Encoding.UTF8.GetString(bytes);
            Assert.DoesNotContain(_ws.Root, text);
            Assert.DoesNotContain(Environment.MachineName, text);
            Assert.DoesNotContain(DateTime.UtcNow.ToString("yyyy-MM-dd"), text);
        }
    }
}
