using System.Text.Json;
using KdGat.Sample.Graphs;

namespace KdGat.Sample.Tests;

/// <summary>The binary graph cache (graphs.bin): damage and old formats are one-line errors.</summary>
[Trait("Category", "EndToEnd")]
public sealed class GraphCacheTests : IDisposable
{
    private readonly Workspace _ws = new();

    public void Dispose() => _ws.Dispose();

    private RunResult Autoencoder() =>
        _ws.Run("autoencoder", "--cache", _ws["cache"], "--params", _ws.WriteParams("v.json", Workspace.VgaeLarge), "--out", _ws["vgae"]);

    private static void AssertOneLine(RunResult r, string prefix)
    {
        Assert.True(r.ExitCode == 2, r.ToString());
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith($"kdgat-sample: error: {prefix}", r.Stderr);
    }

    [Fact]
    public void Cache_RoundTrip_EveryGraphReadsBackWithItsFeatures()
    {
        _ws.Prepare();

        var whole = GraphCache.ReadGraphs(_ws["cache"]).ToList();
        var set = GraphCache.Read(_ws["cache"]);

        Assert.Equal(whole.Count, set.Graphs.Count);
        for (var i = 0; i < whole.Count; i++)
        {
            Assert.Equal((whole[i].Start, whole[i].Label, whole[i].Split), (set.Graphs[i].Start, set.Graphs[i].Label, set.Graphs[i].Split));
            Assert.Equal(GraphFeatures.Of(whole[i]), set.Graphs[i].Features);
        }
    }

    [Fact]
    public void Cache_TruncatedGraphsFile_IsAOneLineErrorNamingIt()
    {
        _ws.Prepare();
        var graphs = _ws["cache/graphs.bin"];
        var bytes = File.ReadAllBytes(graphs);
        File.WriteAllBytes(graphs, bytes[..(bytes.Length / 2)]);

        var r = Autoencoder();

        AssertOneLine(r, graphs + ": ");
        Assert.Contains("truncated", r.Stderr);
        Assert.Contains("preprocess", r.Stderr);
    }

    [Fact]
    public void Cache_TrailingBytes_AreRejected()
    {
        _ws.Prepare();
        File.AppendAllText(_ws["cache/graphs.bin"], "x");

        AssertOneLine(Autoencoder(), _ws["cache/graphs.bin"] + ": ");
    }

    [Fact]
    public void Cache_EdgeToAMissingNode_IsRejected()
    {
        _ws.Prepare();
        GraphCacheEdit.Rewrite(_ws, g => g with { Edges = [.. g.Edges, new GraphEdge(0, g.Nodes.Count, 1)] });

        var r = Autoencoder();

        AssertOneLine(r, _ws["cache/graphs.bin"] + ": ");
        Assert.Contains("missing node", r.Stderr);
    }

    [Fact]
    public void Cache_OfTheOldJsonFormat_SaysToPreprocessAgain()
    {
        _ws.Prepare();
        var index = _ws["cache/index.json"];
        File.WriteAllText(index, File.ReadAllText(index).Replace(GraphCache.Format, "kdgat-sample-graphs/1"));

        var r = Autoencoder();

        AssertOneLine(r, index + ": ");
        Assert.Contains("preprocess", r.Stderr);
    }
}

/// <summary>Rewrites a preprocessed cache with edited graphs, the way a damaged or foreign cache would look.</summary>
internal static class GraphCacheEdit
{
    public static void Rewrite(Workspace ws, Func<CanGraph, CanGraph> edit, string cache = "cache")
    {
        var dir = ws[cache];
        var graphs = GraphCache.ReadGraphs(dir).Select(edit).ToList();
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, GraphCache.IndexFile)));
        var root = index.RootElement;
        var files = root.GetProperty("files").EnumerateArray()
            .Select(f => new SourceFile(f.GetProperty("name").GetString()!, f.GetProperty("frames").GetInt32(), f.GetProperty("graphs").GetInt32())).ToList();
        var temp = ws[cache + ".edit"];
        Directory.CreateDirectory(temp);
        using (var w = GraphCache.Create(temp))
        {
            foreach (var g in graphs) w.Add(g);
            w.Finish(root.GetProperty("window").GetInt32(), root.GetProperty("stride").GetInt32(), files);
        }
        foreach (var f in Directory.GetFiles(temp)) File.Move(f, Path.Combine(dir, Path.GetFileName(f)), overwrite: true);
        Directory.Delete(temp);
    }
}
