using System.Text.Json;

namespace KdGat.Sample.Tests;

[Trait("Category", "EndToEnd")]
public sealed class PreprocessTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private static int GraphCount(string cache) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(cache, "index.json"))).RootElement.GetProperty("graphs").GetInt32();

    [Fact]
    public void Preprocess_WritesIndexAndGraphs()
    {
        var cache = _ws.Prepare();

        Assert.Equal(new[] { "graphs.bin", "index.json" }, Directory.GetFiles(cache).Select(Path.GetFileName).Order());
        Assert.InRange(GraphCount(cache), 400, 2000);
    }

    [Fact]
    public void Preprocess_WindowAndStrideChangeTheCache()
    {
        _ws.Prepare();
        var before = GraphCount(_ws["cache"]);

        _ws.Ok("preprocess", "--raw", _ws["raw"], "--out", _ws["cache"], "--params", _ws.WriteParams("p.json", """{"window": 40, "stride": 10}"""));

        Assert.True(GraphCount(_ws["cache"]) > before);
    }

    [Fact]
    public void Preprocess_WithoutParams_UsesDefaultWindowAndStride()
    {
        var cache = _ws.Prepare();
        var withParams = File.ReadAllBytes(Path.Combine(cache, "graphs.bin"));

        _ws.Ok("preprocess", "--raw", _ws["raw"], "--out", _ws["cache2"]);

        Assert.Equal(withParams, File.ReadAllBytes(_ws["cache2/graphs.bin"]));
    }

    [Fact]
    public void Preprocess_ReplacesTheWholeOutputDirectory()
    {
        Directory.CreateDirectory(_ws["cache"]);
        File.WriteAllText(_ws["cache/stale.json"], "{}");

        _ws.Prepare();

        Assert.False(File.Exists(_ws["cache/stale.json"]));
        Assert.Empty(Directory.GetFileSystemEntries(_ws.Root, ".*.tmp"));
    }

    [Fact]
    public void Preprocess_RefusesAnOutputThatWouldReplaceTheRawData()
    {
        _ws.Ok("generate", "--dataset", "hcrl_sa", "--out", _ws["data/raw"]);

        var r = _ws.Run("preprocess", "--raw", _ws["data/raw"], "--out", _ws["data"]);

        Assert.Equal(2, r.ExitCode);
        Assert.True(File.Exists(_ws["data/raw/capture_01.csv"]));
    }
}
