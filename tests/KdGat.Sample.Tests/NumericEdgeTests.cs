using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using KdGat.Sample.Common;
using KdGat.Sample.Graphs;

namespace KdGat.Sample.Tests;

/// <summary>
/// Degenerate data must never become NaN or Infinity in an output, nor a .NET stack trace:
/// either every stage writes finite JSON, or one stage says what is wrong in one line.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class NumericEdgeTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    [Fact]
    public void ConstantFeaturesAndOneClass_AcrossRestartingFiles_EveryStageWritesFiniteJson()
    {
        // One ECU sending one payload at a fixed rate, never attacked: every graph feature is
        // constant (zero spread) and there is only the normal class. Two files, clock restarting.
        Directory.CreateDirectory(_ws["raw"]);
        foreach (var name in new[] { "a.csv", "b.csv" })
            File.WriteAllLines(_ws[$"raw/{name}"], Enumerable.Range(0, 600)
                .Select(i => (i / 100.0).ToString("0.000000", CultureInfo.InvariantCulture) + ",1A0,0102030405060708,0").Prepend(Workspace.CsvHeader));

        _ws.Ok("preprocess", "--raw", _ws["raw"], "--out", _ws["cache"], "--params", _ws.WriteParams("p.json", """{"stride": 25, "window": 50}"""));
        _ws.TrainLarge();

        var outputs = _ws.Outputs().Where(o => o.Key.EndsWith(".json", StringComparison.Ordinal) || o.Key.EndsWith(".ckpt", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(outputs);
        foreach (var (path, bytes) in outputs)
        {
            using var doc = JsonDocument.Parse(bytes); // NaN/Infinity are not JSON: parsing proves finiteness
            Assert.DoesNotMatch(new Regex("NaN|Infinity"), System.Text.Encoding.UTF8.GetString(bytes));
        }
        using var metrics = JsonDocument.Parse(File.ReadAllBytes(_ws["eval_large/metrics.json"]));
        Assert.Equal(0, metrics.RootElement.GetProperty("tp").GetInt32() + metrics.RootElement.GetProperty("fn").GetInt32());
    }

    [Fact]
    public void CacheWithNegativeWindowDuration_TrainingStageSaysSoInOneLine()
    {
        // What a cache built across a clock restart holds (and what crashed training with
        // "positive and negative infinity cannot be written as valid JSON").
        _ws.Prepare();
        var graphs = _ws["cache/graphs.bin"];
        GraphCacheEdit.Rewrite(_ws, g => g with { DurationUs = -90_000_000 });

        var r = _ws.Run("autoencoder", "--cache", _ws["cache"], "--params", _ws.WriteParams("v.json", Workspace.VgaeLarge), "--out", _ws["vgae"]);

        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith($"kdgat-sample: error: {graphs}: ", r.Stderr);
        Assert.Contains("duration_us", r.Stderr);
        Assert.False(File.Exists(_ws["vgae/model.ckpt"]));
    }

    [Fact]
    public void JsonWrite_NonFiniteNumber_IsAOneLineErrorNamingFileAndProperty_AndWritesNothing()
    {
        var path = _ws["out.json"];

        var e = Assert.Throws<SampleError>(() => JsonFile.Write(path, w =>
        {
            w.WriteStartObject();
            w.WriteFinite("loss", double.NaN);
            w.WriteEndObject();
        }));

        Assert.Equal(path, e.File);
        Assert.Contains("'loss'", e.What);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFileSystemEntries(_ws.Root, ".*.tmp"));
    }
}
