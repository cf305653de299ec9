using System.Text.Json;
using KdGat.Sample.Common;

namespace KdGat.Sample.Graphs;

/// <summary>One raw capture file's share of the cache, listed in index.json (name only: outputs carry no paths).</summary>
internal sealed record SourceFile(string Name, int Frames, int Graphs);

/// <summary>The graph cache preprocess writes and every training stage reads.</summary>
internal sealed record GraphSet(int Window, int Stride, IReadOnlyList<CanGraph> Graphs)
{
    public IEnumerable<CanGraph> Train => Graphs.Where(g => g.Split == CanGraph.Train);
    public IEnumerable<CanGraph> Test => Graphs.Where(g => g.Split == CanGraph.Test);
}

/// <summary>
/// On disk: graphs.json (compact; nodes as [id, count, mean_byte, entropy], edges as
/// [src, dst, weight]) and index.json, a small readable summary that also pins the format
/// version, so a cache from an incompatible sample is rejected with a clear message.
/// </summary>
internal static class GraphCache
{
    public const string Format = "kdgat-sample-graphs/1";
    public const string IndexFile = "index.json";
    public const string GraphsFile = "graphs.json";

    /// <summary>Writes both files into <paramref name="dir"/>, which the caller swaps into place.</summary>
    public static void Write(string dir, GraphSet set, IReadOnlyList<SourceFile> files)
    {
        JsonFile.Write(Path.Combine(dir, GraphsFile), w =>
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteStartArray("graphs");
            foreach (var g in set.Graphs) WriteGraph(w, g);
            w.WriteEndArray();
            w.WriteEndObject();
        }, indented: false);
        JsonFile.Write(Path.Combine(dir, IndexFile), w =>
        {
            w.WriteStartObject();
            w.WriteString("format", Format);
            w.WriteNumber("window", set.Window);
            w.WriteNumber("stride", set.Stride);
            w.WriteNumber("frames", files.Sum(f => f.Frames));
            w.WriteNumber("graphs", set.Graphs.Count);
            w.WriteNumber("attack_graphs", set.Graphs.Count(g => g.Label == 1));
            w.WriteNumber("train_graphs", set.Train.Count());
            w.WriteNumber("test_graphs", set.Test.Count());
            w.WriteString("graphs_file", GraphsFile);
            w.WriteStartArray("files");
            foreach (var f in files)
            {
                w.WriteStartObject();
                w.WriteString("name", f.Name);
                w.WriteNumber("frames", f.Frames);
                w.WriteNumber("graphs", f.Graphs);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static void WriteGraph(Utf8JsonWriter w, CanGraph g)
    {
        w.WriteStartObject();
        w.WriteNumber("start", g.Start);
        w.WriteNumber("frames", g.Frames);
        w.WriteNumber("duration_us", g.DurationUs);
        w.WriteNumber("attack_frames", g.AttackFrames);
        w.WriteString("split", g.Split);
        w.WriteStartArray("nodes");
        foreach (var n in g.Nodes)
        {
            w.WriteStartArray();
            w.WriteNumberValue(n.Id);
            w.WriteNumberValue(n.Count);
            w.WriteFiniteValue(n.MeanByte, "mean_byte");
            w.WriteFiniteValue(n.Entropy, "entropy");
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteStartArray("edges");
        foreach (var e in g.Edges)
        {
            w.WriteStartArray();
            w.WriteNumberValue(e.Src);
            w.WriteNumberValue(e.Dst);
            w.WriteNumberValue(e.Weight);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static GraphSet Read(string dir)
    {
        const string fix = "run 'preprocess' for this dataset first (or check --cache)";
        var indexPath = Path.Combine(dir, IndexFile);
        int window, stride, count;
        using (var index = JsonFile.Read(indexPath, "graph cache index", fix))
        {
            var r = new JsonRead(index.RootElement, indexPath);
            if (r.Str("format") != Format) throw r.Bad($"graph cache format '{r.Str("format")}' is not {Format}");
            (window, stride, count) = (r.Int("window"), r.Int("stride"), r.Int("graphs"));
        }
        var graphsPath = Path.Combine(dir, GraphsFile);
        using var doc = JsonFile.Read(graphsPath, "graph cache", fix);
        var root = new JsonRead(doc.RootElement, graphsPath);
        var graphs = root.Items("graphs").Select(ReadGraph).ToList();
        if (graphs.Count != count) throw root.Bad($"holds {graphs.Count} graphs but {IndexFile} says {count}");
        if (graphs.Count == 0) throw root.Bad("the cache holds no graphs (fewer frames than one window)");
        if (!graphs.Any(g => g.Split == CanGraph.Train) || !graphs.Any(g => g.Split == CanGraph.Test))
            throw root.Bad("the cache needs both training and test graphs; use more frames or a smaller window/stride");
        return new GraphSet(window, stride, graphs);
    }

    private static CanGraph ReadGraph(JsonRead g)
    {
        try
        {
            var nodes = g.Element.GetProperty("nodes").EnumerateArray().Select(n => new GraphNode(
                n[0].GetUInt32(), n[1].GetInt32(), n[2].GetDouble(), n[3].GetDouble())).ToList();
            var edges = g.Element.GetProperty("edges").EnumerateArray().Select(e => new GraphEdge(
                e[0].GetInt32(), e[1].GetInt32(), e[2].GetInt32())).ToList();
            var (start, frames, attacks) = (g.Int("start"), g.Int("frames"), g.Int("attack_frames"));
            if (nodes.Count == 0 || edges.Any(e => e.Src >= nodes.Count || e.Dst >= nodes.Count || e.Src < 0 || e.Dst < 0))
                throw g.Bad($"graph at frame {start} has no nodes or an edge to a missing node");
            // The features divide by these and take logs of the duration: out-of-range values
            // (a hand-edited or foreign cache) would turn into NaN two stages later.
            var duration = g.Num("duration_us");
            if (frames < 2 || attacks < 0 || attacks > frames || duration < 0
                || nodes.Any(n => n.Count < 1 || n.MeanByte is < 0 or > 1 || n.Entropy is < 0 or > 1))
                throw g.Bad($"graph at frame {start} has values out of range (frames >= 2, 0 <= attack_frames <= frames, duration_us >= 0, node statistics in [0, 1])");
            var split = g.Str("split");
            if (split is not (CanGraph.Train or CanGraph.Test)) throw g.Bad($"unknown split '{split}'");
            return new CanGraph(start, frames, (long)duration, attacks, split, nodes, edges);
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or IndexOutOfRangeException or FormatException)
        {
            throw g.Bad("a graph entry is malformed");
        }
    }
}
